import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../src/music/rng.ts';
import { selectBackend } from '../src/train/backend.ts';
import { buildModel, extractWeights, layerNames, oneHotBatch, type LstmLmSpec } from '../src/train/model.ts';
import { dropoutName, paramSpecs } from '../src/train/ortGraph.ts';
import { checkDevice, OrtLmTrainer } from '../src/train/ortTrainer.ts';
import { evaluateLoss, trainLm } from '../src/train/trainer.ts';
import { quantizeAbcBundle, trainAbc } from '../src/train/abc.ts';
import { buildOnnx, readOnnxWeights } from '../src/train/onnxGraph.ts';
import { quantizeBlocks } from '../src/train/onnxQuant.ts';
import { readManifest } from '../src/music/bundle.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { tempDir } from './helpers.ts';

beforeAll(async () => {
  await selectBackend('cpu');
});

/** Random rows [batch][T]: inputs (the first a start token) and targets over the vocabulary. */
function batch(spec: LstmLmSpec, B: number, T: number, seed: number): { x: number[][]; y: number[][] } {
  const rng = createRng(seed);
  const V = spec.vocabSize;
  return {
    x: Array.from({ length: B }, (_, b) =>
      Array.from({ length: T }, (_, t) => (t === 0 && b % 2 === 0 ? V : rng.int(V))),
    ),
    y: Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(V))),
  };
}

/** A tfjs model and an ORT trainer starting from its weights (no clipping, one thread). */
async function modelAndTrainer(spec: LstmLmSpec): Promise<{ model: tf.Sequential; trainer: OrtLmTrainer }> {
  const model = buildModel(spec);
  const trainer = await OrtLmTrainer.create(spec, extractWeights(model, spec), {
    learningRate: 0.01,
    clipNorm: 0,
    threads: 1,
  });
  return { model, trainer };
}

/**
 * Every ORT gradient against tfjs autodiff's, relative error < 1e-3 (against 1e-3 of the largest where
 * a value is near zero). tfjs names variables uniquely across models, so they are paired by order: the
 * model's trainable weights come in the training graph's parameter order (embedding, each LSTM's
 * three, output).
 */
function expectGradients(
  got: Record<string, Float32Array>,
  grads: tf.NamedTensorMap,
  model: tf.Sequential,
  spec: LstmLmSpec,
): void {
  const names = model.trainableWeights.map((w) => w.name);
  for (const [i, p] of paramSpecs(spec).entries()) {
    const want = grads[names[i] as string]?.dataSync() as Float32Array;
    const mine = got[p.name] as Float32Array;
    expect(mine).toHaveLength(want.length);
    const scale = Math.max(...Array.from(want, Math.abs));
    let worst = 0;
    for (let k = 0; k < want.length; k++)
      worst = Math.max(
        worst,
        Math.abs((mine[k] as number) - (want[k] as number)) /
          Math.max(Math.abs(want[k] as number), 1e-3 * scale),
      );
    expect(worst, p.name).toBeLessThan(1e-3);
  }
}

