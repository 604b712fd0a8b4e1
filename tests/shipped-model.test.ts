import { readdirSync, statSync } from 'node:fs';
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
    expect(manifest.training.profile).toBe('full');
  });

  it('was fine-tuned from the shipped folk model: its size, its inputs and the very weights it started from', () => {
    const folk = readManifest('models/folk');
    expect(manifest.hyperparameters.units).toBe(folk.hyperparameters.units);
    expect(manifest.conditioning).toEqual(folk.conditioning);
    expect(manifest.training.init).toEqual({
      bundle: 'models/folk',
      model: folk.model,
      sha256: sha256(join('models/folk', folk.model)),
    });
    // it knows more than the solo: the folk tokens it was pretrained on stay in its vocabulary
    expect(manifest.vocabulary.length).toBeGreaterThan(folk.vocabulary.length);
    expect(folk.vocabulary.every((t) => manifest.vocabulary.includes(t))).toBe(true);
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

  it('was trained by this project on the house-style folk corpus, whole tunes, at the lab size, and its ONNX passed the fidelity check', () => {
    expect(manifest.kind).toBe('abc-char');
    const files = ['irish', 'nottingham', 'oneills', 'ryans', 'airds'].map((f) => `data/abc-folk/${f}.abc`);
    expect(manifest.training.data).toEqual(files.map((file) => ({ file, sha256: sha256(file) })));
    // what the data is and how it was split, as the manifest must say
    expect(manifest.training.licence).toMatch(/GPL-3\.0/);
    expect(manifest.training.licence).toMatch(/public domain/);
    expect(manifest.training.split).toMatchObject({ by: 'tunes', share: 0.05 });
    expect(manifest.training.split?.heldOut).toBeGreaterThan(200);
    expect(manifest.fidelity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    // the MIT lab's size, trained by the project's ORT trainer on whole tunes, with the 4-bit variant it plays live
    expect(manifest.hyperparameters).toMatchObject({ embedding: 256, units: 1024, wholeSequences: true });
    expect(manifest.training.backend).toBe('onnxruntime');
    const q = manifest.quantized;
    expect(q?.model).toMatch(/\.int4\.onnx$/);
    expect(q).toMatchObject({ bits: 4, blockSize: 32 });
    expect((q?.bitsPerToken ?? Infinity) - (q?.fp32BitsPerToken ?? 0)).toBeLessThanOrEqual(0.02);
    // the house style's characters: no titles' punctuation, no decorations, no chord quotes
    expect(manifest.vocabulary).toHaveLength(71);
    expect(manifest.vocabulary).not.toContain('"');
    // validation, tune by tune from a fresh state, below 1.6 bits per character (uniform: 6.1)
    expect((manifest.training.validationLoss ?? Infinity) / Math.LN2).toBeLessThan(1.6);
    // the mask's note lengths by meter, learnt from the training tunes: a jig writes no 3/2
    expect(manifest.abcLengths?.['6:3:0.5']).toEqual(expect.arrayContaining(['', '2', '3']));
    expect(manifest.abcLengths?.['6:3:0.5']).not.toContain('3/2');
    // and its share of notes under an eighth by meter (the short-note bias): jigs fewer than 2/4 tunes
    expect(manifest.abcShortShare?.['6/8|0.5']).toBeGreaterThan(0);
    expect(manifest.abcShortShare?.['6/8|0.5']).toBeLessThan(manifest.abcShortShare?.['2/4|0.5'] ?? 0);
    // every file of the bundle together under 30 MB
    const bytes = readdirSync('models/abc').reduce((n, f) => n + statSync(join('models/abc', f)).size, 0);
    expect(bytes).toBeLessThan(30_000_000);
  });

  it('writes tunes with headers and notes', async () => {
    const dir = tempDir('shipped-abc');
    const r = await generateAbcFiles({
      model: 'models/abc',
      tunes: 2,
      start: 'X:1',
      seed: 3,
      sampler: { temperature: 1, topK: 0, topP: 1 },
      maxCharsPerTune: 3000,
      attempts: 8,
      guide: true,
      out: join(dir, 'tunes.abc'),
    });
    expect(r.generation.tunes).toHaveLength(2);
    for (const t of r.generation.tunes) {
      expect(t.text).toMatch(/^X:\d+\n(R:.+\n)?M:.+\nL:.+\nK:.+\n/);
      expect(t.events.filter((e) => e.type === 'note').length).toBeGreaterThan(20);
      // the default form: two repeated parts of 8 bars, every bar of the meter's length
      const shape = tuneShape(t.text);
      expect(shape.barsRight).toBe(shape.barsJudged);
      expect(shape.parts).toEqual([8, 8]);
      expect(t.text).toMatch(/(?::\||\|\])$/); // the last part's closing bar line ends the tune
    }
  });
});
