/**
 * Jazz corpus: a MIDI file → bars of grammar tokens, chords per bar, vocabulary.
 * - `faithful` reproduces deepjazz/Coursera's 18-bar P78 corpus exactly (deepjazz-grammar.md §2–6).
 * - `full` (the product default) reads the whole melody, keeps rests and the gaps between notes, and
 *   carries the interval chain across bar lines, so the model learns rhythm and phrasing too.
 */
import { InputFileError } from './errors.ts';
import {
  analyzeChordEvent,
  encodeBar,
  formatToken,
  governingChord,
  type AnalyzedChord,
  type ChordEvent,
  type GrammarToken,
  type MelodyElement,
} from './grammar.ts';
import { chordAnalyzer } from './chord.ts';
import { Conditioner, CONDITION_FEATURES, meterOf, repeatLagOf } from './conditioning.ts';
import { groupAndQuantize, type TimedObject } from './group.ts';
import { addPitchWeight, inferKey, type MusicalKey } from './musicalKey.ts';
import type { Midi } from './pitch.ts';
import type { SmfSong } from './smf.ts';
import { barTwelfths, TWELFTHS_PER_QUARTER, type Twelfths } from './time.ts';
import { findChordTrack, findMelodyTrack } from './tracks.ts';

export type CorpusProfile = 'faithful' | 'full';

export interface CorpusOptions {
  readonly profile: CorpusProfile;
  /** File track index of the melody (auto-detected when absent). */
  readonly melodyTrack?: number;
  /** File track index of the chord source (auto-detected when absent). */
  readonly chordTrack?: number;
}

export interface CorpusBar {
  /**
   * The bar's place in its line, 0-based (the phrase position the conditioning sees): the bar number in
   * a MIDI file; in an ABC tune −1 for a pickup, counted from each part's first full bar.
   */
  readonly bar: number;
  readonly tokens: readonly GrammarToken[];
  /** Where each token starts, relative to the bar start (a pickup's notes lie at the bar's end). */
  readonly onsets: readonly Twelfths[];
  /** Chords with onsets relative to the bar start. */
  readonly chords: readonly ChordEvent[];
  /** Each token's pitch (null for a rest): what the lookback features hear of the line's past. */
  readonly pitches: readonly (Midi | null)[];
}

export interface JazzCorpus {
  readonly file: string;
  /** A tune of a multi-tune file: its X: number and title. */
  readonly tune?: { readonly number: number; readonly title: string };
  readonly profile: CorpusProfile;
  /** MIDI: where the melody and the chords came from. */
  readonly melodyTrack?: { readonly index: number; readonly name: string };
  readonly chordTrack?: { readonly index: number; readonly name: string };
  readonly barLength: Twelfths;
  readonly beat: Twelfths;
  readonly bpm: number;
  readonly bars: readonly CorpusBar[];
  /** Melody pitches in order, for statistics. */
  readonly melodyPitches: readonly Midi[];
  /** The tune's key: its K: field, else inferred from its chords and melody (musicalKey.ts). */
  readonly key: MusicalKey;
}

/**
 * The key that sounds in a line's bars (what a file without a key field is in): the melody's notes
 * weighted by length, and each chord's tones by how long it sounds in its bar; C major when nothing
 * sounds.
 */
export function soundingKey(bars: readonly CorpusBar[], barLength?: Twelfths): MusicalKey {
  const weights = new Array<number>(12).fill(0);
  for (const bar of bars) {
    bar.pitches.forEach((p, i) => {
      if (p !== null) addPitchWeight(weights, p, (bar.tokens[i] as GrammarToken).dur);
    });
    const end = barLength ?? Math.max(...bar.onsets.map((o, i) => o + (bar.tokens[i] as GrammarToken).dur));
    bar.chords.forEach((c, i) => {
      const dur = Math.max(0, (bar.chords[i + 1]?.onset ?? end) - c.onset);
      for (const p of c.pitches) addPitchWeight(weights, p, dur / 2);
    });
  }
  return inferKey(weights) ?? { tonic: 0, mode: 'ionian' };
}

/** Faithful window, in twelfths: quarter offsets 476..548 inclusive (§3.1). */
const FAITHFUL_WINDOW = [476 * TWELFTHS_PER_QUARTER, 548 * TWELFTHS_PER_QUARTER] as const;

