import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/train/backend.ts';
import { trainLm, windowRows, windowStarts } from '../src/train/trainer.ts';
import { tempDir } from './helpers.ts';

describe('training windows', () => {
  const streams = [Array.from({ length: 25 }, (_, i) => i % 7), [1, 2, 3]];

  it('never crosses from one stream into the next and covers each at the stride', () => {
    const w = windowStarts(streams, 10, 5);
    expect(w).toEqual([
      { stream: 0, start: 0 },
      { stream: 0, start: 5 },
      { stream: 0, start: 10 },
      { stream: 0, start: 15 },
      { stream: 1, start: 0 },
    ]);
  });

  it('input is the start token then the target shifted by one (next-step property)', () => {
    const w = windowStarts(streams, 10, 5);
    const { x, y } = windowRows(streams, w, 10, 99);
    for (let i = 0; i < x.length; i++) {
      expect(x[i]?.[0]).toBe(99);
      expect(x[i]?.slice(1)).toEqual(y[i]?.slice(0, -1));
      expect(x[i]).toHaveLength(10);
    }
    expect(y[4]).toEqual([1, 2, 3, -1, -1, -1, -1, -1, -1, -1]); // short stream padded with "no target"
  });
});

describe('trainLm', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  const base = {
    spec: { vocabSize: 6, units: 8, layers: 1, dropout: 0, embedding: 0, seed: 2 },
    train: [Array.from({ length: 300 }, (_, i) => [0, 1, 2, 3, 4, 5][i % 6] as number)],
    validation: [Array.from({ length: 60 }, (_, i) => i % 6)],
    sequenceLength: 12,
    batchSize: 8,
    learningRate: 0.05,
    stride: 3,
    progress: false,
  };

  it('learns a periodic sequence (loss falls) and is reproducible by seed', async () => {
    const a = await trainLm({ ...base, epochs: 4, checkpointDir: tempDir('t'), resume: false });
    const b = await trainLm({ ...base, epochs: 4, checkpointDir: tempDir('t'), resume: false });
    expect(a.losses[3]).toBeLessThan((a.losses[0] as number) * 0.7);
    expect(b.losses).toEqual(a.losses);
    expect(a.validationLosses.every((v) => v !== null && v > 0)).toBe(true);
  });

  it('resumes from its checkpoint and ends where an uninterrupted run ends', async () => {
    const dir = tempDir('resume');
    await trainLm({ ...base, epochs: 2, checkpointDir: dir, resume: false });
    expect(existsSync(join(dir, 'checkpoint', 'checkpoint.json'))).toBe(true);
    const resumed = await trainLm({ ...base, epochs: 4, checkpointDir: dir, resume: true });
    const straight = await trainLm({ ...base, epochs: 4, checkpointDir: tempDir('t'), resume: false });
    expect(resumed.losses).toHaveLength(4);
    resumed.losses.forEach((l, i) => expect(l).toBeCloseTo(straight.losses[i] as number, 4));
  });

  it('trains the embedding (a Dense on one-hot input) on the wasm backend, which has no Embedding gradient', async () => {
    await selectBackend('wasm');
    try {
      const r = await trainLm({
        ...base,
        spec: { ...base.spec, embedding: 4 },
        epochs: 2,
        checkpointDir: tempDir('wasm'),
        resume: false,
        randomBatches: 3,
        contextual: true,
      });
      expect(r.losses).toHaveLength(2);
      expect(r.losses.every(Number.isFinite)).toBe(true);
    } finally {
      await selectBackend('cpu');
    }
  });

  it('refuses --resume without a checkpoint', async () => {
    await expect(
      trainLm({ ...base, epochs: 1, checkpointDir: tempDir('none'), resume: true }),
    ).rejects.toThrow(/checkpoint: --resume: there is no checkpoint here to resume/);
  });
});
