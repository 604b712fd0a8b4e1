/**
 * Jazz solo generation: sample grammar tokens from the stateful session (state carried across bars,
 * unlike the original, which re-seeded every bar) and decode them against the chord sounding at each
 * note's start. Output is a list of timed notes on the 1/12-quarter grid.
 */
import { chordAnalyzer } from '../music/chord.ts';
import type { PitchRange } from '../music/decode.ts';
import { governingChord, type ChordEvent } from '../music/grammar.ts';
import type { MusicalKey } from '../music/musicalKey.ts';
import type { Midi } from '../music/pitch.ts';
import type { Rng } from '../music/rng.ts';
import { TWELFTHS_PER_QUARTER, type Twelfths } from '../music/time.ts';
import type { SamplerOptions } from './sampler.ts';
import { JazzImproviser } from './jazzImproviser.ts';

export { parseVocabulary } from './jazzImproviser.ts';
import type { LstmSession } from './lstmSession.ts';
import type { TypedNote } from '../music/note.ts';

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
  /** The beat a conditioned model hears (default: a quarter). */
  readonly beat?: Twelfths;
  readonly sampler: SamplerOptions;
  readonly range: PitchRange;
  readonly rng: Rng;
  /** The copy bound (copyGuard.ts): null or undefined the bundle's default, 0 none, N tokens and lengths. */
  readonly maxCopy?: number | null;
  /** The rhythm guide (onsetGrid.ts): on unless false, where the bundle holds a grid. */
  readonly rhythmGuide?: boolean;
  /** The key the line is in (`--key`, a leadsheet's K:); absent or null: inferred from the progression. */
  readonly key?: MusicalKey | null;
  /** Form memory's strength (JazzImproviser.formBias; absent: its default). */
  readonly formBias?: number;
  /** The cadence's strength at the line's end (JazzImproviser.cadenceBias; absent: its default). */
  readonly cadenceBias?: number;
  /** The on-the-beat chord-tone bias (JazzImproviser.beatChordBias; absent: its default). */
  readonly beatChordBias?: number;
}

export interface Solo {
  readonly notes: readonly TypedNote[];
  readonly chords: readonly PlacedChord[];
  readonly tokens: readonly string[];
  /** Notes whose token type could not be met inside its interval bracket. */
  readonly fallbacks: number;
  /** What the copy bound did (null: none applied). */
  readonly copies: { readonly binding: number; readonly fallbacks: number } | null;
  /** The key it was played in (given, or inferred from the progression). */
  readonly key: MusicalKey | null;
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
  const chords = placeChords(opts.progression, opts.bars, opts.barLength);
  const analysisOf = chordAnalyzer();
  const placed = chords.map((c) => ({ onset: c.start, analysis: analysisOf(c.pitches) }));
  const improviser = new JazzImproviser(
    session,
    opts.rng,
    opts.sampler,
    opts.range,
    { barLength: opts.barLength, beat: opts.beat ?? TWELFTHS_PER_QUARTER },
    opts.maxCopy ?? null,
  );
  improviser.rhythmGuide = opts.rhythmGuide ?? true;
  if (opts.formBias !== undefined) improviser.formBias = opts.formBias;
  if (opts.cadenceBias !== undefined) improviser.cadenceBias = opts.cadenceBias;
  if (opts.beatChordBias !== undefined) improviser.beatChordBias = opts.beatChordBias;
  improviser.setKey(opts.key ?? null); // a new improviser starts from a fresh state
  const end = opts.bars * opts.barLength;
  const played = await improviser.play(0, end, (t) => governingChord(placed, t).analysis, true);
  const notes = played.notes.map((n) => ({
    start: n.start,
    dur: Math.min(n.dur, end - n.start),
    midi: n.midi,
    type: n.type,
  }));
  return {
    notes,
    chords,
    tokens: played.tokens,
    fallbacks: played.notes.filter((n) => n.fallback).length,
    copies: improviser.copyStats,
    key: improviser.key,
  };
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