/** Builds the corpus of one MIDI file. Throws InputFileError naming the file when something is missing. */
export function buildCorpus(song: SmfSong, options: CorpusOptions): JazzCorpus {
  const melody = findMelodyTrack(song, options.melodyTrack);
  const chordTrack = findChordTrack(song, melody, options.chordTrack);
  const tpq = song.ticksPerQuarter;
  const melodyObjects = groupAndQuantize(melody.notes, tpq);
  const chordObjects = groupAndQuantize(chordTrack.notes, tpq).filter((o) => o.kind === 'chord');
  if (chordObjects.length === 0) {
    throw new InputFileError(song.file, `no chords in track ${chordTrack.index} ('${chordTrack.name}')`);
  }
  const build = options.profile === 'faithful' ? faithfulBars : fullBars;
  const { bars, pitches, barLength } = build(song, melodyObjects, chordObjects);
  if (bars.length === 0) throw new InputFileError(song.file, 'no melody notes to encode');
  return {
    file: song.file,
    profile: options.profile,
    melodyTrack: { index: melody.index, name: melody.name },
    chordTrack: { index: chordTrack.index, name: chordTrack.name },
    barLength,
    beat:
      options.profile === 'faithful'
        ? TWELFTHS_PER_QUARTER
        : meterOf(song.meter.numerator, song.meter.denominator).beat,
    bpm: Math.round((60_000_000 / song.microsecondsPerQuarter) * 100) / 100,
    bars,
    melodyPitches: pitches,
    key: soundingKey(bars, barLength),
  };
}

interface Built {
  bars: CorpusBar[];
  pitches: Midi[];
  barLength: Twelfths;
}

/** Consecutive runs of equal key, in order (Python's groupby). */
function runs<T>(items: readonly T[], key: (t: T) => number): { key: number; items: T[] }[] {
  const out: { key: number; items: T[] }[] = [];
  for (const item of items) {
    const k = key(item);
    const last = out[out.length - 1];
    if (last && last.key === k) last.items.push(item);
    else out.push({ key: k, items: [item] });
  }
  return out;
}

function faithfulBars(song: SmfSong, melodyObjects: TimedObject[], chordObjects: TimedObject[]): Built {
  const barLength = 4 * TWELFTHS_PER_QUARTER;
  const [lo, hi] = FAITHFUL_WINDOW;
  const inWindow = (o: TimedObject): boolean => o.onset >= lo && o.onset <= hi;
  // P78: the melody is its single notes only (§2.4); zero lengths become 0.25 (§2.5).
  const notes = melodyObjects.filter((o) => o.kind === 'note' && inWindow(o));
  const chords = chordObjects.filter(inWindow);
  const melodyRuns = runs(notes, (o) => Math.floor(o.onset / barLength));
  const chordRuns = runs(chords, (o) => Math.floor(o.onset / barLength));
  chordRuns.pop(); // deepjazz drops the last chord group (§3.4)
  if (melodyRuns.length !== chordRuns.length) {
    throw new InputFileError(
      song.file,
      `faithful profile: ${melodyRuns.length} melody bars but ${chordRuns.length} chord bars in the window 476–548 (it fits the original file only)`,
    );
  }
  const bars: CorpusBar[] = [];
  const pitches: Midi[] = [];
  melodyRuns.forEach((run, k) => {
    const barStart = run.key * barLength;
    const chordRun = chordRuns[k] as { items: TimedObject[] };
    const barChords = chordRun.items.map((c) =>
      analyzeChordEvent({ onset: c.onset - barStart, pitches: c.pitches }),
    );
    const elements: MelodyElement[] = run.items.map((o) => ({
      onset: o.onset - barStart,
      dur: o.dur === 0 ? 3 : o.dur,
      midi: o.pitches[0] as Midi,
    }));
    pitches.push(...elements.map((e) => e.midi as Midi));
    const { tokens } = encodeBar(elements, barChords, null);
    bars.push({
      bar: run.key,
      tokens,
      onsets: elements.map((e) => e.onset),
      chords: barChords.map(stripAnalysis),
      pitches: elements.map((e) => e.midi),
    });
  });
  return { bars, pitches, barLength };
}

const stripAnalysis = (c: AnalyzedChord): ChordEvent => ({ onset: c.onset, pitches: c.pitches });

