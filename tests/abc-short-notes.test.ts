import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { charVocabulary } from '../src/music/abc/corpus.ts';
import { AbcGuide } from '../src/music/abc/guide.ts';
import { readAbc } from '../src/music/abc/reader.ts';
import { PRIOR_NOTES, SHORT_GAIN, ShortNoteBias, shortShareTable } from '../src/music/abc/shortNotes.ts';
import { formFigures, shareError } from '../src/eval/tuneForm.ts';

const VOCAB = charVocabulary([readFileSync('data/irish.abc', 'utf8')]);

/** A tune of `bars` bars in `meter`, each bar `bar` (L:1/8). */
const tune = (meter: string, bar: string, bars = 40): string =>
  `X:1\nM:${meter}\nL:1/8\nK:G\n${Array.from({ length: bars }, () => bar).join('|')}|]\n`;

describe('short notes at the corpus rate for the meter', () => {
  it('gives a meter’s share a standard error from its spread between tunes', () => {
    const even = formFigures([tune('6/8', 'G/A/B G2 D'), tune('6/8', 'G/A/B G2 D')]).shortNotes['6/8']!;
    expect(even.tunes).toBe(2);
    expect(shareError(even)).toBe(0); // every tune at the same share
    const split = formFigures([tune('6/8', 'G/A/B G2 D'), tune('6/8', 'GAB G2 D')]).shortNotes['6/8']!;
    expect(shareError(split)).toBeGreaterThan(10); // 40 % and 0 %: a wide spread
    expect(shareError(formFigures([tune('6/8', 'GAB G2 D')]).shortNotes['6/8']!)).toBe(Infinity);
  });

  it('learns the share of notes under an eighth by meter as the judge counts it (tuplet notes are no short notes)', () => {
    const jigs = tune('6/8', 'G/A/B G2 D'); // 2 of 5 notes short
    const reels = tune('C', '(3GAB c2 d2 e2'); // triplet notes: none short
    const table = shortShareTable([jigs, reels]);
    expect(table['6/8|0.5']).toBeCloseTo(2 / 5, 6);
    expect(table['C|0.5']).toBe(0);
    // the same share the judge prints for these tunes
    const f = formFigures([jigs, reels]).shortNotes;
    expect((f['6/8']?.short ?? 0) / (f['6/8']?.notes ?? 1)).toBeCloseTo(2 / 5, 6);
    // a meter with too few notes gets no entry
    expect(shortShareTable([tune('6/8', 'G/A/B G2 D', 2)])).toEqual({});
  });

  it('biases toward short notes while a tune is below the share, against them above, not at all elsewhere', () => {
    const table = { '6/8|0.5': 0.1 };
    const bias = new ShortNoteBias(table, 2);
    const feed = (text: string) => readAbc(text).events.forEach((e) => bias.event(e));
    expect(bias.amount(0.5)).toBe(0); // no tune yet: no meter
    feed('X:1\nM:6/8\nL:1/8\nK:G\n');
    expect(bias.amount(0.5)).toBeCloseTo(0, 9); // at the prior: on target
    expect(bias.amount(0.25)).toBe(0); // another unit: no entry
    const low = new ShortNoteBias(table, 2);
    readAbc(`X:1\nM:6/8\nL:1/8\nK:G\n${'GAB GAB|'.repeat(10)}`).events.forEach((e) => low.event(e)); // 60 eighths, none short
    // running share (0 short + 0.1 × PRIOR_NOTES) / (60 + PRIOR_NOTES): far below, the most it takes
    expect(low.amount(0.5)).toBe(2);
    // a few notes under the share: the gap (a share of 0.1) times the gain
    const near = new ShortNoteBias(table, 2);
    readAbc(`X:1\nM:6/8\nL:1/8\nK:G\nGAB GAB|`).events.forEach((e) => near.event(e)); // 6 eighths
    const running = (0.1 * PRIOR_NOTES) / (6 + PRIOR_NOTES);
    expect(near.amount(0.5)).toBeCloseTo((2 * SHORT_GAIN * (0.1 - running)) / 0.1, 9);
    expect(near.amount(0.5)).toBeLessThan(2);
    const after = new ShortNoteBias(table, 2);
    readAbc(`X:1\nM:6/8\nL:1/8\nK:G\n${'G/A/B/c/ d2 e|'.repeat(10)}`).events.forEach((e) => after.event(e));
    expect(after.amount(0.5)).toBe(-2); // 4 of 7 notes short: far above, the most it takes
    expect(new ShortNoteBias(table, 0).amount(0.5)).toBe(0);
    // a meter the table lacks takes the share of one that means the same bar: 2/2 that of C|
    const cut = new ShortNoteBias({ 'C||0.5': 0.2 }, 2);
    readAbc(`X:1\nM:2/2\nL:1/8\nK:G\n${'GABc dBAG|'.repeat(6)}`).events.forEach((e) => cut.event(e));
    expect(cut.amount(0.5)).toBeGreaterThan(0);
    const waltz = new ShortNoteBias({ 'C||0.5': 0.2 }, 2);
    readAbc(`X:1\nM:3/4\nL:1/8\nK:G\n${'GABc dB|'.repeat(6)}`).events.forEach((e) => waltz.event(e));
    expect(waltz.amount(0.5)).toBe(0);
  });

  it('adds the bias to / on an open note and to > and < after a whole one, nowhere else', () => {
    const head = 'X:1\nM:6/8\nL:1/8\nK:G\n';
    const guideAfter = (text: string, share: number) => {
      const g = new AbcGuide(VOCAB, { form: null, shortShare: { '6/8|0.5': share }, shortBias: 3 });
      g.push(text);
      const logits = new Float32Array(VOCAB.length);
      const allowed = new Uint8Array(VOCAB.length);
      g.guide(logits, allowed);
      return (ch: string) => logits[VOCAB.indexOf(ch)] as number;
    };
    // 12 eighths written, none short, in a meter whose share is 0.3: '/' and the pair marks favoured
    const low = guideAfter(`${head}GAB GAB|GAB GAB|G`, 0.3);
    expect(low('/')).toBeGreaterThan(0);
    expect(low('>')).toBeGreaterThan(0);
    expect(low('<')).toBeGreaterThan(0);
    expect(low('2')).toBe(0);
    expect(low('A')).toBe(0);
    // a share the tune is above: '/' disfavoured
    const high = guideAfter(`${head}G/A/B G/A/B|G/A/B G/A/B|G`, 0.05);
    expect(high('/')).toBeLessThan(0);
    // a note already given a length: '/' would make 3/2, no short note: no bias
    expect(guideAfter(`${head}GAB GAB|GAB GAB|G3`, 0.3)('/')).toBe(0);
    // bar 5 restating bar 1 (form memory favours its next note): the restated bar's rhythm, no bias
    const restating = guideAfter(`${head}GAB GAB|GAB GAB|GAB GAB|GAB GAB|G`, 0.3);
    expect(restating('A')).toBeGreaterThan(0);
    expect(restating('/')).toBe(0);
    // the same bar left its source: the bias is back
    expect(guideAfter(`${head}GAB GAB|GAB GAB|GAB GAB|GAB GAB|F`, 0.3)('/')).toBeGreaterThan(0);
  });
});
