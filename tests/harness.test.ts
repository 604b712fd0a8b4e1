/**
 * The live harness's own promise: what a test sees does not depend on how fast this machine runs the
 * model (CI boxes are loaded 2-core machines). A generation takes no virtual time, so a model made
 * slower plays the same notes at the same virtual times.
 */
import { describe, expect, it } from 'vitest';
import { LstmSession } from '../src/model/lstmSession.ts';
import { liveHarness, noteOns } from './liveHarness.ts';

const played = async (delayMs: number): Promise<number[][]> => {
  // the method itself, to put back and to call with each session as `this` (hence unbound)
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const step = LstmSession.prototype.step;
  if (delayMs > 0)
    LstmSession.prototype.step = async function (this: LstmSession, ...args: Parameters<typeof step>) {
      await new Promise((r) => setTimeout(r, delayMs)); // a loaded machine: every model step later
      return step.apply(this, args);
    };
  try {
    const h = await liveHarness({ mode: 'solo' });
    await h.run(4000);
    const notes = noteOns(h.out).map((n) => [n.time, n.message.note]);
    await h.close();
    return notes;
  } finally {
    LstmSession.prototype.step = step;
  }
};

describe('the live harness', () => {
  it('plays the same notes at the same virtual times when every model step takes 3 ms longer', async () => {
    const fast = await played(0);
    expect(fast.length).toBeGreaterThan(8);
    expect(await played(3)).toEqual(fast);
  });
});