/** Whole melody, monophonic: the top note of a double-stop, each note clipped at the next onset, gaps as rests. */
function fullBars(song: SmfSong, melodyObjects: TimedObject[], chordObjects: TimedObject[]): Built {
  const barLength = barTwelfths(song.meter.numerator, song.meter.denominator);
  const byOnset = runs(melodyObjects, (o) => o.onset).map((r) => ({
    onset: r.key,
    dur: Math.max(...r.items.map((o) => o.dur)),
    midi: Math.max(...r.items.flatMap((o) => o.pitches)),
  }));
  const first = byOnset[0];
  if (!first) throw new InputFileError(song.file, 'no melody notes');
  // Timeline of notes and rests from the first melody bar line on.
  const timeline: MelodyElement[] = [];
  let t = Math.floor(first.onset / barLength) * barLength;
  byOnset.forEach((n, i) => {
    if (n.onset > t) timeline.push({ onset: t, dur: n.onset - t, midi: null });
    const next = byOnset[i + 1];
    const end = next ? Math.min(n.onset + Math.max(n.dur, 1), next.onset) : n.onset + Math.max(n.dur, 3);
    timeline.push({ onset: n.onset, dur: end - n.onset, midi: n.midi });
    t = end;
  });
  // Rests split at bar lines; every element belongs to the bar of its onset.
  const split: MelodyElement[] = [];
  for (const e of timeline) {
    if (e.midi !== null) {
      split.push(e);
      continue;
    }
    let start = e.onset;
    const end = e.onset + e.dur;
    while (start < end) {
      const barEnd = (Math.floor(start / barLength) + 1) * barLength;
      const stop = Math.min(end, barEnd);
      split.push({ onset: start, dur: stop - start, midi: null });
      start = stop;
    }
  }
  const chordsAbs = chordObjects
    .map((c) => ({ onset: c.onset, pitches: c.pitches }))
    .sort((a, b) => a.onset - b.onset);
  const bars: CorpusBar[] = [];
  let prev: Midi | null = null;
  let silentRun = 0;
  for (const run of runs(split, (e) => Math.floor(e.onset / barLength))) {
    const barStart = run.key * barLength;
    const wholeBarRest = run.items.length === 1 && run.items[0]?.midi === null;
    silentRun = wholeBarRest ? silentRun + 1 : 0;
    if (silentRun > 1) continue; // long tacets: keep one bar of rest, drop the rest of them
    const barChords = chordsForBar(chordsAbs, barStart, barLength);
    const elements = run.items.map((e) => ({ ...e, onset: e.onset - barStart }));
    const encoded = encodeBar(elements, barChords.map(analyzeChordEvent), prev);
    prev = encoded.prev;
    bars.push({
      bar: run.key,
      tokens: encoded.tokens,
      onsets: elements.map((e) => e.onset),
      chords: barChords,
      pitches: elements.map((e) => e.midi),
    });
  }
  // A trailing bar of rest teaches nothing.
  while (bars.length && bars[bars.length - 1]?.tokens.every((tk) => tk.type === 'R')) bars.pop();
  return { bars, pitches: byOnset.map((n) => n.midi), barLength };
}

