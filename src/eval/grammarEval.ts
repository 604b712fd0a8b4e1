/**
 * How good a grammar model is, judged from outside on what it did not train on (`improv eval` and
 * `npm run eval`):
 * - held-out negative log-likelihood per token against unigram and bigram baselines over the same
 *   vocabulary, counted on the training tokens (the bigram smoothed toward the unigram, with the
 *   smoothing that scores the held-out data best, so the baseline is as strong as it can be);
 * - the share of held-out tokens outside the vocabulary (skipped by all three);
 * - lines generated over the held-out progressions: chord-tone and chord-or-scale-tone shares next to
 *   the held-out melodies' own, and the share of their 8-note rhythm n-grams found in the training data
 *   (the held-out melodies' own share beside it: what a new tune of the style reaches).
 * The held-out part is the trainer's (manifest `jazz.heldOut`), read again from the training files.
 */
import { corpusTokens, idsInVocabulary, pitchSpan, type JazzCorpus } from '../music/corpus.ts';
import { readManifest } from '../music/bundle.ts';
import { BundleError } from '../music/errors.ts';
import { SuffixAutomaton } from '../music/copies.ts';
import { formatToken, parseToken, rhythmClass, type GrammarToken } from '../music/grammar.ts';
import { copyLimitFor } from '../model/copyGuard.ts';
import { createRng } from '../music/rng.ts';
import { readCorpora, tuneId } from '../train/jazz.ts';
import { generateSolo } from '../model/solo.ts';
import type { SamplerOptions } from '../model/sampler.ts';
import { LstmSession } from '../model/lstmSession.ts';
import { NgramBaselines } from './baselines.ts';
import { scoreMusic } from './grammarScore.ts';
import { callResponse, type CallResponse, type PairedFigure } from './callResponse.ts';
import { JazzImproviser } from '../model/jazzImproviser.ts';
import { chordAnalyzer, type ChordAnalysis } from '../music/chord.ts';
import { governingChord } from '../music/grammar.ts';
import { inKey, inKeyOrChord } from '../music/musicalKey.ts';
import type { Midi } from '../music/pitch.ts';
import { ONSET_PLACES, RhythmByMeter, type MeterRhythm } from './meterRhythm.ts';
import { meterName, mod } from '../music/conditioning.ts';
import { LineForm, type LineFormFigures } from './lineForm.ts';
import { parseProgression } from '../music/chordSymbols.ts';
import type { ChordEvent } from '../music/grammar.ts';
import type { Note } from '../music/note.ts';

export const RHYTHM_N = 8;

export interface GrammarEval {
  readonly heldOutTunes: number;
  readonly heldOutTokens: number;
  readonly outOfVocabulary: number;
  /** Nats per scored token. */
  readonly model: number;
  readonly unigram: number;
  readonly bigram: number;
  readonly bigramSmoothing: number;
  readonly generated: {
    readonly lines: number;
    readonly notes: number;
    readonly chordTones: number;
    readonly chordOrScale: number;
    /** Notes in the tune's key (its K:, which the lines were played in) or the sounding chord. */
    readonly keyOrChord: number;
    readonly rhythmCopied: number;
    /** The longest run of a line found in the training data: tokens, and lengths (rhythm). */
    readonly longestCopy: LongestCopy;
    /** The copy bound the lines were drawn under (null: none). */
    readonly maxCopy: { readonly tokens: number; readonly rhythm: number | null } | null;
    /** Notes a bar and onsets in the beat, meter by meter (each line in its tune's meter). */
    readonly meters: readonly MeterRhythm[];
    /** Bars that recur within their line, and endings on the tonic (lineForm.ts). */
    readonly form: LineFormFigures;
  };
  /**
   * Calls (a held-out tune's first two bars over its chords) and the model's answers over the next
   * two, the key inferred from the call and its chords as live; beside it the tunes' own second
   * phrase against their first.
   */
  readonly answers: CallResponse;
  readonly tunePhrases: CallResponse;
  /** Lines over progressions the model never trained on (`changes`), where asked. */
  readonly otherChanges?: {
    readonly progressions: number;
    readonly lines: number;
    readonly notes: number;
    readonly notesPerBar: number;
    readonly chordTones: number;
    readonly chordOrScale: number;
    readonly rhythmCopied: number;
    readonly longestCopy: LongestCopy;
  };
  readonly heldOutMelodies: {
    readonly chordTones: number;
    readonly chordOrScale: number;
    readonly keyOrChord: number;
    readonly rhythmCopied: number;
    readonly longestCopy: LongestCopy;
    readonly meters: readonly MeterRhythm[];
    readonly form: LineFormFigures;
  };
}

