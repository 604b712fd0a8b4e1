import { join } from 'node:path';
import { tuneShape } from '../src/music/abc/shape.ts';
import { describe, expect, it } from 'vitest';
import { generateJazz } from '../src/cli/jazzCommands.ts';
import { generateAbcFiles } from '../src/cli/abcCommands.ts';
import { readManifest } from '../src/music/bundle.ts';
import { sha256 } from '../src/train/sha.ts';
import { METHENY, tempDir } from './helpers.ts';

describe('the shipped jazz bundle (models/jazz)', () => {
  const manifest = readManifest('models/jazz');

  it('was trained by this project on the shipped data, and its ONNX passed the fidelity check', () => {
    expect(manifest.kind).toBe('jazz-grammar');
    expect(manifest.training.data).toEqual([{ file: METHENY, sha256: sha256(METHENY) }]);
    expect(manifest.fidelity.sequences).toBe(100);
    expect(manifest.fidelity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(manifest.hyperparameters.units).toBe(64);
    expect(manifest.training.profile).toBe('full');
  });

  it('generates a solo over the demo progression with mostly chord and scale tones', async () => {
    const r = await generateJazz({
      model: 'models/jazz',
      bars: 8,
      seed: 1,
      sampler: { temperature: 1, topK: 0, topP: 0.95 },
      chords: 'Dm7 G7 Cmaj7 Cmaj7 Cm7 F7 Bbmaj7 Bbmaj7',
      out: join(tempDir('shipped'), 'solo.mid'),
    });
    expect(r.summary.notes).toBeGreaterThan(8);
    expect(r.summary.chordOrScaleShare).toBeGreaterThan(0.6);
  });
});

describe('the shipped ABC bundle (models/abc)', () => {
  const manifest = readManifest('models/abc');

  it('was trained by this project on the shipped tunes with its default size, and its ONNX passed the fidelity check', () => {
    expect(manifest.kind).toBe('abc-char');
    expect(manifest.training.data).toEqual([{ file: 'data/irish.abc', sha256: sha256('data/irish.abc') }]);
    expect(manifest.fidelity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    // the MIT lab's size, trained by the project's ORT trainer, with the int8 variant it plays live
    expect(manifest.hyperparameters).toMatchObject({ embedding: 256, units: 1024, sequenceLength: 100 });
    expect(manifest.training.backend).toBe('onnxruntime');
    const q = manifest.quantized;
    expect(q?.model).toBe('model.int8.onnx');
    expect((q?.bitsPerToken ?? Infinity) - (q?.fp32BitsPerToken ?? 0)).toBeLessThanOrEqual(0.02);
    expect(manifest.vocabulary).toHaveLength(83);
    // validation below 1.9 bits per character (a uniform guess over 83 characters is 6.4)
    expect((manifest.training.validationLoss ?? Infinity) / Math.LN2).toBeLessThan(1.9);
  });

  it('writes tunes with headers and notes', async () => {
    const dir = tempDir('shipped-abc');
    const r = await generateAbcFiles({
      model: 'models/abc',
      tunes: 2,
      start: 'X:1\nT:',
      seed: 3,
      sampler: { temperature: 1, topK: 0, topP: 1 },
      maxCharsPerTune: 3000,
      attempts: 8,
      guide: true,
      out: join(dir, 'tunes.abc'),
    });
    expect(r.generation.tunes).toHaveLength(2);
    for (const t of r.generation.tunes) {
      expect(t.text).toMatch(/^X:\d+\nT:.+\n(.*\n)*K:/);
      expect(t.events.filter((e) => e.type === 'note').length).toBeGreaterThan(20);
      // the default form: two repeated parts of 8 bars, every bar of the meter's length
      const shape = tuneShape(t.text);
      expect(shape.barsRight).toBe(shape.barsJudged);
      expect(shape.parts).toEqual([8, 8]);
      expect(t.text).toMatch(/(?::\||\|\])!?$/); // the last part's closing bar line ends the tune
    }
  });
});
