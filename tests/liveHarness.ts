/** A live session over jzz in-process ports on a virtual clock, for end-to-end tests. */
import { parseProgression } from '../src/music/chordSymbols.ts';
import { createRng } from '../src/music/rng.ts';
import type { MidiMessage } from '../src/midi/messages.ts';
import { parseMessage } from '../src/midi/messages.ts';
import { DEFAULT_LIVE_OPTIONS, LiveSession, type LiveOptions } from '../src/midi/live.ts';
import { jzzListen, jzzSendTo, openInput, openOutput } from '../src/midi/ports.ts';
import { VirtualClock } from '../src/runtime/clock.ts';
import { DEFAULT_ENGINE_OPTIONS, Engine, type EngineOptions } from '../src/runtime/engine.ts';
import { improviserFor } from '../src/runtime/improvisers.ts';
import { JazzImproviser } from '../src/runtime/improviser.ts';
import { LstmSession } from '../src/runtime/session.ts';

let n = 0;

export interface Harness {
  clock: VirtualClock;
  live: LiveSession;
  out: { time: number; message: MidiMessage }[];
  send(bytes: number[]): Promise<void>;
  run(ms: number): Promise<void>;
  play(notes: [number, number, number][]): Promise<void>;
  close(): Promise<void>;
  sessions: LstmSession[];
}

const realPause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function liveHarness(
  engine: Partial<EngineOptions> = {},
  /** Options, or a function of the harness's clock giving them (for what needs the clock, like a Link). */
  live: Partial<LiveOptions> | ((clock: VirtualClock) => Partial<LiveOptions>) = {},
  models: string[] = ['models/jazz'],
  chords = 'Dm7 G7 Cmaj7 Cmaj7',
): Promise<Harness> {
  const id = `${process.pid}-${++n}`;
  const clock = new VirtualClock();
  const sessions = await Promise.all(models.map((m) => LstmSession.load(m)));
  const sampler = { temperature: 1, topK: 0, topP: 0.95 };
  const improvisers = sessions.map((s, i) =>
    improviserFor(s, createRng(10 + i), sampler, { low: 55, high: 84 }, { numerator: 4, denominator: 4 }),
  );
  const input = openInput(`jzz:Keys ${id}`, { clock });
  const output = openOutput(`jzz:Improviser ${id}`, { clock });
  const out: { time: number; message: MidiMessage }[] = [];
  const stop = jzzListen(`Improviser ${id}`, (b) => {
    const m = parseMessage(b);
    if (m) out.push({ time: clock.now(), message: m });
  });
  const session = new LiveSession(
    {
      ...DEFAULT_LIVE_OPTIONS,
      clock,
      input,
      output,
      log: () => undefined,
      ...(typeof live === 'function' ? live(clock) : live),
    },
    (emit) =>
      new Engine(
        improvisers,
        clock,
        { ...DEFAULT_ENGINE_OPTIONS, progression: parseProgression(chords, 48), ...engine },
        emit,
      ),
  );
  const toKeys = jzzSendTo(`Keys ${id}`);
  const h: Harness = {
    clock,
    live: session,
    out,
    sessions,
    async send(bytes) {
      toKeys(bytes);
      await realPause(1);
    },
    run: (ms) => advance(clock, ms),
    /** [note, start ms (relative to now), duration ms] */
    async play(notes) {
      const events = notes.flatMap(([note, start, dur]) => [
        { at: start, bytes: [0x90, note, 100] },
        { at: start + dur, bytes: [0x80, note, 0] },
      ]);
      events.sort((a, b) => a.at - b.at);
      let t = 0;
      for (const e of events) {
        if (e.at > t) {
          await h.run(e.at - t);
          t = e.at;
        }
        await h.send(e.bytes);
      }
    },
    async close() {
      await session.stop();
      await realPause(5);
      stop();
      await Promise.all(sessions.map((s) => s.dispose()));
    },
  };
  session.start();
  return h;
}

/** Note-on/off pairs in output order: every note-on must find its note-off. */
export function hanging(out: readonly { message: MidiMessage }[]): number {
  const open = new Map<number, number>();
  for (const { message: m } of out) {
    if (m.type === 'noteon')
      open.set(m.channel * 128 + m.note, (open.get(m.channel * 128 + m.note) ?? 0) + 1);
    if (m.type === 'noteoff') {
      const k = m.channel * 128 + m.note;
      const v = (open.get(k) ?? 0) - 1;
      if (v > 0) open.set(k, v);
      else open.delete(k);
    }
  }
  return [...open.values()].reduce((a, b) => a + b, 0);
}

export const noteOns = (out: readonly { time: number; message: MidiMessage }[]) =>
  out.filter((o) => o.message.type === 'noteon') as {
    time: number;
    message: Extract<MidiMessage, { type: 'noteon' }>;
  }[];

/** The shipped jazz model as an improviser, for tests that build their own live session. */
export async function jazzImproviser(topP = 0.95): Promise<{ session: LstmSession; im: JazzImproviser }> {
  const session = await LstmSession.load('models/jazz');
  return {
    session,
    im: new JazzImproviser(session, createRng(1), { temperature: 1, topK: 0, topP }, { low: 55, high: 84 }),
  };
}

/** Advances a virtual clock in 25 ms steps, letting async work (ORT runs) settle between them. */
export async function advance(clock: VirtualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 25) {
    clock.advance(Math.min(25, ms - t));
    await realPause(1);
  }
}
