import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainAbc } from '../src/train/abc.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { generateAbc } from '../src/model/tune.ts';
import { lengthTable, MeterLengths, meterKey } from '../src/music/abc/lengths.ts';
import { charVocabulary } from '../src/music/abc/corpus.ts';
import { AbcGuide } from '../src/music/abc/guide.ts';
import { cleanTune, keyName } from '../src/music/abc/clean.ts';
import { FormMemory } from '../src/music/abc/memory.ts';
import { AbcStreamReader } from '../src/music/abc/reader.ts';
import { barTexts, formFigures } from '../src/eval/tuneForm.ts';
import { scheduleFactor, streamBatches, trainLm } from '../src/train/trainer.ts';
import { createRng } from '../src/music/rng.ts';
import { tempDir } from './helpers.ts';

describe('the house style of the ABC corpus', () => {
  it('keeps the music and a header of X, R, M, L, K whatever the source wrote', () => {
    const nottingham = `X: 1\nT:A and D\n% Nottingham Music Database\nS:EF\nY:AB\nM:4/4\nK:A\nM:6/8\nP:A\nf|"A"ecc c2f|"A"ecc c2f|"A"ecc c2f|"Bm"BcB "E7"B2f|\n"A"ecc c2f|"A"ecc c2c/2d/2|"D"efe "E7"dcB| [1"A"Ace a2:|\n [2"A"Ace ag=g||\n`;
    const r = cleanTune(nottingham, 7, { kind: 'jig' });
    expect(r.rejected).toBeNull();
    expect(r.tune).toBe(
      'X:7\nR:jig\nM:6/8\nL:1/8\nK:A Major\nf|ecc c2f|ecc c2f|ecc c2f|BcB B2f|\necc c2f|ecc c2c/2d/2|efe dcB| [1Ace a2:|\n[2Ace ag=g||',
    );
  });

  it("takes irish.abc's kind from its id, drops decorations, grace notes and line-end marks", () => {
    const irish = `X:1\nT:Alexander's\nZ: id:dc-hornpipe-1\nM:C|\nL:1/8\nK:D Major\n(3ABc|dAFA {g}DFAd|~fdcd FAdf|gfge fefd|(3efe dc d2:|!\n`;
    expect(cleanTune(irish, 1).tune).toBe(
      'X:1\nR:hornpipe\nM:C|\nL:1/8\nK:D Major\n(3ABc|dAFA DFAd|fdcd FAdf|gfge fefd|(3efe dc d2:|',
    );
  });

  it('writes the unit length ABC defaults to, and refuses tunes whose bars do not add up', () => {
    expect(cleanTune('X:1\nM:2/4\nK:G\nG2A2B2c2|d2e2d2B2|G2A2B2c2|d8|\n', 1).tune).toContain('L:1/16');
    expect(cleanTune('X:1\nM:3/4\nL:1/8\nK:G\nG6|GABc|d2e2f2|g6|A6|\n', 1).rejected).toBe('wrong bars');
    expect(cleanTune('X:1\nM:3/4\nL:1/8\nK:Q\nG6|\n', 1).rejected).toBe('no key');
    expect(cleanTune('X:1\nM:3/4\nL:1/8\nK:G\nG6|A6|\n', 1).rejected).toBe('too short');
  });

  it('spells keys as irish.abc does', () => {
    expect(['Gm', 'Ador', 'D mix', 'G', 'Bb', 'F#m', 'E Minor'].map(keyName)).toEqual([
      'G Minor',
      'A Dorian',
      'D Mixolydian',
      'G Major',
      'Bb Major',
      'F# Minor',
      'E Minor',
    ]);
  });
});

