/**
 * Pitch spelling and interval naming exactly as music21 does them (deepjazz-grammar.md §4.1–4.2).
 * tonal spells MIDI with all sharps or all flats and names G#→G "-1A" where music21 says "d1",
 * so these few rules are written by hand; tonal parses the names back to semitones.
 */
import { Interval } from 'tonal';

import type { Midi } from './units.ts';

export type { Midi } from './units.ts';

/** Letter index C D E F G A B = 0..6. */
export type Letter = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export interface SpelledPitch {
  readonly letter: Letter;
  readonly octave: number;
  readonly alter: number;
}

const LETTERS = ['C', 'D', 'E', 'F', 'G', 'A', 'B'] as const;
export const NATURAL = [0, 2, 4, 5, 7, 9, 11] as const;

/** music21's default spelling per pitch class: C C# D E- E F F# G G# A B- B. */
const DEFAULT_SPELLING: readonly (readonly [Letter, number])[] = [
  [0, 0],
  [0, 1],
  [1, 0],
  [2, -1],
  [2, 0],
  [3, 0],
  [3, 1],
  [4, 0],
  [4, 1],
  [5, 0],
  [6, -1],
  [6, 0],
];

/** Spells a MIDI number with music21's default table. @example spell(63) // => E-4 */
export function spell(midi: Midi): SpelledPitch {
  const pc = ((midi % 12) + 12) % 12;
  const [letter, alter] = DEFAULT_SPELLING[pc] as readonly [Letter, number];
  return { letter, alter, octave: Math.floor(midi / 12) - 1 };
}

export function diatonicNumber(p: SpelledPitch): number {
  return 7 * p.octave + p.letter;
}

export function pitchSpace(p: SpelledPitch): number {
  return 12 * (p.octave + 1) + NATURAL[p.letter] + p.alter;
}

export function pitchClass(p: SpelledPitch): number {
  return ((pitchSpace(p) % 12) + 12) % 12;
}

/** Name without octave, music21 style (flats as '-'). @example pitchName(spell(70)) // => 'B-' */
export function pitchName(p: SpelledPitch): string {
  const acc = p.alter > 0 ? '#'.repeat(p.alter) : '-'.repeat(-p.alter);
  return LETTERS[p.letter] + acc;
}

/** Name with octave. @example nameWithOctave(spell(63)) // => 'E-4' */
export function nameWithOctave(p: SpelledPitch): string {
  return pitchName(p) + String(p.octave);
}

/** The letter of a note name in tonal or music21 spelling ('Bb', 'B-', 'C#'). */
export function letterOf(name: string): Letter {
  const i = LETTERS.indexOf(name.charAt(0).toUpperCase() as (typeof LETTERS)[number]);
  if (i < 0) throw new RangeError(`letterOf: not a note name: '${name}'`);
  return i as Letter;
}

/** Names an interval from (diatonic steps, semitones) as music21's directedName does (§4.2). */
export function intervalName(steps: number, semis: number): string {
  let sign = '';
  if (steps < 0) {
    steps = -steps;
    semis = -semis;
    sign = '-';
  }
  const simple = steps % 7;
  const base = NATURAL[simple as Letter] + 12 * Math.floor(steps / 7);
  const diff = semis - base;
  let quality: string;
  if (simple === 0 || simple === 3 || simple === 4) {
    quality = diff === 0 ? 'P' : diff > 0 ? 'A'.repeat(diff) : 'd'.repeat(-diff);
  } else if (diff === 0) quality = 'M';
  else if (diff === -1) quality = 'm';
  else if (diff > 0) quality = 'A'.repeat(diff);
  else quality = 'd'.repeat(-diff - 1);
  return `${quality}${sign}${steps + 1}`;
}

/** The directed interval between two spelled pitches, as (steps, semis). */
export function intervalBetween(a: SpelledPitch, b: SpelledPitch): { steps: number; semis: number } {
  return { steps: diatonicNumber(b) - diatonicNumber(a), semis: pitchSpace(b) - pitchSpace(a) };
}

/** Semitones of a music21-style interval name, through tonal. @example intervalSemitones('m-2') // => -1 */
export function intervalSemitones(name: string): number | null {
  const semis = Interval.get(name).semitones;
  return typeof semis === 'number' && Number.isFinite(semis) ? semis : null;
}