describe('the ONNX training graph', () => {
  it.each([
    [
      'embedding, one layer (the ABC model)',
      { vocabSize: 9, units: 6, layers: 1, dropout: 0, embedding: 4, seed: 1 },
    ],
    [
      'one-hot input, two layers (the jazz model)',
      { vocabSize: 7, units: 5, layers: 2, dropout: 0, embedding: 0, seed: 3 },
    ],
    [
      'one-hot input and conditioning (the conditioned grammar model)',
      { vocabSize: 7, units: 5, layers: 1, dropout: 0, embedding: 0, seed: 4, conditioning: 3 },
    ],
  ])('gives the loss and every gradient tfjs autodiff gives: %s', async (_, spec: LstmLmSpec) => {
    const { model, trainer } = await modelAndTrainer(spec);
    const { x, y } = batch(spec, 5, 7, 11);
    const C = spec.conditioning ?? 0;
    const rng = createRng(12);
    const cond =
      C > 0 ? x.map(() => Float32Array.from({ length: 7 * C }, () => rng.next() * 2 - 1)) : undefined;
    const ort = await trainer.gradients(x, y, undefined, cond);
    const labels = oneHotBatch(y, spec.vocabSize);
    const input = oneHotBatch(x, spec.vocabSize, cond ? { rows: cond, width: C } : undefined);
    const ref = tf.variableGrads(() =>
      tf.metrics.categoricalCrossentropy(labels, model.apply(input) as tf.Tensor).mean<tf.Scalar>(),
    );
    expect(ort.loss).toBeCloseTo(ref.value.dataSync()[0] as number, 5);
    expect(ort.count).toBe(35);
    expect(model.trainableWeights).toHaveLength(paramSpecs(spec).length);
    expectGradients(ort.grads, ref.grads, model, spec);
    await trainer.dispose();
  });

  it('with dropout, gives the gradients of the model whose LSTM output is masked, as tfjs places it', async () => {
    const spec = { vocabSize: 8, units: 5, layers: 1, dropout: 0.4, embedding: 3, seed: 5 };
    const { model, trainer } = await modelAndTrainer(spec);
    const T = 6;
    const B = 4;
    const { x, y } = batch(spec, B, T, 8);
    const masks = trainer.masks(T, B);
    const mask = masks[dropoutName(0)]?.data as Float32Array; // [T, B, H]
    expect(mask.some((m) => m === 0)).toBe(true);
    expect(mask.every((m) => m === 0 || Math.abs(m - 1 / 0.6) < 1e-6)).toBe(true);
    const ort = await trainer.gradients(x, y, masks);
    // the same mask, batch-major, between tfjs' LSTM and output layers
    const maskBth = tf.tensor3d(mask, [T, B, spec.units]).transpose([1, 0, 2]);
    const labels = oneHotBatch(y, spec.vocabSize);
    const input = oneHotBatch(x, spec.vocabSize);
    const ref = tf.variableGrads(() => {
      const e = model.getLayer(layerNames.embedding).apply(input) as tf.Tensor;
      const h = (model.getLayer(layerNames.lstm(0)).apply(e) as tf.Tensor).mul(maskBth);
      const p = model.getLayer(layerNames.output).apply(h) as tf.Tensor;
      return tf.metrics.categoricalCrossentropy(labels, p).mean<tf.Scalar>();
    });
    expect(ort.loss).toBeCloseTo(ref.value.dataSync()[0] as number, 5);
    expectGradients(ort.grads, ref.grads, model, spec);
    await trainer.dispose();
  });

  it('leaves padding (target −1) out of the loss and the gradients', async () => {
    const spec = { vocabSize: 6, units: 4, layers: 1, dropout: 0, embedding: 3, seed: 2 };
    const { model, trainer } = await modelAndTrainer(spec);
    const { x, y } = batch(spec, 3, 6, 4);
    const full = await trainer.gradients(x, y);
    // the same rows with the last two steps of the first one padded: a shorter first row
    const yPad = y.map((row, b) => (b === 0 ? [...row.slice(0, 4), -1, -1] : row));
    const xPad = x.map((row, b) => (b === 0 ? [...row.slice(0, 4), -1, -1] : row));
    const padded = await trainer.gradients(xPad, yPad);
    expect(padded.count).toBe(16);
    // the loss of the real targets: recompute it from per-position losses of the unpadded run
    const loss = (rows: number[][], targets: number[][]): number[] => {
      const probs = (model.predict(oneHotBatch(rows, spec.vocabSize)) as tf.Tensor3D).arraySync();
      return targets.flatMap((row, b) =>
        row.flatMap((id, t) => (id < 0 ? [] : [-Math.log(probs[b]?.[t]?.[id] as number)])),
      );
    };
    const per = loss(xPad, yPad);
    expect(padded.loss).toBeCloseTo(per.reduce((a, c) => a + c, 0) / per.length, 5);
    expect(full.loss).not.toBeCloseTo(padded.loss, 3);
    await trainer.dispose();
  });
});