describe('whole-tune training', () => {
  it('gathers streams of like length into batches, every stream once an epoch, in a seeded order', () => {
    const streams = Array.from({ length: 50 }, (_, i) => new Array<number>(1 + ((i * 37) % 50)).fill(1));
    const batches = streamBatches(streams, 4, createRng('s'));
    const seen = batches.flat().map((w) => w.stream);
    expect([...seen].sort((a, b) => a - b)).toEqual(streams.map((_, i) => i));
    expect(batches.flat().every((w) => w.start === 0)).toBe(true);
    // within a bucket the lengths are sorted, so a batch is padded far less than a random one
    const pad = (bs: typeof batches): number =>
      bs.reduce((n, b) => {
        const lens = b.map((w) => (streams[w.stream] as number[]).length);
        return n + lens.reduce((k, l) => k + Math.max(...lens) - l, 0);
      }, 0);
    const unsorted = Array.from({ length: 13 }, (_, i) =>
      seen.slice(i * 4, i * 4 + 4).map((stream) => ({ stream, start: 0 })),
    );
    expect(pad(batches)).toBeLessThan(pad(unsorted));
    expect(streamBatches(streams, 4, createRng('s'))).toEqual(batches);
    expect(streamBatches(streams, 4, createRng('t'))).not.toEqual(batches);
  });

  it('warms the learning rate up, then decays it by a cosine to its floor', () => {
    const s = { warmup: 10, floor: 0.1 };
    expect(scheduleFactor(s, 1, 110)).toBeCloseTo(0.1);
    expect(scheduleFactor(s, 10, 110)).toBeCloseTo(1);
    expect(scheduleFactor(s, 60, 110)).toBeCloseTo(0.55);
    expect(scheduleFactor(s, 110, 110)).toBeCloseTo(0.1);
  });

  it('learns each stream from its start, scores held-out streams whole, and is reproducible', async () => {
    // two kinds of stream; the second half of each repeats its first, as a tune's parts do
    const stream = (a: number, n: number): number[] => {
      const half = Array.from({ length: n }, (_, i) => (a + i * 3) % 7);
      return [...half, ...half, 7];
    };
    const train = Array.from({ length: 24 }, (_, i) => stream(i % 5, 6 + (i % 4)));
    const base = {
      spec: { vocabSize: 8, units: 16, layers: 1, dropout: 0, embedding: 0, seed: 3 },
      train,
      validation: [stream(1, 7), stream(2, 9)],
      sequenceLength: 5, // unused: a batch is as long as its longest stream
      batchSize: 4,
      epochs: 6,
      learningRate: 0.03,
      stride: 1,
      progress: false,
      resume: false,
      trainer: 'ort' as const,
      threads: 1,
      wholeStreams: true,
      schedule: { warmup: 4, floor: 0.2 },
    };
    const a = await trainLm({ ...base, checkpointDir: tempDir('whole') });
    const b = await trainLm({ ...base, checkpointDir: tempDir('whole') });
    expect(b.losses).toEqual(a.losses);
    expect(a.losses.at(-1)).toBeLessThan((a.losses[0] as number) * 0.8);
    // each epoch saw every stream's every token once
    expect(a.trainedTokens).toBe(6 * train.reduce((n, s) => n + s.length, 0));
    expect(a.validationLosses.every((v) => v !== null && Number.isFinite(v))).toBe(true);
    a.model.dispose();
    b.model.dispose();
    await expect(trainLm({ ...base, trainer: 'tfjs', checkpointDir: tempDir('whole') })).rejects.toThrow(
      /--trainer ort/,
    );
  });
});

/** What the memory would bias at each character of `tune`: '=' the written one, 'x' another, '.' none. */
function memoryTrace(tune: string): string[] {
  const m = new FormMemory(8);
  const r = new AbcStreamReader();
  const lines = [''];
  for (const ch of tune) {
    const next = m.next();
    if (ch === '\n') lines.push('');
    else lines[lines.length - 1] += next.length === 0 ? '.' : next.includes(ch) ? '=' : 'x';
    m.push(ch);
    for (const e of r.push(ch)) m.event(e);
  }
  return lines;
}