export interface LongestCopy {
  readonly tokens: number;
  readonly rhythm: number;
}

/** A line's rhythm: each token's length, a rest marked apart from a note. */
const rhythmOf = (tokens: readonly GrammarToken[]): string[] => tokens.map(rhythmClass);

function nGrams(seq: readonly string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= seq.length; i++) out.push(seq.slice(i, i + n).join(' '));
  return out;
}

/** Share of a line set's rhythm n-grams that occur in `known`. */
function copiedShare(lines: readonly (readonly GrammarToken[])[], known: ReadonlySet<string>): number {
  let total = 0;
  let found = 0;
  for (const l of lines)
    for (const g of nGrams(rhythmOf(l), RHYTHM_N)) {
      total++;
      if (known.has(g)) found++;
    }
  return total ? found / total : 0;
}

/** Generated notes counted by their type against the chord at their start (fallbacks included). */
class TypeTally {
  notes = 0;
  private chordTones = 0;
  private chordOrScale = 0;

  add(notes: Iterable<{ readonly type: string }>): void {
    for (const n of notes) {
      this.notes++;
      if (n.type === 'C') this.chordTones++;
      if (n.type === 'C' || n.type === 'S') this.chordOrScale++;
    }
  }

  /** The shares of chord tones, and of chord or scale tones (0 without notes). */
  get shares(): { chordTones: number; chordOrScale: number } {
    const n = this.notes || 1;
    return { chordTones: this.chordTones / n, chordOrScale: this.chordOrScale / n };
  }
}

/** A melody's notes (its tokens but the rests) counted as TypeTally counts generated ones. */
function typeShares(tokens: readonly GrammarToken[]): { chordTones: number; chordOrScale: number } {
  const tally = new TypeTally();
  tally.add(tokens.filter((t) => t.type !== 'R'));
  return tally.shares;
}

/** The trainer's split: held-out corpora (or tails, `file@bar`) and the training ones. */
function split(
  corpora: readonly JazzCorpus[],
  heldOut: readonly string[],
): { train: JazzCorpus[]; held: JazzCorpus[] } {
  const tails = new Map(
    heldOut.filter((h) => /@\d+$/.test(h)).map((h) => [h.replace(/@\d+$/, ''), Number(h.split('@').pop())]),
  );
  const ids = new Set(heldOut);
  const train: JazzCorpus[] = [];
  const held: JazzCorpus[] = [];
  for (const c of corpora) {
    const from = tails.get(tuneId(c));
    if (from !== undefined) {
      train.push({ ...c, bars: c.bars.slice(0, from) });
      held.push({ ...c, bars: c.bars.slice(from) });
    } else if (ids.has(tuneId(c))) held.push(c);
    else train.push(c);
  }
  return { train, held };
}

/** A tune's first four full bars: the call (bars 1–2) with its chords, and the tune's own answer. */
interface Phrases {
  readonly call: Note[];
  /** The tune's second phrase (bars 3–4), its pitches. */
  readonly second: Midi[];
  readonly chords: { readonly onset: number; readonly analysis: ChordAnalysis }[];
  readonly barLength: number;
  readonly beat: number;
  readonly range: { readonly low: Midi; readonly high: Midi };
}