/** Chords of a bar (onsets relative to it); a bar with no chord change keeps the one still sounding. */
/** The first index of `chords` (sorted by onset) whose onset is at or after `t`. */
function firstAtOrAfter(chords: readonly ChordEvent[], t: Twelfths): number {
  let lo = 0;
  let hi = chords.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((chords[mid] as ChordEvent).onset < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A bar's chords, bar-relative, from `chords` sorted by onset (found by binary search: linear reading). */
function chordsForBar(chords: readonly ChordEvent[], barStart: Twelfths, barLength: Twelfths): ChordEvent[] {
  const from = firstAtOrAfter(chords, barStart);
  const inBar = chords.slice(from, firstAtOrAfter(chords, barStart + barLength));
  const sounding = chords[from - 1];
  const out = inBar.map((c) => ({ onset: c.onset - barStart, pitches: c.pitches }));
  if (sounding && (out.length === 0 || (out[0] as ChordEvent).onset > 0)) {
    out.unshift({ onset: 0, pitches: sounding.pitches });
  }
  if (out.length === 0) out.push({ onset: 0, pitches: (chords[0] as ChordEvent).pitches });
  return out;
}

/**
 * The lowest and highest of `pitches` ([NaN, NaN] for none), by a loop: a spread of a corpus-sized
 * array into Math.min overflows the call stack (a MIDI file of 200 K notes did).
 */
export function pitchSpan(pitches: Iterable<number>): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (const p of pitches) {
    if (p < low) low = p;
    if (p > high) high = p;
  }
  return low <= high ? [low, high] : [NaN, NaN];
}

/** All tokens of the corpus in bar order, as strings. */
export function corpusTokens(corpus: JazzCorpus): string[] {
  return corpus.bars.flatMap((b) => b.tokens.map(formatToken));
}

/** Sorted (code-point order) distinct values, the deterministic vocabulary (§6). */
export function buildVocabulary(tokens: readonly string[]): string[] {
  return [...new Set(tokens)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The conditioning of every token of a corpus, in order (`features.length` values each): what the
 * model hears beside the previous token when it predicts this one — the chord and the place at its
 * onset, the tune's key, and what the line played a bar, two bars and a phrase before (its bars taken
 * one after another as written, so a pickup leads into the first bar and a part into the next).
 */
export function corpusConditions(
  corpus: JazzCorpus,
  features: readonly string[] = CONDITION_FEATURES,
): Float32Array {
  const count = corpus.bars.reduce((n, b) => n + b.tokens.length, 0);
  const conditioner = new Conditioner(features);
  const W = conditioner.width;
  const out = new Float32Array(count * W);
  conditioner.setKey(corpus.key);
  const analysisOf = chordAnalyzer();
  const meter = { barLength: corpus.barLength, beat: corpus.beat };
  let k = 0;
  corpus.bars.forEach((bar, seq) => {
    bar.onsets.forEach((onset, i) => {
      const chord = analysisOf(governingChord(bar.chords, onset).pitches);
      const at = seq * corpus.barLength + onset;
      conditioner.at(bar.bar * corpus.barLength + onset, chord, meter, out.subarray(k * W, (k + 1) * W), at);
      conditioner.hear(at, (bar.tokens[i] as GrammarToken).dur, bar.pitches[i] ?? null, meter);
      k++;
    });
  });
  return out;
}

/**
 * A corpus's tokens as a lookback model learns them: an element that restates what the line played a
 * phrase, two bars or a bar before is its repeat marker (conditioning.ts REPEAT_TOKENS), the rest as
 * corpusTokens; one entry per token, so the conditioning rows still line up.
 */
export function lookbackTokens(corpus: JazzCorpus): string[] {
  const plain = corpusTokens(corpus);
  return restatements(corpus).map((r, k) => r[0] ?? (plain[k] as string));
}

/**
 * For each token of a corpus, every repeat marker that plays it (the longest lag first; empty where
 * none does): the ways a lookback model can write the same music, which its likelihood sums.
 */
export function restatements(corpus: JazzCorpus): string[][] {
  const conditioner = new Conditioner();
  const meter = { barLength: corpus.barLength, beat: corpus.beat };
  const out: string[][] = [];
  corpus.bars.forEach((bar, seq) => {
    bar.tokens.forEach((token, i) => {
      const at = seq * corpus.barLength + (bar.onsets[i] as number);
      const midi = bar.pitches[i] ?? null;
      out.push(conditioner.restatedBy(at, token.dur, midi, meter));
      conditioner.hear(at, token.dur, midi, meter);
    });
  });
  return out;
}

/** The tokens a bundle's model reads for a corpus: with repeat markers where its vocabulary has them. */
export const tokensFor = (corpus: JazzCorpus, vocabulary: readonly string[]): string[] =>
  vocabulary.some((v) => repeatLagOf(v) !== null) ? lookbackTokens(corpus) : corpusTokens(corpus);

/**
 * Tokens → ids of a vocabulary, skipping (and counting) those outside it, with each kept token's
 * conditioning row (`width` values a token; width 0: none) carried along.
 */
export function idsInVocabulary(
  tokens: readonly string[],
  index: ReadonlyMap<string, number>,
  conditions: Float32Array | null,
  width: number,
): { ids: number[]; conditions: Float32Array; outOfVocabulary: number } {
  const ids: number[] = [];
  const kept: number[] = [];
  tokens.forEach((t, k) => {
    const id = index.get(t);
    if (id === undefined) return;
    ids.push(id);
    kept.push(k);
  });
  const rows = new Float32Array(conditions ? kept.length * width : 0);
  if (conditions)
    kept.forEach((k, j) => rows.set(conditions.subarray(k * width, (k + 1) * width), j * width));
  return { ids, conditions: rows, outOfVocabulary: tokens.length - ids.length };
}
