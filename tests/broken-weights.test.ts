/** Weights that are NaN or Infinity never play, and a run whose loss turns NaN stops with a clear error. */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { readManifest } from '../src/music/bundle.ts';
import { BundleError } from '../src/music/errors.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { trainLm, TrainingDivergedError } from '../src/train/trainer.ts';
import { selectBackend } from '../src/train/backend.ts';
import { tempDir, tinyJazzBundle } from './helpers.ts';

/** A copy of a bundle whose float weights are all `value`. */
async function poisoned(value: number): Promise<string> {
  const dir = join(tempDir('poisoned'), 'bundle');
  cpSync(await tinyJazzBundle(), dir, { recursive: true });
  const file = join(dir, readManifest(dir).model);
  const m = onnxProto.onnx.ModelProto.decode(readFileSync(file));
  for (const t of m.graph?.initializer ?? []) {
    if (t.dataType !== onnxProto.onnx.TensorProto.DataType.FLOAT || !t.rawData?.length) continue;
    const f = new Float32Array(new Uint8Array(t.rawData).buffer).fill(value);
    t.rawData = new Uint8Array(f.buffer);
  }
  writeFileSync(file, onnxProto.onnx.ModelProto.encode(m).finish());
  return dir;
}

describe('broken weights', () => {
  it.each([NaN, Infinity])(
    'a model whose weights are %s is refused at load, naming the file',
    async (value) => {
      const dir = await poisoned(value);
      await expect(LstmSession.load(dir)).rejects.toThrow(BundleError);
      await expect(LstmSession.load(dir)).rejects.toThrow(/model: its outputs are not finite numbers/);
    },
  );

  it('a training run whose loss turns NaN, with no earlier epoch to keep, stops with TrainingDivergedError', async () => {
    await selectBackend('cpu');
    const dir = tempDir('diverge');
    const ids = Array.from({ length: 400 }, (_, i) => (i * 7) % 11);
    const run = trainLm({
      spec: { vocabSize: 11, units: 8, layers: 1, dropout: 0, embedding: 0, seed: 1 },
      train: [ids],
      validation: [],
      sequenceLength: 10,
      batchSize: 8,
      epochs: 3,
      learningRate: 1e38, // the first step sends the weights past float32
      stride: 5,
      checkpointDir: dir,
      resume: false,
      progress: false,
      log: () => undefined,
    });
    await expect(run).rejects.toThrow(TrainingDivergedError);
    await expect(run).rejects.toThrow(/the training loss became NaN at epoch 1/);
  });
});