/** The first bars numbered 0–3 in a row (a pickup left out); null when the tune has no such four. */
function firstPhrases(c: JazzCorpus): Phrases | null {
  const start = c.bars.findIndex((b, i) => [0, 1, 2, 3].every((k) => c.bars[i + k]?.bar === k));
  if (start < 0) return null;
  const L = c.barLength;
  const analysisOf = chordAnalyzer();
  const four = c.bars.slice(start, start + 4);
  const call: Note[] = [];
  const second: Midi[] = [];
  four.forEach((b, k) =>
    b.pitches.forEach((p, i) => {
      if (p === null) return;
      const note = {
        start: k * L + (b.onsets[i] as number),
        dur: (b.tokens[i] as GrammarToken).dur,
        midi: p,
      };
      if (k < 2) call.push(note);
      else second.push(p);
    }),
  );
  if (call.length < 4 || second.length < 4) return null;
  const [low, high] = pitchSpan(c.melodyPitches);
  return {
    call,
    second,
    chords: four.flatMap((b, k) =>
      b.chords.map((ch) => ({ onset: k * L + ch.onset, analysis: analysisOf(ch.pitches) })),
    ),
    barLength: L,
    beat: c.beat,
    range: { low, high: Math.max(high, low + 12) },
  };
}

/** The model hears the call (its key inferred from the call and chords, as live) and answers. */
async function answerCall(
  session: LstmSession,
  ph: Phrases,
  rng: ReturnType<typeof createRng>,
  opts: { readonly sampler: SamplerOptions; readonly rhythmGuide?: boolean; readonly formBias?: number },
): Promise<Midi[]> {
  const improviser = new JazzImproviser(session, rng, opts.sampler, ph.range, {
    barLength: ph.barLength,
    beat: ph.beat,
  });
  improviser.rhythmGuide = opts.rhythmGuide ?? true;
  if (opts.formBias !== undefined) improviser.formBias = opts.formBias;
  const chordAt = (t: number): ChordAnalysis => governingChord(ph.chords, t).analysis;
  await improviser.listen(ph.call, chordAt, ph.barLength);
  const { notes } = await improviser.play(2 * ph.barLength, 4 * ph.barLength, chordAt, true);
  return notes.filter((n) => n.start < 4 * ph.barLength).map((n) => n.midi);
}

/** The held-out melodies' notes in their tune's key or their sounding chord. */
function keyOrChordShare(held: readonly JazzCorpus[]): number {
  let n = 0;
  let fit = 0;
  for (const c of held)
    for (const b of c.bars)
      b.pitches.forEach((p, i) => {
        if (p === null) return;
        n++;
        const chord = governingChord(b.chords, b.onsets[i] as number).pitches;
        if (inKeyOrChord(p, c.key, new Set(chord.map((q) => mod(q, 12))))) fit++;
      });
  return n ? fit / n : 0;
}

/** The held-out melodies' rhythm by meter, over the same lines the model played (full bars only). */
/**
 * The held-out melodies' rhythm by meter and their form, over the same lines the generated ones
 * were played on (their full bars; rests left out), in one pass.
 */
function heldFigures(lines: readonly JazzCorpus[]): { meters: MeterRhythm[]; form: LineFormFigures } {
  const meters = new RhythmByMeter();
  const form = new LineForm();
  for (const c of lines) {
    const bars = c.bars.filter((b) => b.bar >= 0);
    if (bars.length === 0) continue;
    const onsets: number[] = [];
    const notes: Note[] = [];
    bars.forEach((b, i) =>
      b.tokens.forEach((t, j) => {
        if (t.type === 'R') return;
        const start = i * c.barLength + (b.onsets[j] as number);
        onsets.push(start);
        const midi = b.pitches[j];
        if (midi !== null && midi !== undefined) notes.push({ start, dur: t.dur, midi });
      }),
    );
    meters.add(meterName(c.barLength, c.beat), bars.length, onsets);
    form.add(notes, c.barLength, c.key);
  }
  return { meters: meters.summary(), form: form.summary() };
}

