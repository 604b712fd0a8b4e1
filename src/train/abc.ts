/**
 * `improv train abc`: ABC tunes → char-LSTM (Embedding → LSTM → Dense over the characters) → ONNX
 * bundle. The embedding is a bias-free Dense on one-hot input, so its gradient is a MatMul that every
 * backend has (wasm lacks UnsortedSegmentSum, the Embedding layer's gradient); it exports as Gather.
 * The lab's configuration is `--embedding 256 --units 1024 --seq 100 --batch 32 --lr 5e-3`; the
 * default is smaller, to train to a usable model on a 2-core CPU in under an hour.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_MANIFEST, readManifest, writeManifestSync, type BundleManifest } from '../music/bundle.ts';
import { abcMusicLines, encodeCopyIndex, joinLines } from '../music/copyIndex.ts';
import { BundleError } from '../music/errors.ts';
import { writeFileAtomicSync } from '../music/files.ts';
import { chooseCopyBound } from './copyBound.ts';
import { sha256 } from './sha.ts';
import { charVocabulary, joinTunes, splitTunes, splitValidation, vectorize } from '../music/abc/corpus.ts';
import { InputFileError } from '../music/errors.ts';
import { readText } from '../music/files.ts';
import { createRng } from '../music/rng.ts';
import { trainAndExport, type CommonTrainOptions } from './pipeline.ts';
import type { LearningSchedule } from './trainer.ts';
import { lengthTable } from '../music/abc/lengths.ts';
import { shortShareTable } from '../music/abc/shortNotes.ts';

export interface AbcTrainOptions extends CommonTrainOptions {
  readonly embedding: number;
  /** Random batches per epoch. */
  readonly batchesPerEpoch: number;
  /** Also export the int8 variant the runtime plays (for large models: a step reads 4× fewer bytes). */
  readonly quantize?: boolean;
  /**
   * Learn each tune whole, from a fresh state at its `X:` line to the blank line that ends it (see
   * TrainOptions.wholeStreams), instead of random windows of the joined text; `--seq` and `--batches`
   * are then unused. A model so trained plays each tune from a fresh state (model/tune.ts).
   */
  readonly wholeTunes?: boolean;
  readonly schedule?: LearningSchedule;
}

export { ABC_DEFAULTS } from './defaults.ts';

/** Reads every file's tunes; a file with no `X:` tune is refused by name. */
export function readTunes(files: readonly string[]): string[] {
  return files.flatMap((file) => {
    const text = readText(file);
    const tunes = splitTunes(text);
    if (tunes.length === 0) throw new InputFileError(file, 'no ABC tunes (no line starts with X:)');
    return tunes;
  });
}

/**
 * The corpus as the trainer splits it: whole tunes held out by a seeded draw, the training tunes
 * joined into one stream, the held-out ones (joined, and tune by tune).
 */
export function abcSplit(
  files: readonly string[],
  share: number,
  seed: number,
): { tunes: number; train: string[]; validation: string[]; vocabulary: string[]; trainIds: number[] } {
  const tunes = readTunes(files);
  const { train, validation } = splitValidation(tunes, share, createRng(`split:${seed}`));
  const vocabulary = charVocabulary(tunes.map((t) => `${t}\n\n`));
  return {
    tunes: tunes.length,
    train,
    validation,
    vocabulary,
    trainIds: vectorize(joinTunes(train), vocabulary).ids,
  };
}

/** What the char model's copy bound is measured on: the music lines of the training text, and of each held-out tune. */
function copyMaterial(
  trainIds: readonly number[],
  validation: readonly string[],
  vocabulary: readonly string[],
): { copyTrain: number[][]; copyHeldOut: number[][] } {
  return {
    copyTrain: abcMusicLines(trainIds, vocabulary),
    copyHeldOut: validation.map((t) => joinLines(abcMusicLines(vectorize(t, vocabulary).ids, vocabulary))),
  };
}

/**
 * A char bundle's split, re-made from the files and the share its manifest records: each file's
 * sha256 must match, and the split must give the manifest's vocabulary and training characters.
 */
function recordedSplit(
  dir: string,
  opts: { validation: number },
): { manifest: BundleManifest; where: string; split: ReturnType<typeof abcSplit> } {
  const manifest = readManifest(dir);
  const where = join(dir, BUNDLE_MANIFEST);
  if (manifest.kind !== 'abc-char')
    throw new BundleError(
      where,
      'kind',
      `${manifest.kind}: a grammar bundle retrains in minutes; retrain it`,
    );
  for (const d of manifest.training.data)
    if (!existsSync(d.file) || sha256(d.file) !== d.sha256)
      throw new BundleError(
        where,
        'training.data',
        `${d.file} is missing or not the file the model was trained on`,
      );
  const split = abcSplit(
    manifest.training.data.map((d) => d.file),
    manifest.training.split?.share ?? opts.validation,
    manifest.hyperparameters.seed,
  );
  if (split.vocabulary.join('') !== manifest.vocabulary.join(''))
    throw new BundleError(
      where,
      'vocabulary',
      'the data gives another vocabulary: not the split it was trained on',
    );
  if (split.trainIds.length !== manifest.training.tokens)
    throw new BundleError(
      where,
      'training.tokens',
      `the split gives ${split.trainIds.length} training characters, the manifest ${manifest.training.tokens}: another --validation?`,
    );
  return { manifest, where, split };
}

