/**
 * The deepjazz grammar token codec (deepjazz-grammar.md §5): `TYPE,DUR` or `TYPE,DUR,<UP,LO>`,
 * where UP/LO are the melodic interval from the previous note ± a minor third, spelled music21-style.
 */
import { analyzeChord, classifyNote, type ChordAnalysis } from './chord.ts';
import { intervalBetween, intervalName, spell, type Midi } from './pitch.ts';
import { formatQuarters, parseQuarters, type Twelfths } from './time.ts';
import { UserError } from './errors.ts';

export type TokenType = 'C' | 'S' | 'A' | 'X' | 'R';

export interface GrammarToken {
  readonly type: TokenType;
  readonly dur: Twelfths;
  /** Interval bounds from the previous note; absent on the first note and on rests. */
  readonly bracket?: { readonly up: string; readonly lo: string };
}

/** A chord sounding from `onset` (twelfths from the start of its bar). */
export interface ChordEvent {
  readonly onset: Twelfths;
  readonly pitches: readonly Midi[];
}

/** One melody element within a bar: a note (midi) or a rest (null). */
export interface MelodyElement {
  readonly onset: Twelfths;
  readonly dur: Twelfths;
  readonly midi: Midi | null;
}

export class TokenFormatError extends UserError {
  override readonly name = 'TokenFormatError';
}

/** A token's rhythm alone: its length, a rest marked apart from a note. @example rhythmClass({ type: 'R', dur: 6 }) // => 'r6' */
export const rhythmClass = (t: GrammarToken): string => (t.type === 'R' ? `r${t.dur}` : String(t.dur));

/** Formats a token. @example formatToken({ type: 'C', dur: 3, bracket: { up: 'm2', lo: 'P-4' } }) // => 'C,0.250,<m2,P-4>' */
export function formatToken(t: GrammarToken): string {
  const head = `${t.type},${formatQuarters(t.dur)}`;
  return t.bracket ? `${head},<${t.bracket.up},${t.bracket.lo}>` : head;
}

const TOKEN_RE = /^([CSAXR]),(\d+\.\d{3})(?:,<([^,<>]+),([^,<>]+)>)?$/;

/** Parses a token string; throws TokenFormatError naming the token when it is malformed. */
export function parseToken(text: string): GrammarToken {
  const m = TOKEN_RE.exec(text);
  if (!m) throw new TokenFormatError(`malformed grammar token '${text}'`);
  const dur = parseQuarters(m[2] as string);
  if (dur === null) throw new TokenFormatError(`token '${text}': duration is not on the 1/12-quarter grid`);
  const type = m[1] as TokenType;
  if (m[3] !== undefined && m[4] !== undefined) {
    if (type === 'R') throw new TokenFormatError(`token '${text}': a rest has no interval bracket`);
    return { type, dur, bracket: { up: m[3], lo: m[4] } };
  }
  return { type, dur };
}

/** The bracket for a move from `prev` to `midi`: the real interval plus and minus a minor third (§5.4). */
export function bracketFor(prev: Midi, midi: Midi): { up: string; lo: string } {
  const { steps, semis } = intervalBetween(spell(prev), spell(midi));
  return { up: intervalName(steps + 2, semis + 3), lo: intervalName(steps - 2, semis - 3) };
}

/** The chord governing time `t`: the last one whose onset ≤ t, else the first (§5.1); chords in onset order. */
export function governingChord<C extends { readonly onset: number }>(chords: readonly C[], t: number): C {
  // binary search for the last onset ≤ t: a solo of thousands of bars asks once per note
  let lo = 0;
  let hi = chords.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((chords[mid] as C).onset <= t) lo = mid + 1;
    else hi = mid;
  }
  const chord = chords[lo - 1] ?? chords[0];
  if (!chord) throw new RangeError('governingChord: no chords');
  return chord;
}

export interface AnalyzedChord extends ChordEvent {
  readonly analysis: ChordAnalysis;
}

export const analyzeChordEvent = (c: ChordEvent): AnalyzedChord => ({
  ...c,
  analysis: analyzeChord(c.pitches),
});

/**
 * Encodes one bar's melody against its chords. `prev` is the previous note (null resets the
 * interval chain, as the faithful profile does at every bar); returns the tokens and the new prev.
 */
export function encodeBar(
  elements: readonly MelodyElement[],
  chords: readonly AnalyzedChord[],
  prev: Midi | null,
): { tokens: GrammarToken[]; prev: Midi | null } {
  const tokens: GrammarToken[] = [];
  for (const e of elements) {
    if (e.midi === null) {
      tokens.push({ type: 'R', dur: e.dur });
      continue;
    }
    const chord = governingChord(chords, e.onset);
    const type = classifyNote(e.midi, chord.analysis);
    tokens.push(
      prev === null ? { type, dur: e.dur } : { type, dur: e.dur, bracket: bracketFor(prev, e.midi) },
    );
    prev = e.midi;
  }
  return { tokens, prev };
}
