import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evalAbc, generateAbcFiles } from '../src/cli/abcCommands.ts';
import { readAbc } from '../src/music/abc/reader.ts';
import { expandRepeats } from '../src/music/abc/repeats.ts';
import { PrimingError } from '../src/model/tune.ts';
import { lintTune } from '../src/music/abc/lint.ts';
import { tuneShape } from '../src/music/abc/shape.ts';
import { abc2midi, abc2midiAvailable } from '../src/music/abc/abc2midi.ts';
import { tempDir, tinyAbcBundle } from './helpers.ts';
import { midoAvailable, midoCheck } from './judges.ts';

let bundle: string;
const sampler = { temperature: 1, topK: 0, topP: 1 };
const gen = (name: string, seed: number, start = 'X:1', tunes = 2, attempts = 1, guide = false) =>
  generateAbcFiles({
    attempts,
    guide,
    model: bundle,
    tunes,
    start,
    seed,
    sampler,
    maxCharsPerTune: 400,
    out: join(tempDir('abc'), name),
  });

beforeAll(async () => {
  bundle = await tinyAbcBundle();
});

describe('improv generate (ABC)', () => {
  it('same seed → same text, another seed → another text', async () => {
    const a = await gen('a.abc', 3);
    const b = await gen('b.abc', 3);
    const c = await gen('c.abc', 4);
    expect(b.generation.text).toBe(a.generation.text);
    expect(c.generation.text).not.toBe(a.generation.text);
    expect(readFileSync(a.abcFile, 'utf8')).toBe(a.generation.text);
  });

  it('starts from the priming text and stops within the tune and character budget', async () => {
    const r = await gen('p.abc', 5, 'X:1\nT:Test\nM:6/8\nL:1/8\nK:D\n', 2);
    expect(r.generation.text.startsWith('X:1\nT:Test\nM:6/8\nL:1/8\nK:D\n')).toBe(true);
    expect(r.generation.tunes.length).toBeGreaterThanOrEqual(1);
    expect(r.generation.tunes.length).toBeLessThanOrEqual(2);
    expect(r.generation.characters).toBeLessThanOrEqual(800);
  });

  it('streams the same notes as reading the written text afterwards', async () => {
    const r = await gen('s.abc', 6, 'X:1\nT:Test\nM:4/4\nL:1/8\nK:G\nGABc dedB|', 1);
    const reread = expandRepeats(readAbc(r.generation.tunes[0]?.text ?? '').events).filter(
      (e) => e.type === 'note',
    );
    const streamed = (r.generation.tunes[0]?.events ?? []).filter((e) => e.type === 'note');
    expect(streamed.length).toBeGreaterThanOrEqual(8);
    expect(streamed).toEqual(reread);
  });

  it('with attempts, draws a tune that fails the lint again from its X: line, and says so', async () => {
    const a = await gen('l.abc', 9, 'X:1', 3, 3);
    const b = await gen('l2.abc', 9, 'X:1', 3, 3);
    expect(b.generation.text).toBe(a.generation.text);
    for (const t of a.generation.tunes) {
      expect(t.attempts).toBeGreaterThanOrEqual(1);
      expect(t.attempts).toBeLessThanOrEqual(3);
      if (t.problems.length > 0)
        expect(t.attempts).toBe(3); // kept only when no draw passed
      else expect(lintTune(t.text)).toEqual([]);
    }
    expect(a.generation.characters).toBeGreaterThan(0);
  });

  it('writes one MIDI file per tune with the same notes', async () => {
    const r = await gen('m.abc', 7, 'X:1\nT:Test\nM:4/4\nL:1/8\nK:G\nGABc dedB|', 2);
    expect(r.midiFiles).toHaveLength(r.generation.tunes.length);
    r.midiFiles.forEach((f) => expect(existsSync(f)).toBe(true));
    if (midoAvailable()) {
      const m = midoCheck(r.midiFiles[0] as string);
      expect(m.notes).toBe(r.generation.tunes[0]?.events.filter((e) => e.type === 'note').length);
      expect(m.hanging).toBe(0);
    }
  });

  it('refuses priming text with characters outside the vocabulary, naming them', async () => {
    await expect(gen('x.abc', 1, 'X:1\nT:Café ☕')).rejects.toThrow(PrimingError);
    await expect(gen('x.abc', 1, 'X:1\nT:Café ☕')).rejects.toThrow(
      /2 character\(s\) outside the model's vocabulary: "é", "☕"/,
    );
  });

  it('fails on the command line with the same message and exit status 2, writing nothing', () => {
    const out = join(tempDir('abc'), 'cli.abc');
    const r = spawnSync(
      'node_modules/.bin/tsx',
      ['src/cli/main.ts', 'generate', '--model', bundle, '--start', 'X:1 ☕', '--out', out],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      'improv: PrimingError: --start has 1 character(s) outside the model\'s vocabulary: "☕"',
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('improv generate (ABC) with the bar-true mask', () => {
  const guided = (seed: number, form: string, bars: number) =>
    generateAbcFiles({
      model: bundle,
      tunes: 3,
      start: 'X:1',
      seed,
      sampler,
      maxCharsPerTune: 1500,
      attempts: 1,
      guide: true,
      form,
      bars,
      out: join(tempDir('abc'), `g${seed}.abc`),
    });

  it('writes tunes in the asked form whose every bar adds up, even from a barely trained model', async () => {
    const r = await guided(2, 'AAB', 6);
    expect(r.generation.tunes.length).toBeGreaterThan(0);
    for (const t of r.generation.tunes) {
      const shape = tuneShape(t.text);
      expect(shape.barsRight).toBe(shape.barsJudged);
      expect(shape.parts).toEqual([3, 3]);
      expect(readAbc(t.text).stats.skippedTokens).toBe(0);
      expect(t.guide?.steps).toBeGreaterThan(0);
      // a tiny model needs the mask often
      expect(t.guide?.changed).toBeGreaterThan(0);
      if (abc2midiAvailable()) {
        // judged from outside: no error, no bar warning, nothing but abc2midi's note on the first repeat
        const judged = abc2midi(t.text);
        expect(judged.errors).toEqual([]);
        expect(judged.warnings.filter((w) => !/Assuming repeat/.test(w))).toEqual([]);
      }
    }
    const again = await guided(2, 'AAB', 6);
    expect(again.generation.text).toBe(r.generation.text);
  });

  it('refuses a form that does not share out, before loading the model', async () => {
    await expect(guided(1, 'AB', 5)).rejects.toThrow(/--bars 5 does not share out into the 2 part/);
  });
});

describe('improv eval --generate (ABC)', () => {
  it('prints the quality report with its targets', () => {
    const r = spawnSync(
      'node_modules/.bin/tsx',
      [
        'src/cli/main.ts',
        'eval',
        '--model',
        bundle,
        '--generate',
        '3',
        '--form',
        'AB',
        '--bars',
        '4',
        '--training',
        'data/irish.abc',
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /3 tunes generated \(seed 1, temperature 1, form AB, mask on\); copies against data\/irish.abc/,
    );
    expect(r.stdout).toMatch(/bars of the right length \(own count\) +100 % +target ≥ 99 % +met/);
    expect(r.stdout).toMatch(/longest verbatim copy from training +\d+ chars/);
  });

  it('needs an ABC model', () => {
    const r = spawnSync(
      'node_modules/.bin/tsx',
      ['src/cli/main.ts', 'eval', '--model', 'models/jazz', '--generate', '2'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('improv: UsageError: --generate needs an ABC model');
  });
});

describe('improv eval (ABC)', () => {
  it('reports bits per character, counting and skipping characters outside the vocabulary', async () => {
    const file = join(tempDir('abc'), 'eval.abc');
    writeFileSync(file, 'X:1\nT:Ünknown\nM:4/4\nL:1/8\nK:D\nABcd efga|\n');
    const r = await evalAbc(bundle, file);
    expect(r.outOfVocabulary).toBe(1);
    expect(r.scored).toBe(r.tokens - 1);
    expect(r.bitsPerToken).toBeGreaterThan(0);
    expect(r.bitsPerToken).toBeLessThan(Math.log2(84));
  });
});