describe('trainLm with --trainer ort', () => {
  const base = {
    spec: { vocabSize: 6, units: 8, layers: 1, dropout: 0, embedding: 0, seed: 2 },
    train: [Array.from({ length: 300 }, (_, i) => [0, 1, 2, 3, 4, 5][i % 6] as number)],
    validation: [Array.from({ length: 60 }, (_, i) => i % 6)],
    sequenceLength: 12,
    batchSize: 8,
    learningRate: 0.05,
    stride: 3,
    progress: false,
    clipNorm: 0,
  };

  it('follows the same loss curve as the tfjs trainer from the same seed and data', async () => {
    const ort = await trainLm({
      ...base,
      trainer: 'ort',
      epochs: 4,
      checkpointDir: tempDir('o'),
      resume: false,
    });
    const ref = await trainLm({
      ...base,
      trainer: 'tfjs',
      epochs: 4,
      checkpointDir: tempDir('t'),
      resume: false,
    });
    expect(ort.losses[3]).toBeLessThan((ort.losses[0] as number) * 0.7);
    ort.losses.forEach((l, i) => expect(l).toBeCloseTo(ref.losses[i] as number, 3));
    ort.validationLosses.forEach((l, i) => expect(l).toBeCloseTo(ref.validationLosses[i] as number, 3));
    // the returned model carries the trained weights (what the exporter writes)
    const a = extractWeights(ort.model, base.spec).outputKernel;
    const b = extractWeights(ref.model, base.spec).outputKernel;
    a.forEach((w, k) => expect(w).toBeCloseTo(b[k] as number, 3));
  });

  it('resumes from its checkpoint and ends where an uninterrupted run ends; refuses a tfjs checkpoint', async () => {
    const dir = tempDir('ort-resume');
    await trainLm({ ...base, trainer: 'ort', epochs: 2, checkpointDir: dir, resume: false });
    const resumed = await trainLm({ ...base, trainer: 'ort', epochs: 4, checkpointDir: dir, resume: true });
    const straight = await trainLm({
      ...base,
      trainer: 'ort',
      epochs: 4,
      checkpointDir: tempDir('o4'),
      resume: false,
    });
    expect(resumed.losses).toEqual(straight.losses);
    await expect(
      trainLm({ ...base, trainer: 'tfjs', epochs: 5, checkpointDir: dir, resume: true }),
    ).rejects.toThrow(/written by --trainer ort; resume it with the same trainer/);
  });

  it('with patience, stops once validation stops improving and returns the best epoch, not the last', async () => {
    // validation unlike the training data: the better the model learns the cycle, the worse it does there
    const rng = createRng(9);
    const validation = [Array.from({ length: 60 }, () => rng.int(6))];
    const r = await trainLm({
      ...base,
      validation,
      trainer: 'ort',
      epochs: 12,
      patience: 2,
      checkpointDir: tempDir('patience'),
      resume: false,
    });
    expect(r.stoppedEarly).toBe(true);
    expect(r.losses.length).toBe(r.epoch + 2);
    const vals = r.validationLosses as number[];
    expect(vals[r.epoch - 1]).toBe(Math.min(...vals));
    // the returned model is that epoch's: its validation loss, measured again, is the best one
    const again = evaluateLoss(r.model, validation, base.spec, base.sequenceLength, base.batchSize);
    expect(again).toBeCloseTo(vals[r.epoch - 1] as number, 4);
  });

  it('trains with dropout, the same from the same seed, and resumes drawing the masks it would have', async () => {
    const spec = { ...base.spec, dropout: 0.3 };
    const a = await trainLm({
      ...base,
      spec,
      trainer: 'ort',
      epochs: 3,
      checkpointDir: tempDir('d1'),
      resume: false,
    });
    const b = await trainLm({
      ...base,
      spec,
      trainer: 'ort',
      epochs: 3,
      checkpointDir: tempDir('d2'),
      resume: false,
    });
    expect(b.losses).toEqual(a.losses);
    const plain = await trainLm({
      ...base,
      trainer: 'ort',
      epochs: 3,
      checkpointDir: tempDir('d3'),
      resume: false,
    });
    expect(a.losses).not.toEqual(plain.losses);
    const dir = tempDir('d4');
    await trainLm({ ...base, spec, trainer: 'ort', epochs: 1, checkpointDir: dir, resume: false });
    const resumed = await trainLm({
      ...base,
      spec,
      trainer: 'ort',
      epochs: 3,
      checkpointDir: dir,
      resume: true,
    });
    expect(resumed.losses).toEqual(a.losses);
  });
});