describe('form memory', () => {
  const tune = [
    'X:1',
    'M:C|',
    'L:1/8',
    'K:D Major',
    '(3ABc|dAFA DFAd|fdcd FAdf|gfge fefd|(3efe (3dcB A2 (3ABc|',
    'dAFA DFAd|fdcd FAdf|gfge fefd|(3efe dc d2:|',
    'AG|FAdA FAdA|GBdB GBdB|Acec Acec|dfaf gecA|',
    'FAdA FAdA|GBdB GBdB|Aceg fefd|(3efe dc d2:|',
    '',
  ].join('\n');

  it('suggests restating bar 1 in bar 5 of each part (the pickup not counted), and nothing before', () => {
    const trace = memoryTrace(tune);
    expect(trace[4]).toMatch(/^\.+$/); // bars 1–4 of part A: nothing said yet to restate
    // bar 5 restates bar 1 character by character, then its bar line (spaces are the model's own)
    expect(trace[5]?.slice(0, 10)).toBe('====x=====');
    expect(trace[6]).toMatch(/^\.+$/); // part B's first four bars, its pickup AG not counted
    expect(trace[7]?.slice(0, 10)).toBe('====x=====');
  });

  it("suggests the restatement's first note right after the bar line, where it is decided", () => {
    const m = new FormMemory();
    for (const ch of 'X:1\nM:2/4\nL:1/8\nK:G Major\nGABc|dedB|GABc|d4|') m.push(ch);
    expect(m.next()).toEqual(['G']); // the bar line may still grow (|:), but bar 5 starts here
  });

  it('says nothing once the bar has become its own', () => {
    const m = new FormMemory();
    for (const ch of 'X:1\nM:2/4\nL:1/8\nK:G Major\nGABc|dedB|GABc|d4|GA') m.push(ch);
    expect(m.next()).toEqual(['B']);
    for (const ch of 'd') m.push(ch);
    expect(m.next()).toEqual([]);
  });

  it('restates the first ending in the second', () => {
    const m = new FormMemory();
    for (const ch of 'X:1\nM:2/4\nL:1/8\nK:G Major\nGABc|dedB|GABc|1d4:|2d') m.push(ch);
    expect(m.next()).toEqual(['4']);
  });
});

describe('the form figures', () => {
  it('counts recurring bars, short non-tuplet notes and tonic endings, tune by tune', () => {
    const a = 'X:1\nM:2/4\nL:1/8\nK:G Major\nGABc|d/e/dB|GABc|d2G2|\n';
    const b = 'X:2\nM:2/4\nL:1/8\nK:G Major\n(3GAB c2|dBAF|\n';
    expect(barTexts(a)).toEqual(['GABc', 'd/e/dB', 'GABc', 'd2G2']);
    const f = formFigures([a, b]);
    expect(f.bars).toBe(6);
    expect(f.recurringBars).toBe(2);
    expect(f.tunesWithRecurring).toBe(1);
    // d/ and e/ are short; the triplet's notes are not counted as short
    expect(f.shortNotes['2/4']).toEqual({
      short: 2,
      notes: 22,
      tunes: 2,
      perTune: [
        [2, 14],
        [0, 8],
      ],
    });
    expect(f.tonicEndings).toBe(1);
    expect(f.endingsJudged).toBe(2);
  });
});

describe('a model trained on whole tunes plays each from a fresh state', () => {
  it('ends a tune at its blank line, numbers the next and starts it afresh', async () => {
    const dir = tempDir('whole-abc');
    const data = join(dir, 'tunes.abc');
    const tunes = Array.from(
      { length: 24 },
      (_, i) =>
        `X:${i + 1}\nM:2/4\nL:1/8\nK:G Major\n${i % 2 ? 'GABc|dBAG|GABc|d4|' : 'dcBA|GABc|dcBA|G4|'}\n\n`,
    );
    writeFileSync(data, tunes.join(''));
    const out = join(dir, 'bundle');
    const manifest = await trainAbc({
      data: [data],
      out,
      embedding: 8,
      units: 32,
      layers: 1,
      dropout: 0,
      epochs: 60,
      batchesPerEpoch: 1,
      learningRate: 0.02,
      batchSize: 8,
      sequenceLength: 40,
      validation: 0.1,
      seed: 1,
      threads: 1,
      resume: false,
      progress: false,
      wholeTunes: true,
      log: () => undefined,
    });
    expect(manifest.hyperparameters.wholeSequences).toBe(true);
    expect(manifest.training.split).toEqual({ by: 'tunes', share: 0.1, training: 22, heldOut: 2 });
    const session = await LstmSession.load(out);
    let resets = 0;
    const reset = (): void => LstmSession.prototype.reset.call(session);
    session.reset = () => {
      resets++;
      reset();
    };
    const g = await generateAbc(session, {
      tunes: 3,
      start: 'X:1\n',
      sampler: { temperature: 0.5, topK: 0, topP: 1 },
      rng: createRng('w'),
      maxCharsPerTune: 200,
    });
    await session.dispose();
    expect(g.tunes.map((t) => t.text.split('\n')[0])).toEqual(['X:1', 'X:2', 'X:3']);
    expect(g.tunes.every((t) => /\|$/.test(t.text) && !t.text.includes('\n\n'))).toBe(true);
    expect(resets).toBe(3); // once at the start, then once for each tune after the first
  });
});

