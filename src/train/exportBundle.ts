/**
 * Exports a trained model as an ONNX bundle (model.onnx + manifest.json), after checking the ONNX graph
 * under onnxruntime against the trainer's own forward pass on random sequences. A bundle that does not
 * agree within tolerance is refused and nothing is written.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomicSync } from '../music/files.ts';
import { crashPoint } from './crashPoint.ts';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { BUNDLE_MANIFEST, writeManifestSync, type BundleManifest } from '../music/bundle.ts';
import { createRng } from '../music/rng.ts';
import { conditionWidth, extractWeights, oneHotBatch, type LstmLmSpec } from './model.ts';
import { buildOnnx, ONNX_IO, readOnnxWeights } from './onnxGraph.ts';
import { CONDITION_INPUT } from './ortGraph.ts';
import { buildQuantizedOnnx, QUANT_BITS, QUANT_BLOCK } from './onnxQuant.ts';
import { UserError } from '../music/errors.ts';

/**
 * The graph files are named by their content (`model-<sha256 12>.onnx`, `….int4.onnx`), so a new
 * export never overwrites a file the old manifest names: see writeBundle.
 */
const modelFileFor = (bytes: Uint8Array, suffix: string): string =>
  `model-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}${suffix}`;

/**
 * Bits per token of an ONNX language model on a token stream, read as the runtime reads it: from the
 * start token with zero state, in chunks of `chunk` steps carrying the state on.
 */
export async function bitsPerToken(
  onnxBytes: Uint8Array,
  spec: LstmLmSpec,
  ids: readonly number[],
  chunk = 100,
): Promise<number> {
  const session = await ort.InferenceSession.create(onnxBytes, { intraOpNumThreads: 1 });
  try {
    const size = spec.layers * spec.units;
    let h = new Float32Array(size);
    let c = new Float32Array(size);
    const inputs = [spec.vocabSize, ...ids.slice(0, -1)];
    let nats = 0;
    for (let i = 0; i < ids.length; i += chunk) {
      const part = inputs.slice(i, i + chunk);
      const out = await session.run({
        [ONNX_IO.inputs.tokens]: new ort.Tensor('int64', BigInt64Array.from(part.map(BigInt)), [
          part.length,
          1,
        ]),
        [ONNX_IO.inputs.h]: new ort.Tensor('float32', h, [spec.layers, 1, spec.units]),
        [ONNX_IO.inputs.c]: new ort.Tensor('float32', c, [spec.layers, 1, spec.units]),
      });
      const probs = out[ONNX_IO.outputs.probs]?.data as Float32Array;
      part.forEach(
        (_, t) =>
          (nats -= Math.log(Math.max(probs[t * spec.vocabSize + (ids[i + t] as number)] as number, 1e-12))),
      );
      h = Float32Array.from(out[ONNX_IO.outputs.h]?.data as Float32Array);
      c = Float32Array.from(out[ONNX_IO.outputs.c]?.data as Float32Array);
    }
    return nats / ids.length / Math.LN2;
  } finally {
    await session.release();
  }
}
export const FIDELITY_TOLERANCE = 1e-4;

export class FidelityError extends UserError {
  override readonly name = 'FidelityError';
}

/**
 * Max |Δ| between the reference's probabilities (the trainer's model, or another ONNX graph of the
 * same model) and ONNX's over `count` random sequences of `length` tokens, each starting from the
 * start token with zero state.
 */
export async function fidelityCheck(
  reference: tf.LayersModel | Uint8Array,
  spec: LstmLmSpec,
  onnxBytes: Uint8Array,
  opts: { count: number; length: number; seed: number },
): Promise<number> {
  const rng = createRng(`fidelity:${opts.seed}`);
  const rows = Array.from({ length: opts.count }, () => [
    spec.vocabSize,
    ...Array.from({ length: opts.length - 1 }, () => rng.int(spec.vocabSize)),
  ]);
  // a conditioned model hears random conditioning: half its values 0/1 flags, half in [−1, 1]
  const C = conditionWidth(spec);
  const conditions = rows.map(() =>
    Float32Array.from({ length: opts.length * C }, (_, i) => (i % 2 ? rng.int(2) : rng.next() * 2 - 1)),
  );
  const T = opts.length;
  const B = opts.count;
  const V = spec.vocabSize;
  // the trainer's output is [batch, seq, V]; an ONNX graph's [seq, batch, V]
  const expected =
    reference instanceof Uint8Array
      ? await onnxBatch(reference, spec, rows, conditions)
      : tf.tidy(() =>
          (
            reference.predict(
              oneHotBatch(rows, spec.vocabSize, C > 0 ? { rows: conditions, width: C } : undefined),
            ) as tf.Tensor
          ).dataSync(),
        );
  const at = (b: number, t: number): number =>
    reference instanceof Uint8Array ? (t * B + b) * V : (b * T + t) * V;
  const probs = await onnxBatch(onnxBytes, spec, rows, conditions);
  let max = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let v = 0; v < V; v++) {
        const d = Math.abs((expected[at(b, t) + v] as number) - (probs[(t * B + b) * V + v] as number));
        if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
      }
    }
  }
  return max;
}

