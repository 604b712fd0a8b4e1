/**
 * Rigs for tests and benches, built by the product's one rig builder (src/live/rig.ts) from a live
 * setup: a rig whose every sent message is captured with its time, and an input port the caller feeds.
 */
import type { MidiMessage } from '../src/midi/messages.ts';
import type { MidiInPort } from '../src/midi/ports.ts';
import { buildRig, type Rig, type RigEnv } from '../src/live/rig.ts';
import { parseSetup, type LiveSetupInput } from '../src/live/setup.ts';
import { RealClock } from '../src/midi/clock.ts';
import type { LstmSession } from '../src/model/lstmSession.ts';

/** An input port whose messages come from `deliver` (a script, a DAW's clock, garbage bytes). */
export interface FeedInput extends MidiInPort {
  readonly deliver: (m: MidiMessage) => void;
}

export function feedInput(name: string, extra: Partial<Pick<MidiInPort, 'available'>> = {}): FeedInput {
  const listeners: ((m: MidiMessage) => void)[] = [];
  return {
    name,
    onMessage: (cb) => void listeners.push(cb),
    deliver: (m) => listeners.forEach((cb) => cb(m)),
    dropped: 0,
    close: () => Promise.resolve(),
    ...extra,
  };
}

export interface CaptureRig {
  readonly rig: Rig;
  readonly live: Rig['live'];
  readonly clock: RealClock;
  /** Every message sent, with performance.now() at the send. */
  readonly sent: { at: number; m: MidiMessage }[];
}

/**
 * A started rig on the real clock playing `sessions`' models (loaded by the caller, who disposes of
 * them), every message it sends captured; `env` adds what needs the clock (a Link, an input).
 */
export async function captureRig(
  sessions: readonly LstmSession[],
  setup: LiveSetupInput,
  env: (clock: RealClock) => Partial<Omit<RigEnv, 'clock' | 'sessions' | 'output'>> = () => ({}),
): Promise<CaptureRig> {
  const clock = new RealClock();
  const sent: { at: number; m: MidiMessage }[] = [];
  const rig = await buildRig(parseSetup(setup), {
    clock,
    sessions,
    output: {
      name: 'capture',
      send: (m) => void sent.push({ at: performance.now(), m }),
      close: () => Promise.resolve(),
    },
    input: null,
    log: () => undefined,
    ...env(clock),
  });
  rig.live.start();
  return { rig, live: rig.live, clock, sent };
}
