/**
 * `improv train jazz`: MIDI files → grammar corpus → value-LSTM → ONNX bundle with manifest,
 * loss curve and checkpoints. Defaults follow the Coursera assignment (n_a = 64, Adam lr 0.01, Tx = 30).
 */
import type { BundleManifest } from '../music/bundle.ts';
import { onsetGrids } from '../music/onsetGrid.ts';
import { readFileSync } from 'node:fs';
import { readLeadSheets } from '../music/abc/leadsheet.ts';
import { featuresOf, meterName, type FeatureGroup } from '../music/conditioning.ts';
import {
  buildCorpus,
  buildVocabulary,
  corpusConditions,
  corpusTokens,
  idsInVocabulary,
  lookbackTokens,
  pitchSpan,
  type CorpusProfile,
  type JazzCorpus,
} from '../music/corpus.ts';
import { InputFileError, ioReason } from '../music/errors.ts';
import { jointVocabulary, readInitialModel, widenVocabulary } from './init.ts';
import { createRng } from '../music/rng.ts';
import { readSmf } from '../music/smf.ts';
import { trainAndExport, type CommonTrainOptions } from './pipeline.ts';

export interface JazzTrainOptions extends CommonTrainOptions {
  readonly profile: CorpusProfile;
  readonly melodyTrack?: number;
  readonly chordTrack?: number;
  readonly stride: number;
  /** Condition the model on chord, bar and phrase (default: on for the full profile, off for faithful). */
  readonly condition?: boolean;
  /** Meters ('3/4', 'all') whose ABC tunes without chord symbols get chords inferred from the melody. */
  readonly harmonize?: readonly string[];
  /** What a conditioned model hears beside chord and place (default: the key and lookback). */
  readonly features?: readonly FeatureGroup[];
  /**
   * Training tunes in these meters are trained on this many times over (a meter the corpus holds
   * few tunes of, such as the waltzes beside 800 reels and jigs); validation is left as it is.
   */
  readonly oversample?: Readonly<Record<string, number>>;
  /**
   * A grammar bundle to start from (fine-tuning, init.ts): its weights, units and layers, and its
   * vocabulary with this data's tokens added. It must hear what this run gives it.
   */
  readonly init?: string;
}

export { JAZZ_DEFAULTS } from './defaults.ts';

/** Share of melody tokens (not rests) typed C or S. */
export function chordScaleShare(corpora: readonly JazzCorpus[]): number {
  const notes = corpora.flatMap((c) => c.bars.flatMap((b) => b.tokens)).filter((t) => t.type !== 'R');
  return notes.length ? notes.filter((t) => t.type === 'C' || t.type === 'S').length / notes.length : 0;
}

/** `file`, or `file#X` for a tune of a multi-tune ABC file: how held-out tunes are named. */
export const tuneId = (c: JazzCorpus): string => (c.tune ? `${c.file}#${c.tune.number}` : c.file);

/**
 * Reads every file first, so a bad one fails before anything is trained or written: MIDI files
 * (melody and accompaniment tracks) and ABC files with chord symbols (one corpus per tune).
 */
export function readCorpora(
  files: readonly string[],
  opts: Pick<JazzTrainOptions, 'profile' | 'melodyTrack' | 'chordTrack' | 'harmonize'>,
  log?: (line: string) => void,
): JazzCorpus[] {
  return files.flatMap((f) => {
    if (!/\.abc$/i.test(f)) return [buildCorpus(readSmf(f), opts)];
    if (opts.profile === 'faithful')
      throw new InputFileError(f, 'the faithful profile reads the original MIDI file only, not ABC');
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err) {
      throw new InputFileError(f, `cannot read (${ioReason(err)})`);
    }
    const { corpora, stats } = readLeadSheets(text, f, { harmonize: opts.harmonize ?? [] });
    log?.(
      `${f}: ${corpora.length} of ${stats.tunes} tunes with chords` +
        (stats.skippedTunes
          ? ` (${stats.skippedTunes} without a meter, notes or chord symbols left out)`
          : '') +
        (stats.harmonized ? `, ${stats.harmonized} given chords inferred from the melody` : '') +
        (stats.unknownSymbols
          ? `, ${stats.unknownSymbols} chord symbols not understood (the chord before goes on)`
          : ''),
    );
    return corpora;
  });
}