/** An ONNX graph's probabilities for a batch of rows of equal length, from zero state: [seq, batch, V]. */
async function onnxBatch(
  onnxBytes: Uint8Array,
  spec: LstmLmSpec,
  rows: readonly (readonly number[])[],
  conditions: readonly Float32Array[],
): Promise<Float32Array> {
  const C = conditionWidth(spec);
  const T = rows[0]?.length ?? 0;
  const B = rows.length;
  const session = await ort.InferenceSession.create(onnxBytes, { intraOpNumThreads: 1 });
  try {
    const tokens = new BigInt64Array(T * B);
    rows.forEach((row, b) => row.forEach((id, t) => (tokens[t * B + b] = BigInt(id))));
    const state = (): ort.Tensor =>
      new ort.Tensor('float32', new Float32Array(spec.layers * B * spec.units), [spec.layers, B, spec.units]);
    const cond = new Float32Array(T * B * C);
    conditions.forEach((row, b) => {
      for (let t = 0; t < T; t++) cond.set(row.subarray(t * C, (t + 1) * C), (t * B + b) * C);
    });
    const out = await session.run({
      [ONNX_IO.inputs.tokens]: new ort.Tensor('int64', tokens, [T, B]),
      [ONNX_IO.inputs.h]: state(),
      [ONNX_IO.inputs.c]: state(),
      ...(C > 0 ? { [CONDITION_INPUT]: new ort.Tensor('float32', cond, [T, B, C]) } : {}),
    });
    return out[ONNX_IO.outputs.probs]?.data as Float32Array;
  } finally {
    await session.release();
  }
}

export interface ExportOptions {
  readonly model: tf.LayersModel;
  readonly spec: LstmLmSpec;
  readonly outDir: string;
  /** Everything of the manifest but what the exporter fills in itself. */
  readonly manifest: Omit<BundleManifest, 'format' | 'version' | 'model' | 'startToken' | 'io' | 'fidelity'>;
  /** Also write the int8 variant, measured on these held-out token ids (null: none held out). */
  readonly quantize?: { readonly heldOut: readonly number[] | null };
  /** Other files the manifest names (the copy index), written before it like the graphs. */
  readonly files?: readonly (readonly [string, Uint8Array])[];
  /** Test hook: alters the ONNX weights before the check, to prove the check refuses. */
  readonly tamper?: (onnxBytes: Uint8Array) => Uint8Array;
}

/** Builds, checks and writes the bundle; returns the manifest written. Throws FidelityError (nothing written). */
export async function exportBundle(opts: ExportOptions): Promise<BundleManifest> {
  const { spec } = opts;
  let bytes = buildOnnx(
    spec,
    extractWeights(opts.model, spec),
    `improv ${opts.manifest.kind} language model`,
  );
  if (opts.tamper) bytes = opts.tamper(bytes);
  const sequences = FIDELITY_SEQUENCES;
  const maxAbsDiff = await fidelityCheck(opts.model, spec, bytes, {
    count: sequences,
    length: 16,
    seed: spec.seed,
  });
  if (!(maxAbsDiff <= FIDELITY_TOLERANCE)) {
    throw new FidelityError(
      `ONNX export disagrees with the trainer: max |Δ| = ${maxAbsDiff} over ${sequences} sequences (limit ${FIDELITY_TOLERANCE}); no bundle written to ${opts.outDir}`,
    );
  }
  const quantized = opts.quantize
    ? await quantizedVariant(opts.model, bytes, spec, opts.manifest.kind, opts.quantize.heldOut)
    : null;
  const manifest: BundleManifest = {
    format: 'improv-bundle',
    version: 1,
    ...opts.manifest,
    model: modelFileFor(bytes, '.onnx'),
    startToken: spec.vocabSize,
    io: {
      inputs: { ...ONNX_IO.inputs, ...(conditionWidth(spec) > 0 ? { cond: CONDITION_INPUT } : {}) },
      outputs: ONNX_IO.outputs,
      stateShape: [spec.layers, spec.units],
    },
    fidelity: { sequences, maxAbsDiff },
    ...(quantized ? { quantized: quantized.entry } : {}),
  };
  writeBundle(opts.outDir, manifest, [
    [manifest.model, bytes],
    ...(quantized ? [[quantized.entry.model, quantized.bytes] as [string, Uint8Array]] : []),
    ...(opts.files ?? []),
  ]);
  return manifest;
}

