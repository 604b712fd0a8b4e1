/**
 * Starting a grammar model from another bundle's weights (`train jazz --init DIR`): pretrained on the
 * folk tunes' grammar tokens, fine-tuned on a solo. The two corpora share the grammar but not every
 * token, so the vocabulary is both bundles' together: a token the pretrained model knows keeps its
 * input row and output column, a token only the new data holds starts with a zero input row and an
 * output column that predicts it no more often than the rarest known token.
 *
 * Hand-written: the weights are our own layout (model.ts) and no library widens a one-hot LSTM.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest, type BundleManifest } from '../music/bundle.ts';
import { buildVocabulary } from '../music/corpus.ts';
import { BundleError, InputFileError, ioReason } from '../music/errors.ts';
import { conditionWidth, type LstmLmSpec, type LstmLmWeights } from './model.ts';
import { readOnnxWeights } from './onnxGraph.ts';
import { sha256 } from './sha.ts';

/** A bundle's model, ready to start training from. */
export interface InitialModel {
  readonly dir: string;
  readonly manifest: BundleManifest;
  readonly spec: LstmLmSpec;
  readonly weights: LstmLmWeights;
  /** What the manifest records: the bundle and the sha256 of its graph. */
  readonly record: { readonly bundle: string; readonly model: string; readonly sha256: string };
}

/**
 * Reads a grammar bundle to start from, and checks it hears what this run's data gives it (`features`:
 * the conditioning names, empty for an unconditioned run). Throws naming the bundle and the field.
 */
export function readInitialModel(dir: string, features: readonly string[]): InitialModel {
  const manifest = readManifest(dir);
  const where = join(dir, 'manifest.json');
  if (manifest.kind !== 'jazz-grammar')
    throw new BundleError(where, 'kind', `'${manifest.kind}': --init takes a grammar model (jazz-grammar)`);
  const h = manifest.hyperparameters;
  if (h.embedding !== 0)
    throw new BundleError(where, 'hyperparameters.embedding', '--init takes a one-hot grammar model');
  const heard = manifest.conditioning?.features ?? [];
  if (heard.join(',') !== features.join(','))
    throw new BundleError(
      where,
      'conditioning.features',
      `the model hears ${heard.length} values, this run gives ${features.length} ` +
        '(train with the same --features and --condition as the model was)',
    );
  const spec: LstmLmSpec = {
    vocabSize: manifest.vocabulary.length,
    units: h.units,
    layers: h.layers,
    dropout: h.dropout,
    embedding: 0,
    seed: h.seed,
    ...(heard.length ? { conditioning: heard.length } : {}),
  };
  const file = join(dir, manifest.model);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new InputFileError(file, `cannot read (${ioReason(err)})`);
  }
  let weights: LstmLmWeights;
  try {
    weights = readOnnxWeights(bytes, spec);
  } catch (err) {
    throw new InputFileError(file, err instanceof Error ? err.message : String(err));
  }
  return {
    dir,
    manifest,
    spec,
    weights,
    record: { bundle: dir, model: manifest.model, sha256: sha256(file) },
  };
}

/** The vocabulary a fine-tuned model needs: the pretrained one's tokens and the new data's. */
export const jointVocabulary = (known: readonly string[], data: readonly string[]): string[] =>
  buildVocabulary([...known, ...data]);

/**
 * `weights` of a model over `from` (spec `spec`), laid out for the vocabulary `to`, which holds every
 * token of `from`: known tokens keep their rows and columns, new ones start as the header says.
 */
export function widenVocabulary(
  weights: LstmLmWeights,
  spec: LstmLmSpec,
  from: readonly string[],
  to: readonly string[],
): LstmLmWeights {
  if (weights.embedding) throw new RangeError('widenVocabulary: a one-hot model only (embedding 0)');
  const old = new Map(from.map((t, i) => [t, i]));
  const missing = from.filter((t) => !to.includes(t));
  if (missing.length) throw new RangeError(`widenVocabulary: the new vocabulary lacks '${missing[0]}'`);
  const V = from.length;
  const V2 = to.length;
  const G = 4 * spec.units;
  const C = conditionWidth(spec);
  const [first, ...rest] = weights.lstm;
  if (!first) throw new RangeError('widenVocabulary: the model has no LSTM layer');
  const kernel = new Float32Array((V2 + C) * G);
  to.forEach((t, j) => {
    const i = old.get(t);
    if (i !== undefined) kernel.set(first.kernel.subarray(i * G, (i + 1) * G), j * G);
  });
  kernel.set(first.kernel.subarray(V * G, (V + C) * G), V2 * G);
  const H = spec.units;
  const outputKernel = new Float32Array(H * V2);
  const outputBias = new Float32Array(V2);
  const rarest = weights.outputBias.reduce((m, b) => Math.min(m, b), Infinity);
  to.forEach((t, j) => {
    const i = old.get(t);
    outputBias[j] = i === undefined ? rarest : (weights.outputBias[i] as number);
    if (i !== undefined)
      for (let h = 0; h < H; h++) outputKernel[h * V2 + j] = weights.outputKernel[h * V + i] as number;
  });
  return { embedding: null, lstm: [{ ...first, kernel }, ...rest], outputKernel, outputBias };
}
