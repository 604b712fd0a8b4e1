import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleError } from '../src/music/errors.ts';
import { readManifest, recordEvaluation } from '../src/music/bundle.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { selectBackend } from '../src/train/backend.ts';
import { exportBundle, FidelityError } from '../src/train/exportBundle.ts';
import type { LstmLmSpec } from '../src/train/model.ts';
import { trainLm } from '../src/train/trainer.ts';
import { tempDir } from './helpers.ts';

const spec: LstmLmSpec = { vocabSize: 11, units: 12, layers: 2, dropout: 0.1, embedding: 6, seed: 5 };
const vocabulary = 'abcdefghijk'.split('');
const manifestPart = {
  kind: 'abc-char' as const,
  vocabulary,
  hyperparameters: {
    units: 12,
    layers: 2,
    dropout: 0.1,
    embedding: 6,
    epochs: 1,
    learningRate: 0.01,
    batchSize: 8,
    sequenceLength: 10,
    seed: 5,
  },
  training: {
    data: [],
    profile: 'test',
    tokens: 400,
    finalLoss: 0,
    validationLoss: null,
    backend: 'cpu',
    tokensPerSecond: 0,
    trainedAt: 'test',
  },
};

let model: Awaited<ReturnType<typeof trainLm>>['model'];
let bundle: string;

beforeAll(async () => {
  await selectBackend('cpu');
  const stream = Array.from({ length: 400 }, (_, i) => (i * i + 3 * i) % 11);
  ({ model } = await trainLm({
    spec,
    train: [stream],
    validation: [],
    sequenceLength: 10,
    batchSize: 8,
    epochs: 1,
    learningRate: 0.01,
    stride: 5,
    checkpointDir: tempDir('ckpt'),
    resume: false,
    progress: false,
  }));
  bundle = join(tempDir('bundle'), 'b');
  await exportBundle({ model, spec, outDir: bundle, manifest: manifestPart });
});