/**
 * Jazz changes neither shipped model trained on (`improv eval --changes standard`): ii–V–I in two
 * keys, an F blues, a minor ii–V cycle, the A section of rhythm changes (two chords a bar).
 */
export const STANDARD_CHANGES: readonly string[] = [
  'Dm7 G7 Cmaj7 Cmaj7 Cm7 F7 Bbmaj7 Bbmaj7',
  'F7 Bb7 F7 F7 Bb7 Bb7 F7 D7 Gm7 C7 F7 C7',
  'Am7b5 D7 Gm7 Gm7 Cm7 F7 Bbmaj7 Ebmaj7',
  'Bbmaj7,G7 Cm7,F7 Bbmaj7,G7 Cm7,F7 Fm7,Bb7 Ebmaj7,Ab7 Dm7,G7 Cm7,F7',
];

/** The bar of the `changes` lines: 4/4, in twelfths of a quarter. */
const CHANGES_BAR = 48;
/** Lines drawn over each of the `changes` progressions. */
const CHANGES_SEEDS = 4;

/** Lines over each progression (CHANGES_SEEDS seeds each) and their notes' figures. */
async function overChanges(
  changes: readonly string[],
  play: (
    progression: ChordEvent[][],
    rng: ReturnType<typeof createRng>,
  ) => Promise<{ tokens: readonly string[]; notes: readonly { type: string; start: number }[] }>,
  seed: string,
): Promise<{
  figures: Omit<NonNullable<GrammarEval['otherChanges']>, 'rhythmCopied' | 'longestCopy'>;
  tokens: GrammarToken[][];
}> {
  const tokens: GrammarToken[][] = [];
  const tally = new TypeTally();
  let bars = 0;
  for (const [p, text] of changes.entries()) {
    const progression = parseProgression(text, CHANGES_BAR);
    for (let k = 0; k < CHANGES_SEEDS; k++) {
      const solo = await play(progression, createRng(`${seed}:changes ${p}:${k}`));
      tokens.push(solo.tokens.map(parseToken));
      bars += progression.length * 2;
      tally.add(solo.notes);
    }
  }
  return {
    figures: {
      progressions: changes.length,
      lines: tokens.length,
      notes: tally.notes,
      notesPerBar: bars ? tally.notes / bars : 0,
      ...tally.shares,
    },
    tokens,
  };
}

