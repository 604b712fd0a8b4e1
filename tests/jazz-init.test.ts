import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readManifest } from '../src/music/bundle.ts';
import { BundleError } from '../src/music/errors.ts';
import { evaluateGrammar } from '../src/eval/grammarEval.ts';
import { selectBackend } from '../src/train/backend.ts';
import { readInitialModel, widenVocabulary } from '../src/train/init.ts';
import { trainJazz, type JazzTrainOptions } from '../src/train/jazz.ts';
import type { LstmLmSpec } from '../src/train/model.ts';
import { readOnnxWeights } from '../src/train/onnxGraph.ts';
import { featuresOf } from '../src/music/conditioning.ts';
import { METHENY, tempDir } from './helpers.ts';

const shipped = existsSync('models/jazz/manifest.json');

describe('widening a vocabulary', () => {
  it('keeps each known token its input row and output column, gives a new one a zero row and the rarest bias', () => {
    // two tokens, one conditioning value, one unit: kernel rows a, b, cond; 4 gates each
    const spec: LstmLmSpec = {
      vocabSize: 2,
      units: 1,
      layers: 1,
      dropout: 0,
      embedding: 0,
      seed: 1,
      conditioning: 1,
    };
    const w = {
      embedding: null,
      lstm: [
        {
          kernel: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
          recurrent: Float32Array.from([0.1, 0.2, 0.3, 0.4]),
          bias: Float32Array.from([0, 1, 0, 0]),
        },
      ],
      outputKernel: Float32Array.from([0.5, -0.5]),
      outputBias: Float32Array.from([0.25, -2]),
    };
    const wide = widenVocabulary(w, spec, ['a', 'c'], ['a', 'b', 'c']);
    expect([...(wide.lstm[0]?.kernel ?? [])]).toEqual([1, 2, 3, 4, 0, 0, 0, 0, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect([...(wide.lstm[0]?.recurrent ?? [])]).toEqual([...w.lstm[0]!.recurrent]);
    expect([...wide.outputKernel]).toEqual([0.5, 0, -0.5]);
    expect([...wide.outputBias]).toEqual([0.25, -2, -2]);
    expect(() => widenVocabulary(w, spec, ['a', 'c'], ['a', 'b'])).toThrow(/lacks 'c'/);
  });
});

describe('fine-tuning from a pretrained grammar model (train jazz --init)', () => {
  const options = (out: string, data: string[], extra: Partial<JazzTrainOptions> = {}): JazzTrainOptions => ({
    data,
    out,
    profile: 'full',
    units: 8,
    layers: 1,
    dropout: 0,
    epochs: 1,
    learningRate: 0.01,
    batchSize: 16,
    sequenceLength: 16,
    stride: 8,
    validation: 0.2,
    seed: 3,
    backend: 'cpu',
    resume: false,
    progress: false,
    log: () => undefined,
    ...extra,
  });
  /** A tiny model pretrained on the slip jigs, in a folder of its own: the folder and the bundle. */
  const pretrain = async (name: string, extra: Partial<JazzTrainOptions> = {}): Promise<[string, string]> => {
    await selectBackend('cpu');
    const dir = tempDir(name);
    const tunes = join(dir, 'tunes.abc');
    writeFileSync(tunes, readFileSync('data/nottingham/slip.abc', 'utf8'));
    const pre = join(dir, 'pre');
    await trainJazz(options(pre, [tunes], extra));
    return [dir, pre];
  };

  it('starts from the bundle: its units, its vocabulary with the new tokens, its weights, and records it', async () => {
    const [dir, pre] = await pretrain('jazz-init');
    const out = join(dir, 'tuned');
    const logs: string[] = [];
    // a learning rate so small the weights barely move: what comes out is what went in
    const m = await trainJazz(
      options(out, [METHENY], { init: pre, units: 32, learningRate: 1e-7, log: (l) => logs.push(l) }),
    );
    const p = readManifest(pre);
    expect(m.hyperparameters.units).toBe(8);
    expect(m.training.init?.bundle).toBe(pre);
    expect(m.training.init?.model).toBe(p.model);
    expect(p.vocabulary.every((t) => m.vocabulary.includes(t))).toBe(true);
    const added = m.vocabulary.length - p.vocabulary.length;
    expect(added).toBeGreaterThan(0);
    expect(logs.some((l) => l.includes(`${added} tokens new to it`))).toBe(true);
    const spec = (v: number): LstmLmSpec => ({
      vocabSize: v,
      units: 8,
      layers: 1,
      dropout: 0,
      embedding: 0,
      seed: 3,
      conditioning: featuresOf(['key', 'lookback']).length,
    });
    const before = readOnnxWeights(readFileSync(join(pre, p.model)), spec(p.vocabulary.length));
    const after = readOnnxWeights(readFileSync(join(out, m.model)), spec(m.vocabulary.length));
    const rarest = Math.min(...before.outputBias);
    let worst = 0;
    m.vocabulary.forEach((t, j) => {
      const i = p.vocabulary.indexOf(t);
      worst = Math.max(
        worst,
        Math.abs((after.outputBias[j] as number) - (i >= 0 ? (before.outputBias[i] as number) : rarest)),
      );
    });
    expect(worst).toBeLessThan(1e-3);
    const r0 = before.lstm[0]!.recurrent;
    const r1 = after.lstm[0]!.recurrent;
    expect(Math.max(...r0.map((x, i) => Math.abs(x - (r1[i] as number))))).toBeLessThan(1e-3);
  });

  it('refuses a bundle that hears other features, naming the field', async () => {
    const [dir, pre] = await pretrain('jazz-init-bad', { features: ['key'] });
    expect(() => readInitialModel(pre, featuresOf(['key', 'lookback']))).toThrow(BundleError);
    await expect(trainJazz(options(join(dir, 'tuned'), [METHENY], { init: pre }))).rejects.toThrow(
      /conditioning\.features/,
    );
  });
});

describe.skipIf(!shipped)('the shipped jazz model over other changes', () => {
  it('plays every progression asked for, four lines each, and judges them beside the held-out figures', async () => {
    const r = await evaluateGrammar('models/jazz', {
      seed: 1,
      sampler: { temperature: 1, topK: 0, topP: 1 },
      changes: ['Dm7 G7 Cmaj7 Cmaj7', 'F7 Bb7 F7 C7'],
    });
    const c = r.otherChanges;
    expect(c?.progressions).toBe(2);
    expect(c?.lines).toBe(8);
    expect(c?.notes).toBeGreaterThan(8);
    // each four-bar progression twice through, four lines: 64 bars
    expect(c?.notesPerBar).toBeCloseTo((c?.notes ?? 0) / 64, 6);
    // a model that hears the chords plays more chord tones than chance over changes it never saw
    expect(c?.chordTones).toBeGreaterThan(0.4);
    expect(c?.longestCopy.tokens).toBeLessThanOrEqual(r.generated.maxCopy?.tokens ?? Infinity);
  });
});
