import { describe, expect, it } from 'vitest';
import { createRng } from '../src/music/rng.ts';

describe('the seeded rng', () => {
  it('shuffles in place into a permutation, the same one for the same seed, drawing as Fisher–Yates does', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = createRng(11).shuffle([...items]);
    expect([...a].sort((x, y) => x - y)).toEqual(items);
    expect(a).not.toEqual(items);
    expect(createRng(11).shuffle([...items])).toEqual(a);
    expect(createRng(12).shuffle([...items])).not.toEqual(a);
    // the draws a held-out split was made with before shuffle existed: int(i + 1) from the end
    const rng = createRng(11);
    const byHand = [...items];
    for (let i = byHand.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [byHand[i], byHand[j]] = [byHand[j] as number, byHand[i] as number];
    }
    expect(a).toEqual(byHand);
    const same = [1];
    expect(createRng(1).shuffle(same)).toBe(same);
  });
});