export async function evaluateGrammar(
  modelDir: string,
  opts: {
    seed: number;
    sampler: SamplerOptions;
    maxLines?: number;
    data?: readonly string[];
    /** The copy bound the lines are drawn under (null or undefined: the bundle's default; 0: none). */
    maxCopy?: number | null;
    /** The rhythm guide (default on, where the bundle holds a grid). */
    rhythmGuide?: boolean;
    /** Form memory's strength (default: the improviser's). */
    formBias?: number;
    /**
     * Chord progressions (chord symbols, bars split by `|` or spaces: chordSymbols.ts) to play
     * lines over beside the held-out ones, in 4/4, each twice through, four seeds each: how the
     * model does over changes it never trained on.
     */
    changes?: readonly string[];
  },
): Promise<GrammarEval> {
  const manifest = readManifest(modelDir);
  const heldOut = manifest.jazz?.heldOut;
  if (!heldOut?.length)
    throw new BundleError(
      modelDir,
      'jazz.heldOut',
      'this bundle records no held-out data to judge it on (retrain it)',
    );
  const files = opts.data ?? manifest.training.data.map((d) => d.file);
  const corpora = readCorpora(files, { profile: 'full', harmonize: manifest.jazz?.harmonize ?? [] });
  const { train, held } = split(corpora, heldOut);
  if (held.length === 0)
    throw new BundleError(modelDir, 'jazz.heldOut', `none of it is in ${files.join(', ')}`);
  const vocab = manifest.vocabulary;
  const index = new Map(vocab.map((v, i) => [v, i]));
  // baselines and copies are counted on the music (grammar tokens), whatever the model's own reading
  const musicIdsOf = (c: JazzCorpus): number[] => idsInVocabulary(corpusTokens(c), index, null, 0).ids;
  const baselines = new NgramBaselines(train.map(musicIdsOf), vocab.length);
  // copies, by an automaton over the training part (the same split as the bundle's copy index)
  const rhythmIds = new Map<string, number>();
  const rhythmId = (t: GrammarToken): number => {
    const c = rhythmClass(t);
    let id = rhythmIds.get(c);
    if (id === undefined) rhythmIds.set(c, (id = rhythmIds.size));
    return id;
  };
  const tokenCopies = new SuffixAutomaton(train.map(musicIdsOf));
  const rhythmCopies = new SuffixAutomaton(train.map((c) => c.bars.flatMap((b) => b.tokens).map(rhythmId)));
  const longestCopy = (lines: readonly (readonly GrammarToken[])[]): LongestCopy => ({
    tokens: lines.reduce(
      (m, l) => Math.max(m, tokenCopies.longest(l.map((t) => index.get(formatToken(t)) ?? -2))),
      0,
    ),
    rhythm: lines.reduce((m, l) => Math.max(m, rhythmCopies.longest(l.map(rhythmId))), 0),
  });
  const [melodyLow, melodyHigh] = manifest.jazz?.melodyRange ?? [60, 84];
  const session = await LstmSession.load(modelDir);
  let scored = 0;
  let total = 0;
  let oov = 0;
  let nllModel = 0;
  const scoredIds: number[][] = [];
  try {
    for (const c of held) {
      const r = await scoreMusic(session, c);
      total += r.tokens;
      oov += r.outOfVocabulary;
      if (r.scored === 0) continue;
      scored += r.scored;
      nllModel += r.nll * r.scored;
      scoredIds.push([...r.musicIds]);
    }
    // lines over the held-out progressions, as long as the held-out melodies
    const known = new Set(train.flatMap((c) => nGrams(rhythmOf(c.bars.flatMap((b) => b.tokens)), RHYTHM_N)));
    // at least 10 lines: a one-file model's one held-out tail is played with 10 seeds
    const count = Math.min(opts.maxLines ?? 50, Math.max(10, held.length));
    // spread over the held-out tunes (files hold one kind of tune each: the waltzes come last)
    const lines = Array.from(
      { length: count },
      (_, i) =>
        held[count <= held.length ? Math.floor((i * held.length) / count) : i % held.length] as JazzCorpus,
    );
    const generated: GrammarToken[][] = [];
    const tally = new TypeTally();
    let keyOrChord = 0;
    const generatedMeters = new RhythmByMeter();
    const generatedForm = new LineForm();
    for (const [i, c] of lines.entries()) {
      const bars = c.bars.filter((b) => b.bar >= 0);
      if (bars.length === 0) continue;
      const [low, high] = pitchSpan(c.melodyPitches);
      const solo = await generateSolo(session, {
        bars: bars.length,
        progression: bars.map((b) => b.chords),
        barLength: c.barLength,
        beat: c.beat,
        sampler: opts.sampler,
        range: { low, high: Math.max(high, low + 12) },
        rng: createRng(`${opts.seed}:${i}`),
        maxCopy: opts.maxCopy ?? null,
        key: c.key,
        rhythmGuide: opts.rhythmGuide ?? true,
        ...(opts.formBias === undefined ? {} : { formBias: opts.formBias }),
      });
      generated.push(solo.tokens.map(parseToken));
      generatedMeters.add(
        meterName(c.barLength, c.beat),
        bars.length,
        solo.notes.map((n) => n.start),
      );
      generatedForm.add(solo.notes, c.barLength, c.key);
      // each note as it sounds against the chord at its start (what the decoder found, fallbacks included)
      tally.add(solo.notes);
      for (const n of solo.notes) if (n.type === 'C' || inKey(n.midi, c.key)) keyOrChord++;
    }
    const otherChanges = opts.changes?.length
      ? await overChanges(
          opts.changes,
          (progression, rng) =>
            generateSolo(session, {
              bars: progression.length * 2,
              progression,
              barLength: CHANGES_BAR,
              sampler: opts.sampler,
              range: { low: melodyLow, high: Math.max(melodyHigh, melodyLow + 12) },
              rng,
              maxCopy: opts.maxCopy ?? null,
              rhythmGuide: opts.rhythmGuide ?? true,
              ...(opts.formBias === undefined ? {} : { formBias: opts.formBias }),
            }),
          `${opts.seed}`,
        )
      : null;
    const phrases = held.map(firstPhrases).filter((p): p is Phrases => p !== null);
    const answers: Midi[][] = [];
    for (const [i, ph] of phrases.entries())
      answers.push(await answerCall(session, ph, createRng(`${opts.seed}:call ${i}`), opts));
    const calls = phrases.map((ph) => ph.call.map((n) => n.midi));
    const own = typeShares(held.flatMap((c) => c.bars.flatMap((b) => b.tokens)));
    const base = baselines.score(scoredIds);
    return {
      heldOutTunes: held.length,
      heldOutTokens: total,
      outOfVocabulary: oov,
      model: nllModel / scored,
      unigram: base.unigram,
      bigram: base.bigram,
      bigramSmoothing: base.bigramSmoothing,
      generated: {
        lines: generated.length,
        notes: tally.notes,
        ...tally.shares,
        keyOrChord: tally.notes ? keyOrChord / tally.notes : 0,
        rhythmCopied: copiedShare(generated, known),
        longestCopy: longestCopy(generated),
        maxCopy: copyLimitFor(manifest, opts.maxCopy ?? null),
        meters: generatedMeters.summary(),
        form: generatedForm.summary(),
      },
      ...(otherChanges
        ? {
            otherChanges: {
              ...otherChanges.figures,
              rhythmCopied: copiedShare(otherChanges.tokens, known),
              longestCopy: longestCopy(otherChanges.tokens),
            },
          }
        : {}),
      answers: callResponse(calls, answers, createRng(`${opts.seed}:answers`)),
      tunePhrases: callResponse(
        calls,
        phrases.map((ph) => ph.second),
        createRng(`${opts.seed}:answers`),
      ),
      heldOutMelodies: {
        ...own,
        keyOrChord: keyOrChordShare(held),
        rhythmCopied: copiedShare(
          held.map((c) => c.bars.flatMap((b) => b.tokens)),
          known,
        ),
        longestCopy: longestCopy(held.map((c) => c.bars.flatMap((b) => b.tokens))),
        ...heldFigures(lines),
      },
    };
  } finally {
    await session.dispose();
  }
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

const figure = (f: PairedFigure): string =>
  `own ${pct(f.own)}, other calls ${pct(f.others)} (p ${f.p < 0.001 ? '< 0.001' : `= ${f.p.toFixed(3)}`})`;

function callLines(r: GrammarEval): string[] {
  const { answers: a, tunePhrases: t } = r;
  if (a.pairs === 0) return ['call and response: no held-out tune has four full bars to call and answer'];
  return [
    `answers to ${a.pairs} held-out calls (a tune's first two bars; the answer over the next two), three-interval patterns shared: ${figure(a.motifs)}; the tunes' own second phrase: ${figure(t.motifs)}`,
    `pitch-class closeness to the call: answers ${figure(a.pitchClasses)}; the tunes' own second phrase ${figure(t.pitchClasses)}`,
  ];
}

/** Meter by meter, the generated lines' rhythm beside the held-out melodies' (the same lines). */
function meterLines(r: GrammarEval): string[] {
  const held = new Map(r.heldOutMelodies.meters.map((m) => [m.meter, m]));
  const places = (m: MeterRhythm): string =>
    ONSET_PLACES.map((p) => (100 * m.onsets[p]).toFixed(0)).join('/');
  return r.generated.meters.flatMap((g) => {
    const h = held.get(g.meter);
    if (!h) return [];
    return [
      `${g.meter} (${h.lines} held-out tunes, ${h.bars} bars): notes a bar generated ${g.notesPerBar.toFixed(2)}, held-out melodies ${h.notesPerBar.toFixed(2)}; onsets on the ${ONSET_PLACES.join('/')} % generated ${places(g)}, held-out ${places(h)}`,
    ];
  });
}

/** The report as lines of text. */
export function grammarEvalLines(r: GrammarEval): string[] {
  const beats = (a: number, b: number): string => (a < b ? 'beats' : 'does NOT beat');
  return [
    `held out: ${r.heldOutTunes} tunes, ${r.heldOutTokens} tokens, ${pct(r.outOfVocabulary / Math.max(r.heldOutTokens, 1))} outside the vocabulary (skipped)`,
    `NLL nats/token: model ${r.model.toFixed(3)}, unigram ${r.unigram.toFixed(3)}, bigram ${r.bigram.toFixed(3)} (smoothing ${r.bigramSmoothing}); the model ${beats(r.model, r.unigram)} the unigram and ${beats(r.model, r.bigram)} the bigram`,
    `generated over the held-out progressions (${r.generated.lines} lines, ${r.generated.notes} notes): chord tones ${pct(r.generated.chordTones)}, chord or scale ${pct(r.generated.chordOrScale)}; the held-out melodies: ${pct(r.heldOutMelodies.chordTones)}, ${pct(r.heldOutMelodies.chordOrScale)}`,
    `notes in the tune's key or the sounding chord: generated ${pct(r.generated.keyOrChord)}, held-out melodies ${pct(r.heldOutMelodies.keyOrChord)}`,
    ...(r.otherChanges
      ? [
          `over ${r.otherChanges.progressions} other progressions (${r.otherChanges.lines} lines, ${r.otherChanges.notes} notes): chord tones ${pct(r.otherChanges.chordTones)}, chord or scale ${pct(r.otherChanges.chordOrScale)}, ${r.otherChanges.notesPerBar.toFixed(2)} notes a bar; ${RHYTHM_N}-note rhythms found in the training data ${pct(r.otherChanges.rhythmCopied)}, longest run found there (tokens / rhythm) ${r.otherChanges.longestCopy.tokens} / ${r.otherChanges.longestCopy.rhythm}`,
        ]
      : []),
    ...callLines(r),
    ...meterLines(r),
    `form: bars that recur within their line: generated ${pct(r.generated.form.recurringBars)}, held-out melodies ${pct(r.heldOutMelodies.form.recurringBars)}; lines with a recurring bar ${pct(r.generated.form.linesWithRecurring)}, ${pct(r.heldOutMelodies.form.linesWithRecurring)}; lines ending on the key's tonic ${pct(r.generated.form.tonicEndings)}, ${pct(r.heldOutMelodies.form.tonicEndings)}`,
    `${RHYTHM_N}-note rhythm n-grams found in the training data: generated ${pct(r.generated.rhythmCopied)}, held-out melodies ${pct(r.heldOutMelodies.rhythmCopied)}`,
    `longest run found in the training data (tokens / rhythm): generated ${r.generated.longestCopy.tokens} / ${r.generated.longestCopy.rhythm}` +
      ` under ${r.generated.maxCopy ? `--max-copy ${r.generated.maxCopy.tokens}${r.generated.maxCopy.rhythm !== null && r.generated.maxCopy.rhythm !== r.generated.maxCopy.tokens ? ` (rhythm ${r.generated.maxCopy.rhythm})` : ''}` : 'no bound'}` +
      `, held-out melodies ${r.heldOutMelodies.longestCopy.tokens} / ${r.heldOutMelodies.longestCopy.rhythm}`,
  ];
}
