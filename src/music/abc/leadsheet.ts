/**
 * ABC tunes with chord symbols ("G", "D7", "Em") → grammar corpora, one per tune: the melody (the top
 * note where notes sound together) encoded against the chord symbols, bar by bar, in the tune's own
 * meter. Tunes are read as written (repeats not unrolled: a repeat would only teach the same bars
 * twice). Each bar's place in its phrase is counted from the part's first full bar; a pickup is bar −1
 * with its notes at the end of the bar, and a second ending takes the place of the first.
 *
 * The streaming reader (reader.ts) does the notation — lengths, ties, tuplets, broken rhythm, keys —
 * so this module only groups its events; a chord symbol tonal cannot read is counted and the chord
 * before it goes on sounding.
 */
import { ChordSymbolError, voiceChord } from '../chordSymbols.ts';
import { soundingKey, type CorpusBar, type JazzCorpus } from '../corpus.ts';
import { meterOf } from '../conditioning.ts';
import { InputFileError } from '../errors.ts';
import { analyzeChordEvent, encodeBar, type ChordEvent, type MelodyElement } from '../grammar.ts';
import { addPitchWeight, inferKey, parseKeyName, type MusicalKey } from '../musicalKey.ts';
import { chordSegments, harmonize } from '../harmonize.ts';
import type { Midi } from '../pitch.ts';
import { TWELFTHS_PER_QUARTER } from '../time.ts';
import { parseMeter } from './key.ts';
import { readAbc, type AbcEvent } from './reader.ts';
import type { Note } from '../note.ts';

export interface LeadSheetStats {
  readonly tunes: number;
  /** Tunes left out: no chord symbol, no meter, or no notes. */
  readonly skippedTunes: number;
  /** Chord symbols tonal could not read (the previous chord goes on). */
  readonly unknownSymbols: number;
  /** Bars whose notes did not lie on the 1/12-quarter grid (rounded). */
  readonly offGrid: number;
  /** Tunes whose chords were inferred from the melody (LeadSheetOptions.harmonize). */
  readonly harmonized: number;
}

type BarEvent = Extract<AbcEvent, { type: 'bar' }>;

/** A melody's pitch classes weighted by length (for the key it is in). */
function pitchWeights(notes: readonly Note[]): number[] {
  const w = new Array<number>(12).fill(0);
  for (const n of notes) addPitchWeight(w, n.midi, n.dur);
  return w;
}

/** Voices a chord symbol; a slash chord falls back to its chord above the bass; null if unreadable. */
function voice(symbol: string): number[] | null {
  const text = symbol.trim();
  for (const s of [text, text.split('/')[0] ?? '']) {
    if (!/^[A-G]/.test(s)) continue;
    try {
      return voiceChord(s);
    } catch (err) {
      if (!(err instanceof ChordSymbolError)) throw err;
    }
  }
  return null;
}

const toTwelfths = (q: number): number => Math.round(q * TWELFTHS_PER_QUARTER);

interface TuneEvents {
  number: number;
  title: string;
  meter: string | null;
  /** The key of the body: the last K: before the first note (null: none, or none a key names). */
  key: MusicalKey | null;
  events: AbcEvent[];
}

/** Reads every tune of an ABC text; throws InputFileError naming the file when no tune has chords. */
export interface LeadSheetOptions {
  /**
   * Tunes without chord symbols in these meters ('3/4', or 'all') get chords inferred from their
   * melody (harmonize.ts), one a bar or half bar; the rest are left out as before.
   */
  readonly harmonize?: readonly string[];
}

export function readLeadSheets(
  text: string,
  file: string,
  opts: LeadSheetOptions = {},
): { corpora: JazzCorpus[]; stats: LeadSheetStats } {
  const tunes: TuneEvents[] = [];
  for (const e of readAbc(text).events) {
    if (e.type === 'tune') {
      tunes.push({ number: e.number, title: '', meter: null, key: null, events: [] });
      continue;
    }
    const tune = tunes[tunes.length - 1];
    if (!tune) continue;
    if (e.type === 'header' && e.field === 'T' && !tune.title) tune.title = e.value;
    // the meter of the body: the last M: before the first note
    if (e.type === 'header' && e.field === 'M' && !tune.events.some((x) => x.type === 'note'))
      tune.meter = e.value.split(/\s+/)[0] ?? null;
    if (e.type === 'header' && e.field === 'K' && !tune.events.some((x) => x.type === 'note'))
      tune.key = parseKeyName(e.value);
    tune.events.push(e);
  }
  const counts = { unknownSymbols: 0, offGrid: 0, skippedTunes: 0, harmonized: 0 };
  const corpora: JazzCorpus[] = [];
  for (const tune of tunes) {
    const corpus = tuneCorpus(tune, file, counts, opts.harmonize ?? []);
    if (corpus) corpora.push(corpus);
    else counts.skippedTunes++;
  }
  if (corpora.length === 0)
    throw new InputFileError(file, 'no tune with a meter, notes and chord symbols ("G", "D7") to learn from');
  return { corpora, stats: { tunes: tunes.length, ...counts } };
}