describe('improv train --device cuda', () => {
  const cudaInstalled = (() => {
    try {
      checkDevice('cuda');
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(cudaInstalled)('names the missing CUDA provider and how to install it, writing nothing', () => {
    const out = join(tempDir('cuda'), 'bundle');
    const r = spawnSync(
      'node_modules/.bin/tsx',
      [
        'src/cli/main.ts',
        'train',
        'jazz',
        '--data',
        'data/original_metheny.mid',
        '--out',
        out,
        '--epochs',
        '1',
        '--device',
        'cuda',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /improv: DeviceError: --device cuda: onnxruntime-node's CUDA provider is not installed/,
    );
    expect(r.stderr).toContain('--onnxruntime-node-install=cuda12');
    expect(existsSync(out)).toBe(false);
  });
});

describe('the quantized variant (improv train abc --quantize)', () => {
  it('is written beside the fp32 graph, plays in its place, and costs next to nothing in bits per character', async () => {
    const out = join(tempDir('quant'), 'bundle');
    const manifest = await trainAbc({
      data: ['data/irish.abc'],
      out,
      units: 24,
      layers: 1,
      dropout: 0,
      embedding: 8,
      epochs: 2,
      learningRate: 5e-3,
      batchSize: 16,
      sequenceLength: 50,
      validation: 0.05,
      seed: 3,
      batchesPerEpoch: 4,
      quantize: true,
      resume: false,
      progress: false,
      log: () => undefined,
    });
    const q = manifest.quantized;
    expect(q?.model).toMatch(/^model-[0-9a-f]{12}\.int4\.onnx$/);
    expect(q).toMatchObject({ bits: 4, blockSize: 32 });
    expect(existsSync(join(out, q?.model ?? ''))).toBe(true);
    expect(q?.maxAbsDiff).toBeLessThan(0.01);
    expect(Math.abs((q?.bitsPerToken ?? 0) - (q?.fp32BitsPerToken ?? 1))).toBeLessThan(0.02);
    // both graphs load with the same inputs and outputs, and agree on a step
    const quantized = await LstmSession.load(out);
    const fp32 = await LstmSession.load(out, 'fp32');
    const a = await quantized.prime([quantized.startToken, 3, 5, 7]);
    const b = await fp32.prime([fp32.startToken, 3, 5, 7]);
    a.probs.forEach((p, k) => expect(p).toBeCloseTo(b.probs[k] as number, 2));
    await Promise.all([quantized.dispose(), fp32.dispose()]);
  });

  it('stores 4-bit blocks as MatMulNBits reads them: two a byte, low nibble first, within half a step of each weight', () => {
    // 40 inputs (one whole block of 32 and a part block of 8) by 3 columns
    const rows = 40;
    const cols = 3;
    const rng = createRng(5);
    const m = Float32Array.from({ length: rows * cols }, () => rng.next() * 2 - 1);
    const { packed, scales, blocks } = quantizeBlocks(m, rows, cols);
    expect(blocks).toBe(2);
    expect(packed).toHaveLength(cols * blocks * 16);
    for (let c = 0; c < cols; c++)
      for (let r = 0; r < rows; r++) {
        const b = Math.floor(r / 32);
        const j = r % 32;
        const byte = packed[(c * blocks + b) * 16 + (j >> 1)] as number;
        const q = (j & 1 ? byte >> 4 : byte & 0x0f) - 8;
        const scale = scales[c * blocks + b] as number;
        expect(Math.abs(q * scale - (m[r * cols + c] as number))).toBeLessThanOrEqual(scale / 2 + 1e-7);
      }
    // the part block's padding is zero (stored as 8)
    expect(packed[(0 * blocks + 1) * 16 + 4]).toBe(0x88);
  });

  it('reads back the weights of the fp32 graph it wrote', () => {
    const spec: LstmLmSpec = { vocabSize: 7, units: 5, layers: 2, dropout: 0, embedding: 3, seed: 1 };
    const rng = createRng(9);
    const r = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.next() - 0.5);
    const w = {
      embedding: r(7 * 3),
      lstm: [
        { kernel: r(3 * 20), recurrent: r(5 * 20), bias: r(20) },
        { kernel: r(5 * 20), recurrent: r(5 * 20), bias: r(20) },
      ],
      outputKernel: r(5 * 7),
      outputBias: r(7),
    };
    expect(readOnnxWeights(buildOnnx(spec, w, 'test'), spec)).toEqual(w);
    expect(() => readOnnxWeights(buildOnnx(spec, w, 'test'), { ...spec, units: 6 })).toThrow(
      /'B0' has 40 values, the spec needs 48/,
    );
  });

  it('improv quantize gives a bundle trained without a variant the one this version plays, measured, and nothing else changes', async () => {
    const out = join(tempDir('requant'), 'bundle');
    const options = {
      data: ['data/irish.abc'],
      out,
      units: 24,
      layers: 1,
      dropout: 0,
      embedding: 8,
      epochs: 1,
      learningRate: 5e-3,
      batchSize: 16,
      sequenceLength: 50,
      validation: 0.05,
      seed: 3,
      batchesPerEpoch: 3,
      resume: false,
      progress: false,
      log: () => undefined,
    };
    const before = await trainAbc(options);
    expect(before.quantized).toBeUndefined();
    const after = await quantizeAbcBundle(out, { validation: 0.05 });
    expect(after.quantized).toMatchObject({ bits: 4, blockSize: 32 });
    expect(after.quantized?.maxAbsDiff).toBeLessThan(0.01);
    expect(after.quantized?.bitsPerToken).toBeGreaterThan(0);
    expect(
      Math.abs((after.quantized?.bitsPerToken ?? 0) - (after.quantized?.fp32BitsPerToken ?? 1)),
    ).toBeLessThan(0.02);
    expect({ ...after, quantized: undefined }).toEqual({ ...before, quantized: undefined });
    expect(readManifest(out)).toEqual(after);
    const played = await LstmSession.load(out);
    expect(played.manifest.quantized?.model).toBe(after.quantized?.model);
    await played.dispose();
    // the same again replaces the variant by an identical one: one quantized graph in the folder
    await quantizeAbcBundle(out, { validation: 0.05 });
    expect(readdirSync(out).filter((f) => f.endsWith('.int4.onnx'))).toEqual([after.quantized?.model]);
  });
});
