import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateJazz } from '../src/cli/jazzCommands.ts';
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