describe('bars filled the way the corpus fills them', () => {
  it('learns the lengths each meter writes, and which rooms they fill', () => {
    const jig = 'X:1\nM:6/8\nL:1/8\nK:D Major\n' + 'dBA FAd|e3 fed|'.repeat(60);
    const polka = 'X:2\nM:2/4\nL:1/8\nK:D Major\n' + 'd/e/f ed|A2 A2|'.repeat(100);
    const t = lengthTable([jig, polka]);
    expect(t[meterKey(6, 3, 0.5)]).toEqual(['', '3']);
    expect(t[meterKey(2, 2, 0.5)]).toEqual(['', '2', '/']);
    const m = new MeterLengths(['', '3'], 0.5, 3);
    expect([0, 0.5, 1.5, 2.5].map((r) => m.completes(r))).toEqual([true, true, true, true]);
    expect(m.completes(0.25)).toBe(false); // a sixteenth's room: no jig length fills it
    expect(m.completes(1 / 3)).toBe(true); // off the grid (a tuplet's): not judged
  });

  it("keeps a jig's bars true without the sixteenths the corpus never writes there", () => {
    const vocab = charVocabulary([readFileSync('data/irish.abc', 'utf8')]);
    const head = 'X:1\nM:6/8\nL:1/8\nK:D Major\n';
    const table = { '6:3:0.5': ['', '2', '3'] };
    const guideAfter = (text: string, lengths?: typeof table) => {
      const g = new AbcGuide(vocab, { form: null, ...(lengths ? { lengths } : {}) });
      g.push(text);
      return (chars: string): string => [...chars].filter((c) => g.allows(c)).join('');
    };
    // five eighths written, the sixth open: a quarter or a sixteenth without the table, no sixteenth with it
    expect(guideAfter(`${head}dBA FA`)('/2|')).toBe('/2');
    expect(guideAfter(`${head}dBA FA`, table)('/2|')).toBe('2');
    expect(guideAfter(`${head}dBA FAd`, table)('|/')).toBe('|');
    // a dotted quarter fits after three eighths; a quarter would leave a sixteenth-free eighth: fine too
    expect(guideAfter(`${head}dBA F`, table)('23/')).toBe('23');
  });
});

describe('improv generate --kind', () => {
  const cli = (...args: string[]) => {
    const r = spawnSync('node_modules/.bin/tsx', ['src/cli/main.ts', ...args], { encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('primes each tune with the kind asked for, and refuses a kind that is no word', () => {
    const out = join(tempDir('kind'), 'reels.abc');
    const ok = cli(
      'generate',
      '--model',
      'models/abc',
      '--kind',
      'Reel',
      '--tunes',
      '2',
      '--seed',
      '2',
      '--out',
      out,
    );
    expect(ok.code).toBe(0);
    const tunes = readFileSync(out, 'utf8')
      .split(/\n\n+/)
      .filter((t) => t.trim());
    expect(tunes).toHaveLength(2);
    for (const t of tunes) expect(t).toMatch(/^X:\d+\nR:reel\n/);
    const bad = cli('generate', '--model', 'models/abc', '--kind', 'reel!', '--out', out);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--kind reel!: a word or two, letters only/);
    const clash = cli(
      'generate',
      '--model',
      'models/abc',
      '--kind',
      'jig',
      '--start',
      'X:1\\nT:x',
      '--out',
      out,
    );
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/--kind goes with a --start of an X: line only/);
  });
});
