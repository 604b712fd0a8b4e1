/**
 * The grammar model's rhythm guide (issue 24, meter): lines keep to the places in the bar where the
 * training tunes start their elements, meter by meter; and the judge that counts notes a bar and
 * onsets in the beat, by meter.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateJazz } from '../src/cli/jazzCommands.ts';
import { oversampleList } from '../src/cli/options.ts';
import { meterName } from '../src/music/conditioning.ts';
import { gridFor, onsetGrids } from '../src/music/onsetGrid.ts';
import { readManifest } from '../src/music/bundle.ts';
import { onsetPlace, RhythmByMeter } from '../src/eval/meterRhythm.ts';
import { tempDir, tinyJazzBundle } from './helpers.ts';

describe('onset grids', () => {
  it('keep the places a meter starts elements at, above a share, and always the bar start', () => {
    const lines = [
      { barLength: 36, beat: 12, onsets: [0, 12, 24, 36, 48, 60, 66, 72] },
      { barLength: 36, beat: 12, onsets: [3, 12, 24] }, // one note a sixteenth in: 1 of 11
      { barLength: 36, beat: 18, onsets: [0, 6, 12, 18, 24, 30] },
    ];
    const grids = onsetGrids(lines, 0.1);
    expect(grids).toEqual([
      { barLength: 36, beat: 12, positions: [0, 12, 24] }, // 30 and 3 are 1 in 11 each: left out
      { barLength: 36, beat: 18, positions: [0, 6, 12, 18, 24, 30] },
    ]);
    const waltz = gridFor(grids, { barLength: 36, beat: 12 });
    expect([0, 12, 24, 36, 48].map((t) => waltz?.(t))).toEqual([true, true, true, true, true]);
    expect([3, 6, 30, 42].map((t) => waltz?.(t))).toEqual([false, false, false, false]);
    // a meter never played: its beat's places from the meters that share the beat
    const fourFour = gridFor(grids, { barLength: 48, beat: 12 });
    expect([0, 12, 36, 6].map((t) => fourFour?.(t))).toEqual([true, true, true, false]);
    expect(gridFor(grids, { barLength: 48, beat: 24 })).toBeNull();
    expect(gridFor(undefined, { barLength: 36, beat: 12 })).toBeNull();
  });

  it('names meters and places in the beat as the report prints them', () => {
    expect([meterName(36, 12), meterName(36, 18), meterName(48, 24), meterName(54, 18)]).toEqual([
      '3/4',
      '6/8',
      '2/2',
      '9/8',
    ]);
    expect([0, 6, 4, 8, 3, 9, 1, 24, -6].map(onsetPlace)).toEqual([
      'quarter',
      'eighth',
      'triplet',
      'triplet',
      'sixteenth',
      'sixteenth',
      'other',
      'quarter',
      'eighth',
    ]);
    const r = new RhythmByMeter();
    r.add('3/4', 2, [0, 12, 24, 36, 42]);
    r.add('6/8', 1, [0, 6]);
    r.add('3/4', 1, [0, 4, 8]);
    const [waltz, jig] = r.summary();
    expect(waltz).toMatchObject({ meter: '3/4', lines: 2, bars: 3, notesPerBar: 8 / 3 });
    expect(waltz?.onsets).toEqual({ quarter: 5 / 8, eighth: 1 / 8, triplet: 2 / 8, sixteenth: 0, other: 0 });
    expect(jig).toMatchObject({ meter: '6/8', notesPerBar: 2 });
  });

  it('--oversample reads meters and counts, and names what it expects', () => {
    expect(oversampleList('3/4:3, 6/8:2')).toEqual({ '3/4': 3, '6/8': 2 });
    expect(() => oversampleList('3/4')).toThrow('expected a meter and a count from 1 to 20');
    expect(() => oversampleList('waltz:3')).toThrow('expected a meter and a count');
  });
});

describe('the rhythm guide in a line', () => {
  let bundle: string;
  beforeAll(async () => {
    // the tiny seed-profile bundle plays no guide; a copy given a grid of eighth notes does (its
    // vocabulary holds nothing as long as a quarter)
    bundle = join(tempDir('guided'), 'bundle');
    cpSync(await tinyJazzBundle(), bundle, { recursive: true });
    expect(readManifest(bundle).jazz?.onsetGrid).toBeUndefined();
    const file = join(bundle, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8')) as { jazz: Record<string, unknown> };
    m.jazz.onsetGrid = [{ barLength: 48, beat: 12, positions: [0, 6, 12, 18, 24, 30, 36, 42] }];
    writeFileSync(file, JSON.stringify(m));
  });

  const sampler = { temperature: 1, topK: 0, topP: 1 };
  const play = (rhythmGuide: boolean) =>
    generateJazz({
      model: bundle,
      bars: 16,
      seed: 4,
      sampler,
      chords: 'C7 F7 C7 G7',
      rhythmGuide,
      out: join(tempDir('guided-out'), 'solo.mid'),
    });

  it('keeps every element on the grid, where the model alone does not', async () => {
    const raw = await play(false);
    const offGrid = raw.solo.notes.filter((n) => n.start % 6 !== 0).length;
    expect(offGrid).toBeGreaterThan(0);
    const guided = await play(true);
    expect(guided.solo.notes.length).toBeGreaterThan(8);
    expect(guided.solo.notes.filter((n) => n.start % 6 !== 0)).toEqual([]);
    expect((await play(true)).solo.notes).toEqual(guided.solo.notes); // same seed, same line
  });
});