/**
 * Gives a char bundle the quantized variant the trainer writes now (onnxQuant.ts), from its fp32
 * graph, measured against it and on the held-out tunes of the split its manifest records.
 */
export async function quantizeAbcBundle(dir: string, opts: { validation: number }): Promise<BundleManifest> {
  const { manifest, split } = recordedSplit(dir, opts);
  const heldOut = split.validation.flatMap((t) => vectorize(`${t}\n\n`, split.vocabulary).ids);
  const { requantizeBundle } = await import('./exportBundle.ts');
  return requantizeBundle(dir, manifest, heldOut);
}

/**
 * Gives an older char bundle (one trained before bundles carried their training data) its copy index
 * and its measured copy bound, and any char bundle without one its note-length table (lengths.ts),
 * from the files and the split its manifest records: each file's sha256
 * must match, and the split must give the vocabulary and the number of training characters the
 * manifest records, or nothing is written. The index file goes first, then the manifest (the commit).
 */
export function indexAbcBundle(dir: string, opts: { validation: number }): BundleManifest {
  const { manifest, where, split } = recordedSplit(dir, opts);
  const abcLengths = lengthTable(split.train);
  const abcShortShare = shortShareTable(split.train);
  if (manifest.training.copyIndex && manifest.copyBound) {
    // it has its index and bound already: only the length and short-note tables
    const next: BundleManifest = { ...manifest, abcLengths, abcShortShare };
    writeManifestSync(where, next);
    return next;
  }
  const index = encodeCopyIndex([split.trainIds]);
  const material = copyMaterial(split.trainIds, split.validation, split.vocabulary);
  const next: BundleManifest = {
    ...manifest,
    training: {
      ...manifest.training,
      copyIndex: { file: index.name, sequences: 1, tokens: split.trainIds.length },
    },
    copyBound: chooseCopyBound(material.copyTrain, material.copyHeldOut, null, 'tunes'),
    abcLengths,
    abcShortShare,
  };
  writeFileAtomicSync(join(dir, index.name), index.bytes);
  writeManifestSync(where, next);
  return next;
}

export async function trainAbc(opts: AbcTrainOptions): Promise<BundleManifest> {
  if (opts.data.length === 0) throw new Error('train abc: --data needs at least one ABC file');
  const {
    tunes: count,
    train,
    validation,
    vocabulary,
    trainIds,
  } = abcSplit(opts.data, opts.validation, opts.seed);
  const valIds = vectorize(joinTunes(validation), vocabulary).ids;
  // a whole tune is its text and the blank line that ends it: the model learns where a tune stops
  const tuneIds = (tunes: readonly string[]): number[][] =>
    tunes.map((t) => vectorize(`${t}\n\n`, vocabulary).ids);
  opts.log(
    `corpus: ${count} tunes (${train.length} training, ${validation.length} held out), ${trainIds.length} training characters, vocabulary ${vocabulary.length}`,
  );
  const { manifest } = await trainAndExport({
    ...opts,
    kind: 'abc-char',
    title: 'ABC char-LSTM',
    spec: {
      vocabSize: vocabulary.length,
      units: opts.units,
      layers: opts.layers,
      dropout: opts.dropout,
      embedding: opts.embedding,
      seed: opts.seed,
    },
    vocabulary,
    profile: 'abc-tunes',
    split: { by: 'tunes', share: opts.validation, training: train.length, heldOut: validation.length },
    abcLengths: lengthTable(train),
    abcShortShare: shortShareTable(train),
    ...(opts.wholeTunes
      ? { train: tuneIds(train), validation: tuneIds(validation), wholeStreams: true }
      : { train: [trainIds], validation: valIds.length > opts.sequenceLength ? [valIds] : [] }),
    ...(opts.schedule ? { schedule: opts.schedule } : {}),
    // the default copy bound is measured tune by tune, on the tunes' bodies (as the bound holds)
    ...copyMaterial(trainIds, validation, vocabulary),
    stride: opts.sequenceLength,
    randomBatches: opts.batchesPerEpoch,
    contextual: true,
    bitsPerToken: true,
  });
  return manifest;
}