/**
 * Which corpora are held out for validation: with two or more tunes, whole tunes (a seeded draw of
 * `share` of them, at least one), never the tail of a tune the model trains on; with one, its last bars.
 */
export function holdOut(
  corpora: readonly JazzCorpus[],
  share: number,
  seed: number,
): { mode: 'tunes' | 'tail'; heldOut: Set<number> } {
  if (corpora.length < 2 || share <= 0) return { mode: 'tail', heldOut: new Set() };
  const order = corpora.map((_, i) => i);
  const rng = createRng(`${seed}:held-out tunes`);
  rng.shuffle(order);
  const n = Math.min(corpora.length - 1, Math.max(1, Math.round(corpora.length * share)));
  return { mode: 'tunes', heldOut: new Set(order.slice(0, n)) };
}

export async function trainJazz(opts: JazzTrainOptions): Promise<BundleManifest> {
  if (opts.data.length === 0) throw new Error('train jazz: --data needs at least one MIDI or ABC file');
  const corpora = readCorpora(opts.data, opts, opts.log);
  const conditioned = opts.condition ?? opts.profile === 'full';
  if (conditioned && opts.profile === 'faithful')
    throw new Error(
      'train jazz: the faithful profile is the original, unconditioned model (leave out --condition)',
    );
  const { mode, heldOut } = holdOut(corpora, opts.profile === 'faithful' ? 0 : opts.validation, opts.seed);
  const groups = opts.features ?? ['key', 'lookback'];
  const features = featuresOf(groups);
  const W = features.length;
  // a model that hears lookback also says "restate" (repeat markers); its copy index holds the music
  const repeats = conditioned && groups.includes('lookback');
  const parts = corpora.map((c, i) => {
    const tokens = repeats ? lookbackTokens(c) : corpusTokens(c);
    const cond = conditioned ? corpusConditions(c, features) : new Float32Array(0);
    if (mode === 'tunes') {
      const empty = { tokens: [] as string[], cond: new Float32Array(0) };
      return heldOut.has(i)
        ? { train: empty, val: { tokens, cond } }
        : { train: { tokens, cond }, val: empty };
    }
    const nVal = opts.profile === 'faithful' ? 0 : Math.floor(c.bars.length * opts.validation);
    const cut = c.bars.slice(0, c.bars.length - nVal).reduce((n, b) => n + b.tokens.length, 0);
    return {
      train: { tokens: tokens.slice(0, cut), cond: cond.slice(0, conditioned ? cut * W : 0) },
      val: { tokens: tokens.slice(cut), cond: cond.slice(conditioned ? cut * W : 0) },
    };
  });
  // the vocabulary is what the model trains on; held-out tokens outside it are skipped and counted;
  // with repeat markers, every plain token too (what a marker resolves to, and the copy index's music)
  const plainTrain = repeats
    ? corpora.filter((_, i) => mode !== 'tunes' || !heldOut.has(i)).map(corpusTokens)
    : [];
  const own = [...parts.flatMap((p) => p.train.tokens), ...plainTrain.flat()];
  // fine-tuning: the pretrained model's tokens and this data's, its weights widened to hold both
  const init = opts.init ? readInitialModel(opts.init, conditioned ? features : []) : null;
  const vocabulary = init ? jointVocabulary(init.manifest.vocabulary, own) : buildVocabulary(own);
  const index = new Map(vocabulary.map((v, i) => [v, i]));
  let unseen = 0;
  const encode = (part: { tokens: string[]; cond: Float32Array }): { ids: number[]; cond: Float32Array } => {
    const kept = idsInVocabulary(part.tokens, index, conditioned ? part.cond : null, W);
    unseen += kept.outOfVocabulary;
    return { ids: kept.ids, cond: kept.conditions };
  };
  const times = (c: JazzCorpus): number => opts.oversample?.[meterName(c.barLength, c.beat)] ?? 1;
  const train = parts.flatMap((p, i) => {
    const s = encode(p.train);
    return s.ids.length > 0 ? Array.from({ length: times(corpora[i] as JazzCorpus) }, () => s) : [];
  });
  const validationTokens = parts.reduce((n, p) => n + p.val.tokens.length, 0);
  const validation = parts.map((p) => encode(p.val)).filter((s) => s.ids.length > 1);
  const plainIds = (tokens: readonly string[]): number[] => idsInVocabulary(tokens, index, null, 0).ids;
  const copies = repeats
    ? {
        copyIndex: plainTrain.map(plainIds),
        copyTrain: plainTrain.map(plainIds),
        copyHeldOut: corpora
          .filter((_, i) => mode === 'tunes' && heldOut.has(i))
          .map((c) => plainIds(corpusTokens(c)))
          .filter((s) => s.length > 1),
      }
    : {};
  const describe = (c: JazzCorpus): string =>
    c.melodyTrack && c.chordTrack
      ? `${c.file} (${c.profile}, melody track ${c.melodyTrack.index} '${c.melodyTrack.name}', chords from track ${c.chordTrack.index} '${c.chordTrack.name}', ${c.bars.length} bars)`
      : `${tuneId(c)} (${c.bars.length} bars)`;
  opts.log(
    corpora.length <= 4
      ? `corpus: ${corpora.map(describe).join('; ')}`
      : `corpus: ${corpora.length} tunes from ${opts.data.length} files`,
  );
  opts.log(
    `${train.reduce((n, s) => n + s.ids.length, 0)} training tokens, ${validationTokens} validation tokens ` +
      `(${mode === 'tunes' ? `${heldOut.size} whole tunes held out` : 'the last bars of each file'}; ${unseen} outside the vocabulary, skipped), ` +
      `vocabulary ${vocabulary.length}, ${conditioned ? `conditioned on ${W} features (${['place', ...(opts.features ?? ['key', 'lookback'])].join(', ')})` : 'unconditioned'}`,
  );
  const first = corpora.find((_, i) => !heldOut.has(i)) as JazzCorpus;
  const melodyRange = pitchSpan(corpora.flatMap((c) => c.melodyPitches));
  const spec = {
    vocabSize: vocabulary.length,
    units: init?.spec.units ?? opts.units,
    layers: init?.spec.layers ?? opts.layers,
    dropout: opts.dropout,
    embedding: 0,
    seed: opts.seed,
    ...(conditioned ? { conditioning: W } : {}),
  };
  if (init)
    opts.log(
      `starting from ${init.dir} (${init.spec.units} units, ${init.spec.layers} layer(s)): ` +
        `${vocabulary.length - init.manifest.vocabulary.length} tokens new to it, of ${vocabulary.length}`,
    );
  const { manifest } = await trainAndExport({
    ...opts,
    kind: 'jazz-grammar',
    title: 'jazz value-LSTM',
    spec,
    vocabulary,
    ...(init
      ? {
          initial: widenVocabulary(init.weights, init.spec, init.manifest.vocabulary, vocabulary),
          initFrom: init.record,
        }
      : {}),
    ...copies,
    train: train.map((s) => s.ids),
    validation: validation.map((s) => s.ids),
    ...(conditioned
      ? { conditions: { train: train.map((s) => s.cond), validation: validation.map((s) => s.cond) } }
      : {}),
    ...(conditioned ? { conditioning: { features } } : {}),
    jazz: {
      barLength: first.barLength,
      beat: first.beat,
      bpm: first.bpm,
      progression: first.bars
        .filter((b) => b.bar >= 0)
        .map((b) => b.chords.map((c) => ({ onset: c.onset, pitches: [...c.pitches] }))),
      melodyRange,
      chordScaleShare: chordScaleShare(corpora),
      ...(opts.harmonize?.length ? { harmonize: [...opts.harmonize] } : {}),
      ...(opts.oversample ? { oversample: { ...opts.oversample } } : {}),
      // the seed's profile plays as the seed did: no guide
      ...(opts.profile === 'faithful'
        ? {}
        : {
            onsetGrid: onsetGrids(
              corpora
                .filter((_, i) => !(mode === 'tunes' && heldOut.has(i)))
                .map((c) => ({
                  barLength: c.barLength,
                  beat: c.beat,
                  onsets: c.bars.flatMap((b) => b.onsets),
                })),
            ).map((g) => ({ ...g, positions: [...g.positions] })),
          }),
      ...(opts.profile === 'faithful'
        ? {}
        : {
            validation: mode,
            heldOut:
              mode === 'tunes'
                ? [...heldOut].sort((a, b) => a - b).map((i) => tuneId(corpora[i] as JazzCorpus))
                : corpora.map(
                    (c) => `${tuneId(c)}@${c.bars.length - Math.floor(c.bars.length * opts.validation)}`,
                  ),
          }),
    },
  });
  return manifest;
}
