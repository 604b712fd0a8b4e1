/**
 * `improv train abc`: ABC tunes → char-LSTM (Embedding → LSTM → Dense over the characters) → ONNX
 * bundle. The embedding is a bias-free Dense on one-hot input, so its gradient is a MatMul that every
 * backend has (wasm lacks UnsortedSegmentSum, the Embedding layer's gradient); it exports as Gather.
 * The lab's configuration is `--embedding 256 --units 1024 --seq 100 --batch 32 --lr 5e-3`; the
 * default is smaller, to train to a usable model on a 2-core CPU in under an hour.
 */
import type { BundleManifest } from '../music/bundle.ts';
import { charVocabulary, joinTunes, splitTunes, splitValidation, vectorize } from '../music/abc/corpus.ts';
import { InputFileError } from '../music/errors.ts';
import { readText } from '../music/files.ts';
import { createRng } from '../music/rng.ts';
import { trainAndExport, type CommonTrainOptions } from './pipeline.ts';

export interface AbcTrainOptions extends CommonTrainOptions {
  readonly embedding: number;
  /** Random batches per epoch. */
  readonly batchesPerEpoch: number;
  /** Also export the int8 variant the runtime plays (for large models: a step reads 4× fewer bytes). */
  readonly quantize?: boolean;
}

export const ABC_DEFAULTS = {
  embedding: 64,
  units: 256,
  layers: 1,
  dropout: 0,
  epochs: 20,
  batchesPerEpoch: 32,
  learningRate: 5e-3,
  batchSize: 32,
  sequenceLength: 100,
  validation: 0.05,
  seed: 1,
} as const;

/** Reads every file's tunes; a file with no `X:` tune is refused by name. */
export function readTunes(files: readonly string[]): string[] {
  return files.flatMap((file) => {
    const text = readText(file);
    const tunes = splitTunes(text);
    if (tunes.length === 0) throw new InputFileError(file, 'no ABC tunes (no line starts with X:)');
    return tunes;
  });
}

export async function trainAbc(opts: AbcTrainOptions): Promise<BundleManifest> {
  if (opts.data.length === 0) throw new Error('train abc: --data needs at least one ABC file');
  const tunes = readTunes(opts.data);
  const { train, validation } = splitValidation(tunes, opts.validation, createRng(`split:${opts.seed}`));
  const vocabulary = charVocabulary(tunes.map((t) => `${t}\n\n`));
  const trainIds = vectorize(joinTunes(train), vocabulary).ids;
  const valIds = vectorize(joinTunes(validation), vocabulary).ids;
  opts.log(
    `corpus: ${tunes.length} tunes (${train.length} training, ${validation.length} held out), ${trainIds.length} training characters, vocabulary ${vocabulary.length}`,
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
    train: [trainIds],
    validation: valIds.length > opts.sequenceLength ? [valIds] : [],
    stride: opts.sequenceLength,
    randomBatches: opts.batchesPerEpoch,
    contextual: true,
    bitsPerToken: true,
  });
  return manifest;
}