function tuneCorpus(
  tune: TuneEvents,
  file: string,
  counts: { unknownSymbols: number; offGrid: number; harmonized: number },
  harmonizeMeters: readonly string[],
): JazzCorpus | null {
  const m = tune.meter ? parseMeter(tune.meter) : null;
  if (!m || m.quarters === 0) return null;
  const meter = meterOf(m.numerator, m.denominator);
  const L = meter.barLength;
  // the melody: the top note of each onset; rests as written
  const byStart = new Map<number, { dur: number; midi: Midi | null }>();
  const chordsAt: { at: number; pitches: number[] }[] = [];
  const bars: BarEvent[] = [];
  for (const e of tune.events) {
    if (e.type === 'note' || e.type === 'rest') {
      const start = toTwelfths(e.start);
      const dur = toTwelfths(e.dur);
      if (Math.abs(start - e.start * TWELFTHS_PER_QUARTER) > 1e-6) counts.offGrid++;
      const midi = e.type === 'note' ? e.pitch : null;
      const had = byStart.get(start);
      if (dur > 0 && (!had || (midi !== null && (had.midi === null || midi > had.midi))))
        byStart.set(start, { dur, midi });
    } else if (e.type === 'symbol') {
      const pitches = voice(e.text);
      if (pitches) chordsAt.push({ at: toTwelfths(e.at), pitches });
      else if (/^[A-G]/.test(e.text.trim())) counts.unknownSymbols++;
    } else if (e.type === 'bar' && e.fit !== 'empty') bars.push(e);
    else if (e.type === 'bar') bars.push({ ...e, length: 0 });
  }
  const notes = [...byStart.entries()].sort((a, b) => a[0] - b[0]);
  const infer =
    chordsAt.length === 0 &&
    (harmonizeMeters.includes('all') || harmonizeMeters.includes(`${m.numerator}/${m.denominator}`));
  if (notes.length === 0 || (chordsAt.length === 0 && !infer)) return null;
  // the tune's end closes an open last bar
  const end = Math.max(...notes.map(([s, n]) => s + n.dur));
  const lastLine = bars.length ? toTwelfths((bars[bars.length - 1] as BarEvent).at) : 0;
  const spans: { start: number; end: number; line: BarEvent | null; fit: string }[] = [];
  let from = 0;
  let opening: BarEvent | null = null;
  for (const b of bars) {
    const at = toTwelfths(b.at);
    spans.push({ start: from, end: at, line: opening, fit: b.fit });
    from = at;
    opening = b;
  }
  if (end > lastLine)
    spans.push({ start: from, end, line: opening, fit: end - from < L ? 'closing' : 'full' });
  if (infer) {
    const melody = notes.flatMap(([start, n]) =>
      n.midi === null ? [] : [{ start, dur: n.dur, midi: n.midi }],
    );
    const key = tune.key ?? inferKey(pitchWeights(melody)) ?? { tonic: 0, mode: 'ionian' };
    const segments = chordSegments(
      spans.filter((s) => s.end > s.start),
      m,
    );
    for (const c of harmonize(melody, segments, key))
      chordsAt.push({ at: c.at, pitches: voiceChord(c.symbol) });
    counts.harmonized++;
  }
  const out: CorpusBar[] = [];
  let counter = 0;
  let endingStart = 0;
  let prev: Midi | null = null;
  let sounding: number[] | null = null;
  let k = 0; // next note
  for (const span of spans) {
    const line = span.line;
    if (line?.ending != null) {
      if (line.ending === 1) endingStart = counter;
      else counter = endingStart;
    } else if (line && (line.repeatStart || line.repeatEnd || /\|\]|\|\||\[\|/.test(line.text))) counter = 0;
    if (span.end <= span.start) continue;
    const pickup = span.fit === 'pickup';
    const index = pickup ? counter - 1 : counter++;
    const shift = pickup ? L - (span.end - span.start) : 0;
    const elements: MelodyElement[] = [];
    while (k < notes.length && (notes[k] as [number, unknown])[0] < span.end) {
      const [start, n] = notes[k++] as [number, { dur: number; midi: Midi | null }];
      if (start < span.start) continue;
      elements.push({ onset: start - span.start + shift, dur: n.dur, midi: n.midi });
    }
    // chords: the one sounding at the bar line, then the bar's own
    const chords: ChordEvent[] = [];
    for (const c of chordsAt) {
      if (c.at <= span.start) sounding = c.pitches;
      else if (c.at < span.end) {
        if (chords.length === 0 && sounding) chords.push({ onset: shift, pitches: sounding });
        chords.push({ onset: c.at - span.start + shift, pitches: c.pitches });
      }
    }
    if (chords.length === 0 && sounding) chords.push({ onset: shift, pitches: sounding });
    const last = chords[chords.length - 1];
    if (last) sounding = [...last.pitches];
    if (elements.length === 0) continue;
    if (chords.length === 0) {
      // notes before the first chord symbol: the tune's first chord governs them
      chords.push({ onset: shift, pitches: (chordsAt[0] as { pitches: number[] }).pitches });
    }
    const encoded = encodeBar(elements, chords.map(analyzeChordEvent), prev);
    prev = encoded.prev;
    out.push({
      bar: index,
      tokens: encoded.tokens,
      onsets: elements.map((e) => e.onset),
      chords,
      pitches: elements.map((e) => e.midi),
    });
  }
  if (out.length === 0) return null;
  const pitches = notes.map(([, n]) => n.midi).filter((p): p is Midi => p !== null);
  return {
    file,
    tune: { number: tune.number, title: tune.title },
    profile: 'full',
    barLength: L,
    beat: meter.beat,
    bpm: 120,
    bars: out,
    melodyPitches: pitches,
    key: tune.key ?? soundingKey(out, L),
  };
}
