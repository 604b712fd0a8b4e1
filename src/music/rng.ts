import seedrandom from 'seedrandom';

/** A seedable source of uniform numbers in [0, 1); every random choice in the project takes one. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T;
  /** Fair coin. */
  coin(): boolean;
  /** Shuffles `items` in place (Fisher–Yates, from the end: one int(i + 1) a place) and returns it. */
  shuffle<T>(items: T[]): T[];
}

/** Creates a deterministic RNG from a seed. @example createRng(7).int(10) // => same value every run */
export function createRng(seed: number | string): Rng {
  const prng = seedrandom(String(seed));
  const next = (): number => prng.quick();
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError('pick: items is empty');
      return items[int(items.length)] as T;
    },
    coin: () => next() < 0.5,
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [items[i], items[j]] = [items[j] as T, items[i] as T];
      }
      return items;
    },
  };
}
