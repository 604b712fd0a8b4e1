/** Our engine on a real clock in a Link session, the jazz model playing over ii–V–I (the tests and the bench). */
import type { EngineMode } from '../../src/live/engine.ts';
import { LstmSession } from '../../src/model/lstmSession.ts';
import { captureRig, type CaptureRig } from '../rigs.ts';

export interface LinkRig extends CaptureRig {
  readonly log: string[];
  close(): Promise<void>;
}

export async function linkRig(mode: EngineMode, opts: { startStop?: boolean } = {}): Promise<LinkRig> {
  const session = await LstmSession.load('models/jazz');
  const log: string[] = [];
  const rig = await captureRig(
    [session],
    { mode, seed: 3, clock: 'link', link: { startStop: opts.startStop ?? true } },
    () => ({ log: (l) => log.push(l) }),
  );
  return {
    ...rig,
    log,
    async close() {
      await rig.rig.close();
      await session.dispose();
    },
  };
}

/** The note-ons sent after `from` (performance.now()). */
export const noteOnsAfter = (rig: CaptureRig, from: number): { at: number; note: number }[] =>
  rig.sent.flatMap((s) => (s.at >= from && s.m.type === 'noteon' ? [{ at: s.at, note: s.m.note }] : []));
