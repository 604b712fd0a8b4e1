/**
 * Our engine on a real clock, the jazz model playing over ii–V–I, every message it sends captured
 * with its time: in a Link session (the tests and the bench), or following whatever clock source the
 * caller gives it (the bench's MIDI clock beside Link).
 */
import { parseProgression } from '../../src/music/chordSymbols.ts';
import { createRng } from '../../src/music/rng.ts';
import { openLink } from '../../src/midi/link.ts';
import { DEFAULT_LIVE_OPTIONS, LiveSession, type LiveOptions } from '../../src/midi/live.ts';
import type { MidiMessage } from '../../src/midi/messages.ts';
import { RealClock } from '../../src/runtime/clock.ts';
import { DEFAULT_ENGINE_OPTIONS, Engine, type EngineMode } from '../../src/runtime/engine.ts';
import { improviserFor } from '../../src/runtime/improvisers.ts';
import { LstmSession } from '../../src/runtime/session.ts';

export interface CaptureRig {
  readonly live: LiveSession;
  readonly clock: RealClock;
  /** Every message sent, with performance.now() at the send. */
  readonly sent: { at: number; m: MidiMessage }[];
}

/** A started live session on `session`'s model; `live` picks the clock source (and link or input). */
export function captureRig(
  session: LstmSession,
  mode: EngineMode,
  seed: number,
  live: (clock: RealClock) => Partial<LiveOptions>,
): CaptureRig {
  const clock = new RealClock();
  const sent: { at: number; m: MidiMessage }[] = [];
  const improviser = improviserFor(
    session,
    createRng(seed),
    { temperature: 1, topK: 0, topP: 0.95 },
    { low: 55, high: 84 },
    { numerator: 4, denominator: 4 },
  );
  const liveSession = new LiveSession(
    {
      ...DEFAULT_LIVE_OPTIONS,
      clock,
      input: null,
      output: {
        name: 'capture',
        send: (m) => void sent.push({ at: performance.now(), m }),
        close: () => Promise.resolve(),
      },
      log: () => undefined,
      ...live(clock),
    },
    (emit) =>
      new Engine(
        [improviser],
        clock,
        { ...DEFAULT_ENGINE_OPTIONS, mode, progression: parseProgression('Dm7 G7 Cmaj7 Cmaj7', 48) },
        emit,
      ),
  );
  liveSession.start();
  return { live: liveSession, clock, sent };
}

export interface LinkRig extends CaptureRig {
  readonly log: string[];
  close(): Promise<void>;
}

export async function linkRig(mode: EngineMode, opts: { startStop?: boolean } = {}): Promise<LinkRig> {
  const session = await LstmSession.load('models/jazz');
  const log: string[] = [];
  const rig = captureRig(session, mode, 3, (clock) => ({
    clockSource: 'link',
    link: openLink({ clock, barQuarters: 4, startStop: opts.startStop ?? true, log: (l) => log.push(l) }),
    log: (l) => log.push(l),
  }));
  return {
    ...rig,
    log,
    async close() {
      await rig.live.stop();
      await session.dispose();
    },
  };
}

/** The note-ons sent after `from` (performance.now()). */
export const noteOnsAfter = (rig: CaptureRig, from: number): { at: number; note: number }[] =>
  rig.sent.flatMap((s) => (s.at >= from && s.m.type === 'noteon' ? [{ at: s.at, note: s.m.note }] : []));
