/**
 * What a reader of the page sees of a tune's shape: how many bars add up to the meter, how the tune
 * falls into parts and how long each is, how long it is, and whether it ends on the key's tonic. The
 * quality report and the lint judge generated tunes by it, and human tunes score the same way.
 */
import { readAbc, RIGHT_FITS, type AbcEvent } from './reader.ts';

export interface TuneShape {
  /** Bars judged against the meter (pickups and closing bars included, empty ones not). */
  readonly barsJudged: number;
  /** Of those, the ones of the right length (see BarFit). */
  readonly barsRight: number;
  /** Bars as written, pickups not counted. */
  readonly bars: number;
  /** Bars of each part as written (a part with endings counts its first ending). */
  readonly parts: readonly number[];
  /** The last note's pitch class is the tonic of K:; null when the tune has no notes or no key. */
  readonly tonicEnding: boolean | null;
}

const LETTER_PC: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };

/** The tonic's pitch class of a K: value ('D Major' → 2, 'F#m' → 6); null for none. */
export function tonicOf(key: string): number | null {
  const m = /^([A-G])([#b]?)/.exec(key.trim());
  if (!m) return null;
  const alter = m[2] === '#' ? 1 : m[2] === 'b' ? -1 : 0;
  return ((LETTER_PC[m[1] as string] as number) + alter + 12) % 12;
}

/** The shape of the first tune in `text`. */
export function tuneShape(text: string): TuneShape {
  return shapeOf(readAbc(text).events);
}

export function shapeOf(events: readonly AbcEvent[]): TuneShape {
  let barsJudged = 0;
  let barsRight = 0;
  let bars = 0;
  const parts: number[] = [];
  let current = 0;
  let inSecondEnding = false;
  let tonic: number | null = null;
  let lastPitch: number | null = null;
  for (const e of events) {
    if (e.type === 'header' && e.field === 'K') tonic = tonicOf(e.value);
    if (e.type === 'note') lastPitch = e.pitch;
    if (e.type !== 'bar' && e.type !== 'tune-end') continue;
    if (e.fit !== 'empty') {
      barsJudged++;
      if (RIGHT_FITS.has(e.fit)) barsRight++;
      if (e.fit !== 'pickup') {
        bars++;
        if (!inSecondEnding) current++;
      }
    }
    if (e.type === 'tune-end') break;
    const partEnd = e.repeatEnd || /\|\]|\|\|/.test(e.text) || (e.repeatStart && current > 0);
    if (partEnd) {
      if (current > 0) parts.push(current);
      current = 0;
      inSecondEnding = false;
    }
    if (e.ending === 2) inSecondEnding = true;
  }
  if (current > 0) parts.push(current);
  return {
    barsJudged,
    barsRight,
    bars,
    parts,
    tonicEnding: tonic === null || lastPitch === null ? null : lastPitch % 12 === tonic,
  };
}
