/**
 * The project's units, in one place. Each is a plain number under a name that says what it counts, so
 * a signature reads as what it takes (`start: Twelfths`, `at: Millis`); conversions happen at the
 * edges (a MIDI file's ticks, the live clock's milliseconds, the SMF writer's quarters).
 */

/** Wall-clock milliseconds (the live path's clock). */
export type Millis = number;
/** Musical time in twelfths of a quarter note: the union of the sixteenth and eighth-triplet grids, exact in integers. */
export type Twelfths = number;
/** Quarter notes (beats in 4/4). */
export type Quarters = number;
/** A MIDI file's ticks (its header says how many make a quarter). */
export type Ticks = number;
/** A MIDI note number, 0–127. */
export type Midi = number;

export const TWELFTHS_PER_QUARTER = 12;

/** A time signature as written: 3/4, 6/8. */
export interface TimeSignature {
  readonly numerator: number;
  readonly denominator: number;
}

/** A bar of `numerator`/`denominator` in twelfths of a quarter: the one bar-length formula. */
export function barTwelfths(numerator: number, denominator: number): Twelfths {
  return Math.round((numerator * 4 * TWELFTHS_PER_QUARTER) / denominator);
}