const FIDELITY_SEQUENCES = 100;

/** The quantized graph of a model and its manifest entry, measured against `reference` and on `heldOut`. */
async function quantizedVariant(
  reference: tf.LayersModel | Uint8Array,
  fp32: Uint8Array,
  spec: LstmLmSpec,
  kind: string,
  heldOut: readonly number[] | null,
): Promise<{ bytes: Uint8Array; entry: NonNullable<BundleManifest['quantized']> }> {
  const q = buildQuantizedOnnx(
    spec,
    reference instanceof Uint8Array ? readOnnxWeights(reference, spec) : extractWeights(reference, spec),
    `improv ${kind} language model, ${QUANT_BITS}-bit`,
  );
  return {
    bytes: q,
    entry: {
      model: modelFileFor(q, `.int${QUANT_BITS}.onnx`),
      maxAbsDiff: await fidelityCheck(reference, spec, q, {
        count: FIDELITY_SEQUENCES,
        length: 16,
        seed: spec.seed,
      }),
      bitsPerToken: heldOut?.length ? await bitsPerToken(q, spec, heldOut) : null,
      fp32BitsPerToken: heldOut?.length ? await bitsPerToken(fp32, spec, heldOut) : null,
      bits: QUANT_BITS,
      blockSize: QUANT_BLOCK,
    },
  };
}

/**
 * Gives a bundle the quantized variant this trainer writes now, built from its fp32 graph (a bundle
 * trained with the int8 variant of before, or without one): the new graph is written, then the
 * manifest that names it, then the old variant is removed. Returns the new manifest.
 */
export async function requantizeBundle(
  dir: string,
  manifest: BundleManifest,
  heldOut: readonly number[] | null,
): Promise<BundleManifest> {
  const h = manifest.hyperparameters;
  const spec: LstmLmSpec = {
    vocabSize: manifest.vocabulary.length,
    units: h.units,
    layers: h.layers,
    dropout: h.dropout,
    embedding: h.embedding,
    seed: h.seed,
  };
  const fp32 = new Uint8Array(readFileSync(join(dir, manifest.model)));
  const { bytes, entry } = await quantizedVariant(fp32, fp32, spec, manifest.kind, heldOut);
  const next: BundleManifest = { ...manifest, quantized: entry };
  writeFileAtomicSync(join(dir, entry.model), bytes);
  writeManifestSync(join(dir, BUNDLE_MANIFEST), next);
  const old = manifest.quantized?.model;
  if (old && old !== entry.model) rmSync(join(dir, old), { force: true });
  return next;
}

/**
 * Writes a bundle so that `--out` holds the old bundle or the new one at every instant, never a mix
 * (a kill during an export): the graphs go to new files first, each written whole, then the manifest,
 * which names them, replaces the old one in one rename (the commit); only then are the graphs (and
 * copy indexes) no manifest names any more removed.
 */
function writeBundle(dir: string, manifest: BundleManifest, files: (readonly [string, Uint8Array])[]): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) writeFileAtomicSync(join(dir, name), bytes);
  crashPoint('export:graphs-written');
  writeManifestSync(join(dir, BUNDLE_MANIFEST), manifest);
  const named = new Set(files.map(([name]) => name));
  for (const f of readdirSync(dir))
    if (/\.onnx$|^training-[0-9a-f]+\.bin$/.test(f) && !named.has(f)) rmSync(join(dir, f), { force: true });
}