describe('ONNX export', () => {
  it('agrees with the trainer within 1e-4 on 100 random sequences and records it', () => {
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')) as {
      fidelity: { sequences: number; maxAbsDiff: number };
      startToken: number;
    };
    expect(manifest.fidelity.sequences).toBe(100);
    expect(manifest.fidelity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(manifest.startToken).toBe(11);
  });

  it('refuses to write a bundle whose ONNX graph disagrees, and writes nothing', async () => {
    const out = join(tempDir('bad'), 'b');
    const tamper = (bytes: Uint8Array): Uint8Array => {
      const m = onnxProto.onnx.ModelProto.decode(bytes);
      const w = m.graph?.initializer?.find((t) => t.name === 'W0');
      const raw = w?.rawData as Uint8Array;
      const f = new Float32Array(new Uint8Array(raw).buffer);
      f.forEach((v, i) => (f[i] = v * 1.05 + 0.01));
      (w as { rawData: Uint8Array }).rawData = new Uint8Array(f.buffer);
      return onnxProto.onnx.ModelProto.encode(m).finish();
    };
    await expect(exportBundle({ model, spec, outDir: out, manifest: manifestPart, tamper })).rejects.toThrow(
      FidelityError,
    );
    await expect(exportBundle({ model, spec, outDir: out, manifest: manifestPart, tamper })).rejects.toThrow(
      /disagrees with the trainer: max \|Δ\|/,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('runtime session', () => {
  const seq = [11, 3, 1, 4, 1, 5, 9, 2, 6, 5, 3];

  it('gives the same distributions for a one-shot run and step-by-step stepping with carried state', async () => {
    const s = await LstmSession.load(bundle);
    const oneShot = await s.run(seq);
    const after = s.snapshot();
    s.reset();
    for (let t = 0; t < seq.length; t++) {
      const { probs } = await s.step(seq[t] as number);
      const expected = oneShot.probs.subarray(t * 11, (t + 1) * 11);
      probs.forEach((p, v) => expect(p).toBeCloseTo(expected[v] as number, 6));
    }
    const stepped = s.snapshot();
    stepped.h.forEach((v, i) => expect(v).toBeCloseTo(after.h[i] as number, 6));
    await s.dispose();
  });

  it('restores a snapshot: the same continuation comes out again', async () => {
    const s = await LstmSession.load(bundle);
    await s.prime(seq);
    const snap = s.snapshot();
    const a = Array.from((await s.step(7)).probs);
    await s.step(2);
    s.restore(snap);
    const b = Array.from((await s.step(7)).probs);
    expect(b).toEqual(a);
    s.reset();
    const fresh = Array.from((await s.step(7)).probs);
    expect(fresh).not.toEqual(a);
    expect(() => s.restore({ h: new Float32Array(3), c: new Float32Array(3) })).toThrow(RangeError);
    await s.dispose();
  });

  it('refuses token ids outside the vocabulary', async () => {
    const s = await LstmSession.load(bundle);
    await expect(s.step(12)).rejects.toThrow(/token id 12 is outside 0\.\.11/);
    await s.dispose();
  });
});

describe('bundle checks at load', () => {
  const copy = (edit: (m: Record<string, unknown>) => void): string => {
    const dir = join(tempDir('edit'), 'b');
    cpSync(bundle, dir, { recursive: true });
    const file = join(dir, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    edit(m);
    writeFileSync(file, JSON.stringify(m));
    return dir;
  };

  it('names the vocabulary when it does not match the ONNX output', async () => {
    const dir = copy((m) => {
      m.vocabulary = [...vocabulary, 'z'];
      m.startToken = 12;
    });
    await expect(LstmSession.load(dir)).rejects.toThrow(BundleError);
    await expect(LstmSession.load(dir)).rejects.toThrow(
      /vocabulary: the manifest lists 12 tokens but the model predicts 11/,
    );
    const shorter = copy((m) => {
      m.vocabulary = vocabulary.slice(0, 10);
      m.startToken = 10;
    });
    await expect(LstmSession.load(shorter)).rejects.toThrow(
      /vocabulary: the manifest lists 10 tokens but the model predicts 11/,
    );
  });

  it('names a missing or wrong field', async () => {
    await expect(LstmSession.load(copy((m) => delete m.io))).rejects.toThrow(/manifest\.json: io: Required/);
    await expect(LstmSession.load(copy((m) => (m.kind = 'polka')))).rejects.toThrow(
      /manifest\.json: kind: Invalid enum value/,
    );
  });

  it('names the input the model lacks', async () => {
    const dir = copy((m) => ((m.io as { inputs: { h: string } }).inputs.h = 'state_h'));
    await expect(LstmSession.load(dir)).rejects.toThrow(/io\.inputs: the model has no input 'state_h'/);
  });

  it('names a missing model file', async () => {
    const dir = copy((m) => (m.model = 'nope.onnx'));
    await expect(LstmSession.load(dir)).rejects.toThrow(/nope\.onnx: model: cannot read \(ENOENT\)/);
  });
});

describe('figures recorded in a bundle (improv eval --record)', () => {
  it('adds an entry per command, replaces one of the same command, and keeps every other field', () => {
    const dir = join(tempDir('record'), 'bundle');
    cpSync('models/jazz', dir, { recursive: true });
    const before = readManifest(dir);
    recordEvaluation(dir, { command: 'improv eval --seed 1', lines: ['NLL 1'] });
    recordEvaluation(dir, { command: 'improv eval --seed 5', lines: ['NLL 5'] });
    recordEvaluation(dir, { command: 'improv eval --seed 1', lines: ['NLL 1, again'] });
    const after = readManifest(dir);
    // the shipped bundle's own record stays, ahead of the new entries
    const prior = (before.evaluation ?? []).map((e) => [e.command, e.lines]);
    expect(after.evaluation?.map((e) => [e.command, e.lines])).toEqual([
      ...prior,
      ['improv eval --seed 5', ['NLL 5']],
      ['improv eval --seed 1', ['NLL 1, again']],
    ]);
    const { evaluation, ...rest } = after;
    expect(evaluation).toBeDefined();
    expect(rest).toEqual({ ...before, evaluation: undefined });
  });

  it('refuses a folder that holds no valid bundle, naming the file, and writes nothing', () => {
    const dir = tempDir('record-bad');
    writeFileSync(join(dir, 'manifest.json'), '{"format": "improv-bundle"');
    expect(() => recordEvaluation(dir, { command: 'x', lines: [] })).toThrow(
      /manifest\.json: \(file\): not valid JSON/,
    );
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe('{"format": "improv-bundle"');
  });
});
