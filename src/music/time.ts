/**
 * Musical time in integer twelfths of a quarter note (deepjazz-grammar.md §2.3): the union of the
 * sixteenth and the eighth-triplet grids, exact in integers, no floating-point drift.
 */
import { TWELFTHS_PER_QUARTER, type Ticks, type Twelfths } from './units.ts';

export { barTwelfths, TWELFTHS_PER_QUARTER, type Quarters, type Twelfths } from './units.ts';

/**
 * Snaps ticks to the nearest point of the 1/4 ∪ 1/3 quarter grid, ties to the lower point (§2.3, P78).
 * @example quantizeTicks(13, 96) // => 3 (13 ticks snap to 24 ticks, a sixteenth)
 */
export function quantizeTicks(ticks: Ticks, tpq: number): Twelfths {
  // Work in units of tpq/12 with exact rationals: value in twelfths = ticks*12/tpq.
  const candidates: number[] = [];
  for (const step of [3, 4]) {
    // grid points are multiples of `step` twelfths (3 = sixteenth, 4 = triplet eighth)
    const x = (ticks * 12) / tpq / step;
    const lo = Math.floor(x);
    const frac = x - lo;
    // nearest within this grid, a half-way tie goes to the lower point
    candidates.push((frac > 0.5 + 1e-12 ? lo + 1 : lo) * step);
  }
  const value = (ticks * 12) / tpq;
  const [a, b] = candidates as [number, number];
  const da = Math.abs(a - value);
  const db = Math.abs(b - value);
  if (Math.abs(da - db) < 1e-9) return Math.min(a, b);
  return da < db ? a : b;
}

/** Formats a duration in quarters with three decimals, as the grammar writes it. @example formatQuarters(3) // => '0.250' */
export function formatQuarters(t: Twelfths): string {
  return (t / TWELFTHS_PER_QUARTER).toFixed(3);
}

/** Parses a grammar duration ('0.333') back to twelfths, or null when it is not on the 1/12 grid. */
export function parseQuarters(text: string): Twelfths | null {
  const q = Number(text);
  if (!Number.isFinite(q) || q < 0) return null;
  const t = Math.round(q * TWELFTHS_PER_QUARTER);
  return Math.abs(t / TWELFTHS_PER_QUARTER - q) < 0.0006 ? t : null;
}
