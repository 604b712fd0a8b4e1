/**
 * Grammar post-processing: a token plus the sounding chord → a concrete pitch. The original's bugs
 * (deepjazz-grammar.md §9) are fixed here:
 * - notes start where the previous one ended (the original placed every note one slot late);
 * - the governing chord is looked up at the note's start and chords are never moved;
 * - the scale is the analysis scale (major/Dorian) at generation too, not a random blues scale;
 * - a candidate must have exactly the token's type (C, S, A or X, as the encoder would classify it),
 *   so X yields a truly "other" note and S never a chord tone;
 * - an octave range bounds the line (the original had only floors and drifted up to MIDI 110);
 * - when the bracket holds no pitch of the right type, the nearest such pitch in range is taken
 *   (the original stepped ± a whole tone with no check);
 * - durations stay on their 1/12-quarter grid (no random up/down rounding, no zero-length notes).
 */
import { classifyNote, type ChordAnalysis, type NoteType } from './chord.ts';
import { governingChord, type GrammarToken } from './grammar.ts';
import { intervalSemitones, type Midi } from './pitch.ts';
import type { Rng } from './rng.ts';
import type { Twelfths } from './time.ts';

export interface PitchRange {
  readonly low: Midi;
  readonly high: Midi;
}

export interface DecodeContext {
  readonly prev: Midi | null;
  readonly chord: ChordAnalysis;
  readonly range: PitchRange;
  readonly rng: Rng;
}

export interface DecodedPitch {
  readonly midi: Midi;
  /** True when no pitch of the token's type lay inside the interval bracket. */
  readonly fallback: boolean;
}

export function validateRange(range: PitchRange): PitchRange {
  if (!(Number.isInteger(range.low) && Number.isInteger(range.high) && range.low >= 0 && range.high <= 127)) {
    throw new RangeError(`pitch range must be MIDI 0–127, got ${range.low}–${range.high}`);
  }
  if (range.high - range.low < 12)
    throw new RangeError(`pitch range must span at least an octave, got ${range.low}–${range.high}`);
  return range;
}

/** The pitch in range of the wanted type nearest to `center` (ties broken at random), or null if none exists. */
function nearestOfType(type: GrammarToken['type'], center: number, ctx: DecodeContext): Midi | null {
  const { low, high } = ctx.range;
  const c = Math.min(Math.max(Math.round(center), low), high);
  for (let d = 0; d <= high - low; d++) {
    const options = [c - d, c + d].filter(
      (p, i, arr) => p >= low && p <= high && arr.indexOf(p) === i && classifyNote(p, ctx.chord) === type,
    );
    if (options.length) return ctx.rng.pick(options);
  }
  return null;
}

/** Decodes one note token to a pitch; a rest returns null. */
export function decodeToken(token: GrammarToken, ctx: DecodeContext): DecodedPitch | null {
  if (token.type === 'R') return null;
  const { low, high } = ctx.range;
  const center = (low + high) / 2;
  if (!token.bracket || ctx.prev === null) {
    // No melodic anchor: a pitch of the right type in the middle octave of the range.
    const mid = [];
    for (let p = Math.ceil(center - 6); p <= Math.floor(center + 6); p++) {
      if (p >= low && p <= high && classifyNote(p, ctx.chord) === token.type) mid.push(p);
    }
    if (mid.length) return { midi: ctx.rng.pick(mid), fallback: false };
    const near = nearestOfType(token.type, center, ctx) ?? nearestOfType('C', center, ctx);
    return { midi: near ?? Math.round(center), fallback: true };
  }
  const a = intervalSemitones(token.bracket.up);
  const b = intervalSemitones(token.bracket.lo);
  if (a === null || b === null) {
    throw new RangeError(
      `token bracket <${token.bracket.up},${token.bracket.lo}> is not a pair of intervals`,
    );
  }
  const lo = ctx.prev + Math.min(a, b);
  const hi = ctx.prev + Math.max(a, b);
  const candidates: Midi[] = [];
  for (let p = lo; p <= hi; p++) {
    if (p >= low && p <= high && classifyNote(p, ctx.chord) === token.type) candidates.push(p);
  }
  if (candidates.length > 1) {
    const moving = candidates.filter((p) => p !== ctx.prev);
    return { midi: ctx.rng.pick(moving.length ? moving : candidates), fallback: false };
  }
  if (candidates.length === 1) return { midi: candidates[0] as Midi, fallback: false };
  const near = nearestOfType(token.type, (lo + hi) / 2, ctx) ?? nearestOfType('C', (lo + hi) / 2, ctx);
  return { midi: near ?? Math.min(Math.max(ctx.prev, low), high), fallback: true };
}

/** The chord pitch class nearest to `center`, in that register. */
export function chordToneNear(chord: ChordAnalysis, center: number): Midi {
  let best = Math.round(center);
  let bestD = Infinity;
  for (let p = Math.round(center) - 6; p <= Math.round(center) + 6; p++) {
    const d = Math.abs(p - center);
    if (chord.pitchClasses.has(((p % 12) + 12) % 12) && d < bestD) {
      best = p;
      bestD = d;
    }
  }
  return best;
}

export interface DecodedNote {
  readonly start: Twelfths;
  readonly dur: Twelfths;
  readonly midi: Midi;
  /** What the note is against the chord sounding at its start. */
  readonly type: NoteType;
  readonly fallback: boolean;
}

/**
 * Decodes a stream of tokens into a timeline: each note starts where the previous element ended, is
 * decoded against the chord sounding at its start, and chains its interval from the previous note.
 * A line with no previous note is anchored on the chord tone nearest the middle of the range (the
 * original crashed on a bracketed first token and resampled up to 1000 times to avoid one).
 */
export class LineDecoder {
  private t: Twelfths;
  private last: Midi | null;
  /** The chord sounding at a time. */
  readonly chordAt: (t: Twelfths) => ChordAnalysis;

  constructor(
    chords:
      | readonly { readonly onset: Twelfths; readonly analysis: ChordAnalysis }[]
      | ((t: Twelfths) => ChordAnalysis),
    private readonly range: PitchRange,
    private readonly rng: Rng,
    start: Twelfths = 0,
    prev: Midi | null = null,
  ) {
    if (typeof chords === 'function') this.chordAt = chords;
    else {
      if (chords.length === 0) throw new RangeError('LineDecoder: no chords');
      this.chordAt = (t) => governingChord(chords, t).analysis;
    }
    this.t = start;
    this.last = prev;
  }

  /** Time where the next element starts. */
  get time(): Twelfths {
    return this.t;
  }

  get prev(): Midi | null {
    return this.last;
  }

  /** Decodes one token; returns the note (null for a rest) and moves time on by its duration. */
  push(token: GrammarToken): DecodedNote | null {
    const start = this.t;
    this.t += token.dur;
    if (token.type === 'R') return null;
    const chord = this.chordAt(start);
    const anchor = this.last ?? chordToneNear(chord, (this.range.low + this.range.high) / 2);
    const pitch = decodeToken(token, {
      prev: anchor,
      chord,
      range: this.range,
      rng: this.rng,
    }) as DecodedPitch;
    this.last = pitch.midi;
    return {
      start,
      dur: token.dur,
      midi: pitch.midi,
      type: classifyNote(pitch.midi, chord),
      fallback: pitch.fallback,
    };
  }
}
