/** A live rig (live/rig.ts) over jzz in-process ports on a virtual clock, for end-to-end tests. */
import type { MidiMessage } from '../src/midi/messages.ts';
import { parseMessage } from '../src/midi/messages.ts';
import type { LiveSession } from '../src/live/liveSession.ts';
import { jzzListen, jzzSendTo } from '../src/midi/ports.ts';
import { buildRig, type RigEnv } from '../src/live/rig.ts';
import { parseSetup, type LiveSetupInput } from '../src/live/setup.ts';
import { VirtualClock } from '../src/midi/clock.ts';
import type { LstmSession } from '../src/model/lstmSession.ts';

let n = 0;

export interface Harness {
  clock: VirtualClock;
  live: LiveSession;
  out: { time: number; message: MidiMessage }[];
  send(bytes: number[]): Promise<void>;
  run(ms: number): Promise<void>;
  play(notes: [number, number, number][]): Promise<void>;
  close(): Promise<void>;
  sessions: readonly LstmSession[];
}

const realPause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A started rig built from `setup` (a live setup, as a config file would give it; seed 10 unless
 * given), its ports jzz ports of its own; `env` adds what needs the harness's clock (a stand-in Link)
 * or a log.
 */
export async function liveHarness(
  setup: LiveSetupInput = {},
  env: (clock: VirtualClock) => Partial<Omit<RigEnv, 'clock'>> = () => ({}),
): Promise<Harness> {
  const id = `${process.pid}-${++n}`;
  const clock = new VirtualClock();
  const out: { time: number; message: MidiMessage }[] = [];
  const rig = await buildRig(
    parseSetup({ seed: 10, ...setup, input: `jzz:Keys ${id}`, output: `jzz:Improviser ${id}` }),
    { clock, log: () => undefined, ...env(clock) },
  );
  const session = rig.live;
  const stop = jzzListen(`Improviser ${id}`, (b) => {
    const m = parseMessage(b);
    if (m) out.push({ time: clock.now(), message: m });
  });
  const toKeys = jzzSendTo(`Keys ${id}`);
  const h: Harness = {
    clock,
    live: session,
    out,
    sessions: rig.sessions,
    async send(bytes) {
      toKeys(bytes);
      await realPause(1);
    },
    run: (ms) => advance(clock, ms, () => session.engine.whenSettled()),
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
      await rig.close();
      await realPause(5);
      stop();
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

/**
 * Advances a virtual clock in 25 ms steps, letting async work (ORT runs) settle between them. With
 * `settled` (the engine's whenSettled), each step also waits until the generation in flight has ended,
 * so a line takes no virtual time however slowly this machine runs the model: what a test sees does
 * not depend on the machine's load. Without it, a loaded machine's slower ORT runs ended later in
 * virtual time, and a tempo change or a chord change met them at another place.
 */
export async function advance(clock: VirtualClock, ms: number, settled?: () => Promise<void>): Promise<void> {
  for (let t = 0; t < ms; t += 25) {
    clock.advance(Math.min(25, ms - t));
    await realPause(1);
    await settled?.();
  }
}
