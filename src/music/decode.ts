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
 * - durations stay on their 1/12-quarter grid (no random up/down rounding, no zero-length notes);
 * - where the line played an interval at this place a bar, two bars or a phrase ago and the token's
 *   bracket holds it, that interval is taken (the echo), so a restatement the model chose sounds as
 *   one; otherwise a pitch of the bracket is drawn;
 * - the line's last note goes home (the key's tonic) where its type and bracket allow (a cadence);
 * - with a key (musicalKey.ts), a scale, approach or other tone is taken in the key where the bracket
 *   holds one (G over Em in a G tune, not G♯); where it holds none, the nearest such tone in the key
 *   within a tone of the bracket, else the nearest chord tone (counted as a fallback). Chord tones stay
 *   chord tones. Without a key (the seed's profile) nothing changes.
 */
import { classifyNote, type ChordAnalysis } from './chord.ts';
import { governingChord, type GrammarToken } from './grammar.ts';
import { inKeyOrChord, type MusicalKey } from './musicalKey.ts';
import { intervalSemitones, type Midi } from './pitch.ts';
import type { Rng } from './rng.ts';
import type { Twelfths } from './time.ts';
import type { TypedNote } from './note.ts';

export interface PitchRange {
  readonly low: Midi;
  readonly high: Midi;
}

export interface DecodeContext {
  readonly prev: Midi | null;
  readonly chord: ChordAnalysis;
  readonly range: PitchRange;
  readonly rng: Rng;
  /** The key the line is in (null or absent: the chord alone decides). */
  readonly key?: MusicalKey | null;
  /**
   * Intervals the line played at this place a phrase, two bars, a bar ago (conditioning.ts
   * `echoes`), in that order: where the token's bracket holds one of them, it is taken, so a token
   * the model chose to restate its past restates it note for note (else the bracket's pitch is drawn).
   */
  readonly echo?: readonly number[];
  /**
   * The line's last note (a cadence): the pitch class it goes home to (the key's tonic) where the
   * token's type and bracket hold it, ahead of an echo; absent: not the last note.
   */
  readonly home?: number;
}

/** The candidates on the cadence's pitch class (none without one). */
const homeOf = (candidates: readonly Midi[], ctx: DecodeContext): Midi[] =>
  ctx.home === undefined ? [] : candidates.filter((p) => ((p % 12) + 12) % 12 === ctx.home);

/** Whether a pitch is in the context's key, or a tone of its chord (always, without a key). */
const fitsKey = (p: Midi, ctx: DecodeContext): boolean =>
  inKeyOrChord(p, ctx.key ?? null, ctx.chord.pitchClasses);

/** How far outside its bracket a tone may be taken to stay in the key (semitones). */
const KEY_REACH = 2;

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

/**
 * The pitch in range of the wanted type nearest to `center` (ties broken at random), or null if none
 * exists (within `reach` semitones, when given); with a key, only pitches that fit it.
 */
function nearestOfType(
  type: GrammarToken['type'],
  center: number,
  ctx: DecodeContext,
  reach = Infinity,
): Midi | null {
  const { low, high } = ctx.range;
  const c = Math.min(Math.max(Math.round(center), low), high);
  for (let d = 0; d <= Math.min(high - low, reach); d++) {
    const options = [c - d, c + d].filter(
      (p, i, arr) =>
        p >= low &&
        p <= high &&
        arr.indexOf(p) === i &&
        classifyNote(p, ctx.chord) === type &&
        fitsKey(p, ctx),
    );
    if (options.length) return ctx.rng.pick(options);
  }
  return null;
}

/** The pitches of the wanted type that fit the key, or all of them where none does (null: none fit). */
const inKeyOrNull = (candidates: readonly Midi[], ctx: DecodeContext): Midi[] | null => {
  const kept = candidates.filter((p) => fitsKey(p, ctx));
  return kept.length || candidates.length === 0 ? kept : null;
};

/** Decodes one note token to a pitch; a rest returns null. */
export function decodeToken(token: GrammarToken, ctx: DecodeContext): DecodedPitch | null {
  if (token.type === 'R') return null;
  const { low, high } = ctx.range;
  const center = (low + high) / 2;
  if (!token.bracket || ctx.prev === null) {
    // No melodic anchor: a pitch of the right type in the middle octave of the range.
    const mid = [];
    for (let p = Math.ceil(center - 6); p <= Math.floor(center + 6); p++) {
      if (p >= low && p <= high && classifyNote(p, ctx.chord) === token.type && fitsKey(p, ctx)) mid.push(p);
    }
    const home = homeOf(mid, ctx);
    if (home.length) return { midi: ctx.rng.pick(home), fallback: false };
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
  const typed: Midi[] = [];
  for (let p = lo; p <= hi; p++) {
    if (p >= low && p <= high && classifyNote(p, ctx.chord) === token.type) typed.push(p);
  }
  const candidates = inKeyOrNull(typed, ctx);
  if (candidates === null) {
    // the bracket's tones of this type are all outside the key: the nearest one in it, else a chord tone
    const near = nearestOfType(token.type, (lo + hi) / 2, ctx, (hi - lo) / 2 + KEY_REACH);
    if (near !== null) return { midi: near, fallback: false };
    const chordTone = nearestOfType('C', (lo + hi) / 2, ctx);
    return { midi: chordTone ?? Math.min(Math.max(ctx.prev, low), high), fallback: true };
  }
  const home = homeOf(candidates, ctx);
  if (home.length) return { midi: ctx.rng.pick(home), fallback: false };
  for (const iv of ctx.echo ?? []) {
    const p = ctx.prev + iv;
    if (candidates.includes(p)) return { midi: p, fallback: false };
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

/** A decoded note: its type is what it is against the chord sounding at its start. */
export interface DecodedNote extends TypedNote {
  /** The token's type and bracket had no pitch in range: the nearest chord tone was taken instead. */
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
    /** The key the line is in (null: the chord alone decides). */
    private readonly key: MusicalKey | null = null,
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

  /**
   * Plays a given pitch (null: a rest) for `dur`, as a restatement does (the line's past decides it,
   * not a bracket); returns the note and moves time on.
   */
  pushPitch(dur: Twelfths, midi: Midi | null): DecodedNote | null {
    const start = this.t;
    this.t += dur;
    if (midi === null) return null;
    this.last = midi;
    return { start, dur, midi, type: classifyNote(midi, this.chordAt(start)), fallback: false };
  }

  /**
   * Decodes one token; returns the note (null for a rest) and moves time on by its duration. `echo`:
   * the intervals the line played at this place before (DecodeContext.echo); `home`: the pitch class
   * the line's last note goes to (DecodeContext.home).
   */
  push(token: GrammarToken, echo: readonly number[] = [], home?: number): DecodedNote | null {
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
      key: this.key,
      echo,
      home,
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
