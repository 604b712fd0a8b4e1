/**
 * Jazz solo generation: sample grammar tokens from the stateful session (state carried across bars,
 * unlike the original, which re-seeded every bar) and decode them against the chord sounding at each
 * note's start. Output is a list of timed notes on the 1/12-quarter grid.
 */
import { analyzeChord, type ChordAnalysis, type NoteType } from '../music/chord.ts';
import { LineDecoder, type PitchRange } from '../music/decode.ts';
import { BundleError } from '../music/errors.ts';
import { parseToken, TokenFormatError, type ChordEvent, type GrammarToken } from '../music/grammar.ts';
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
export function placeChords(
  progression: readonly (readonly ChordEvent[])[],
  bars: number,
  barLength: Twelfths,
): PlacedChord[] {
  const starts: { start: number; pitches: readonly Midi[] }[] = [];
  for (let b = 0; b < bars; b++) {
    for (const c of progression[b % progression.length] ?? [])
      starts.push({ start: b * barLength + c.onset, pitches: c.pitches });
  }
  const end = bars * barLength;
  return starts.map((c, i) => ({
    start: c.start,
    pitches: c.pitches,
    dur: (starts[i + 1]?.start ?? end) - c.start,
  }));
}

/** Generates a solo of `bars` bars from a fresh session state. */
export async function generateSolo(session: LstmSession, opts: SoloOptions): Promise<Solo> {
  const tokens = parseVocabulary(session.vocabulary, 'bundle');
  const chords = placeChords(opts.progression, opts.bars, opts.barLength);
  const analyses = new Map<readonly Midi[], ChordAnalysis>();
  const analysisOf = (pitches: readonly Midi[]): ChordAnalysis => {
    let a = analyses.get(pitches);
    if (!a) analyses.set(pitches, (a = analyzeChord(pitches)));
    return a;
  };
  const decoder = new LineDecoder(
    chords.map((c) => ({ onset: c.start, analysis: analysisOf(c.pitches) })),
    opts.range,
    opts.rng,
  );
  const end = opts.bars * opts.barLength;
  const notes: SoloNote[] = [];
  const out: string[] = [];
  let fallbacks = 0;
  session.reset();
  let step = await session.step(session.startToken);
  while (decoder.time < end) {
    const id = sample(step.logits, opts.sampler, opts.rng);
    out.push(session.vocabulary[id] as string);
    const note = decoder.push(tokens[id] as GrammarToken);
    if (note) {
      if (note.fallback) fallbacks++;
      notes.push({
        start: note.start,
        dur: Math.min(note.dur, end - note.start),
        midi: note.midi,
        type: note.type,
      });
    }
    if (decoder.time < end) step = await session.step(id);
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
