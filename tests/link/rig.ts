/** Our engine in a Link session: the jazz model on a real clock, its sends captured with their times. */
import { parseProgression } from '../../src/music/chordSymbols.ts';
import { createRng } from '../../src/music/rng.ts';
import { openLink } from '../../src/midi/link.ts';
import { DEFAULT_LIVE_OPTIONS, LiveSession } from '../../src/midi/live.ts';
import type { MidiMessage } from '../../src/midi/messages.ts';
import { RealClock } from '../../src/runtime/clock.ts';
import { DEFAULT_ENGINE_OPTIONS, Engine, type EngineMode } from '../../src/runtime/engine.ts';
import { improviserFor } from '../../src/runtime/improvisers.ts';
import { LstmSession } from '../../src/runtime/session.ts';

export interface LinkRig {
  readonly live: LiveSession;
  /** Every message sent, with performance.now() at the send. */
  readonly sent: { at: number; m: MidiMessage }[];
  readonly log: string[];
  close(): Promise<void>;
}

export async function linkRig(mode: EngineMode, opts: { startStop?: boolean } = {}): Promise<LinkRig> {
  const clock = new RealClock();
  const session = await LstmSession.load('models/jazz');
  const improviser = improviserFor(
    session,
    createRng(3),
    { temperature: 1, topK: 0, topP: 0.95 },
    { low: 55, high: 84 },
    { numerator: 4, denominator: 4 },
  );
  const sent: { at: number; m: MidiMessage }[] = [];
  const log: string[] = [];
  const link = openLink({
    clock,
    barQuarters: 4,
    startStop: opts.startStop ?? true,
    log: (l) => log.push(l),
  });
  const live = new LiveSession(
    {
      ...DEFAULT_LIVE_OPTIONS,
      clock,
      input: null,
      output: {
        name: 'capture',
        send: (m) => void sent.push({ at: performance.now(), m }),
        close: () => Promise.resolve(),
      },
      clockSource: 'link',
      link,
      log: (l) => log.push(l),
    },
    (emit) =>
      new Engine(
        [improviser],
        clock,
        { ...DEFAULT_ENGINE_OPTIONS, mode, progression: parseProgression('Dm7 G7 Cmaj7 Cmaj7', 48) },
        emit,
      ),
  );
  live.start();
  return {
    live,
    sent,
    log,
    async close() {
      await live.stop();
      await session.dispose();
    },
  };
}

/** The note-ons sent after `from` (performance.now()). */
export const noteOnsAfter = (rig: LinkRig, from: number): { at: number; note: number }[] =>
  rig.sent.flatMap((s) => (s.at >= from && s.m.type === 'noteon' ? [{ at: s.at, note: s.m.note }] : []));
