/**
 * Jazz solo generation: sample grammar tokens from the stateful session (state carried across bars,
 * unlike the original, which re-seeded every bar) and decode them against the chord sounding at each
 * note's start. Output is a list of timed notes on the 1/12-quarter grid.
 */
import { analyzeChord, classifyNote, type ChordAnalysis, type NoteType } from '../music/chord.ts';
import { decodeToken, type PitchRange } from '../music/decode.ts';
import { BundleError } from '../music/errors.ts';
import { governingChord, parseToken, TokenFormatError, type ChordEvent, type GrammarToken } from '../music/grammar.ts';
import type { Midi } from '../music/pitch.ts';
import type { Rng } from '../music/rng.ts';
import type { Twelfths } from '../music/time.ts';
import { sample, type SamplerOptions } from './sampler.ts';
import type { LstmSession } from './session.ts';

export interface SoloNote {
  readonly start: Twelfths;
  readonly dur: Twelfths;
  readonly midi: Midi;
  /** The type the token asked for (what the note is against its chord). */
  readonly type: NoteType;
}

export interface PlacedChord {
  readonly start: Twelfths;
  readonly dur: Twelfths;
  readonly pitches: readonly Midi[];
}

export interface SoloOptions {
  readonly bars: number;
  /** Chords per bar, bar-relative onsets; looped when shorter than `bars`. */
  readonly progression: readonly (readonly ChordEvent[])[];
  readonly barLength: Twelfths;
  readonly sampler: SamplerOptions;
  readonly range: PitchRange;
  readonly rng: Rng;
}

export interface Solo {
  readonly notes: readonly SoloNote[];
  readonly chords: readonly PlacedChord[];
  readonly tokens: readonly string[];
  /** Notes whose token type could not be met inside its interval bracket. */
  readonly fallbacks: number;
}

/** Parses every vocabulary entry once; a bundle with a malformed token is refused. */
export function parseVocabulary(vocab: readonly string[], where: string): GrammarToken[] {
  return vocab.map((v, i) => {
    try {
      return parseToken(v);
    } catch (err) {
      if (err instanceof TokenFormatError) throw new BundleError(where, `vocabulary[${i}]`, err.message);
      throw err;
    }
  });
}

/** Places a looping progression on the timeline of `bars` bars; each chord lasts until the next. */
export function placeChords(progression: readonly (readonly ChordEvent[])[], bars: number, barLength: Twelfths): PlacedChord[] {
  const starts: { start: number; pitches: readonly Midi[] }[] = [];
  for (let b = 0; b < bars; b++) {
    for (const c of progression[b % progression.length] ?? []) starts.push({ start: b * barLength + c.onset, pitches: c.pitches });
  }
  const end = bars * barLength;
  return starts.map((c, i) => ({ start: c.start, pitches: c.pitches, dur: (starts[i + 1]?.start ?? end) - c.start }));
}

/** The chord pitch class nearest to `center`, placed in that register. */
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

/** Generates a solo of `bars` bars from a fresh session state. */
export async function generateSolo(session: LstmSession, opts: SoloOptions): Promise<Solo> {
  const tokens = parseVocabulary(session.vocabulary, 'bundle');
  const chords = placeChords(opts.progression, opts.bars, opts.barLength);
  const analyses = new Map<readonly Midi[], ChordAnalysis>();
  const analysisOf = (c: PlacedChord): ChordAnalysis => {
    let a = analyses.get(c.pitches);
    if (!a) analyses.set(c.pitches, (a = analyzeChord(c.pitches)));
    return a;
  };
  const chordsByOnset = chords.map((c) => ({ onset: c.start, chord: c }));
  const end = opts.bars * opts.barLength;
  const notes: SoloNote[] = [];
  const out: string[] = [];
  let fallbacks = 0;
  let prev: Midi | null = null;
  let t = 0;
  session.reset();
  let step = await session.step(session.startToken);
  while (t < end) {
    const id = sample(step.logits, opts.sampler, opts.rng);
    const token = tokens[id] as GrammarToken;
    out.push(session.vocabulary[id] as string);
    const dur = Math.min(token.dur, end - t);
    const chord = analysisOf(governingChord(chordsByOnset, t).chord);
    // The original crashed on a bracketed first token and resampled up to 1000 times to avoid one;
    // here a line with no previous note is anchored on the chord tone nearest the middle of the range.
    const anchor = prev ?? chordToneNear(chord, (opts.range.low + opts.range.high) / 2);
    const pitch = decodeToken(token, { prev: anchor, chord, range: opts.range, rng: opts.rng });
    if (pitch) {
      if (pitch.fallback) fallbacks++;
      notes.push({ start: t, dur, midi: pitch.midi, type: classifyNote(pitch.midi, chord) });
      prev = pitch.midi;
    }
    t += token.dur;
    if (t < end) step = await session.step(id);
  }
  return { notes, chords, tokens: out, fallbacks };
}

export interface SoloSummary {
  readonly bars: number;
  readonly notes: number;
  readonly low: Midi | null;
  readonly high: Midi | null;
  /** Share of notes that are chord tones of the sounding chord. */
  readonly chordToneShare: number;
  /** Share of notes that are chord or scale tones of the sounding chord. */
  readonly chordOrScaleShare: number;
}

export function summarize(solo: Solo, bars: number): SoloSummary {
  const n = solo.notes.length;
  const pitches = solo.notes.map((x) => x.midi);
  return {
    bars,
    notes: n,
    low: n ? Math.min(...pitches) : null,
    high: n ? Math.max(...pitches) : null,
    chordToneShare: n ? solo.notes.filter((x) => x.type === 'C').length / n : 0,
    chordOrScaleShare: n ? solo.notes.filter((x) => x.type === 'C' || x.type === 'S').length / n : 0,
  };
}
