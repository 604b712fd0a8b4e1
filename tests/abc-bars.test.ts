import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseForm, FormError, FormTracker } from '../src/music/abc/form.ts';
import { readAbc, RIGHT_FITS, type BarFit } from '../src/music/abc/reader.ts';
import { tuneShape, tonicOf } from '../src/music/abc/shape.ts';
import { splitTunes } from '../src/music/abc/corpus.ts';

const fits = (text: string): BarFit[] =>
  readAbc(text).events.flatMap((e) => (e.type === 'bar' || e.type === 'tune-end' ? [e.fit] : []));
const tune = (body: string, header = 'M:4/4\nL:1/8\nK:G'): string => `X:1\nT:t\n${header}\n${body}\n`;

describe('bar accounting in the streaming reader', () => {
  it('judges each bar against M: and L:, with pickups and the closing bar the pickup completes', () => {
    expect(fits(tune('GA|B2c2 d2e2|f2g2 a2b2|c2B2 A2:|'))).toEqual([
      'pickup',
      'full',
      'full',
      'closing',
      'empty',
    ]);
    // a short bar in the middle, a long one, and a closing bar that the pickup does not complete
    expect(fits(tune('B2c2 d2e2|f2g2 a2|b2a2 g2f2 e2|c2B2 A2:|'))).toEqual([
      'full',
      'short',
      'long',
      'short',
      'empty',
    ]);
    // 6/8 and L:1/16, the open bar at the end judged as if closed
    expect(fits(tune('FED EFG|AdB cAG|A3', 'M:6/8\nL:1/8\nK:D'))).toEqual(['full', 'full', 'short']);
    expect(fits(tune('C4 D4|E2F2G2A2|', 'M:2/4\nL:1/16\nK:C'))).toEqual(['full', 'full', 'empty']);
  });

  it('counts triplets, broken rhythm, ties across the bar line and cut time', () => {
    expect(fits(tune('(3DEF G2|A>B c<d|e2-|e2 f2|', 'M:2/4\nL:1/8\nK:D'))).toEqual([
      'full',
      'full',
      'short',
      'full',
      'empty',
    ]);
    expect(fits(tune('dAFA DFAd|fdcd FAdf|', 'M:C|\nL:1/8\nK:D'))).toEqual(['full', 'full', 'empty']);
    // an inline meter change holds from the bar it is written in
    expect(fits(tune('B8|[M:3/4]B6|B6|[M:4/4]B6|'))).toEqual(['full', 'full', 'full', 'short', 'empty']);
  });

  it('restarts the pickup rule at each part, not inside endings; a malformed bar is broken', () => {
    expect(fits(tune('GA|B2c2 d2e2|1 c2B2 A2:|2 c2B2 A2||GA|B8|]'))).toEqual([
      'pickup',
      'full',
      'closing',
      'closing',
      'pickup',
      'full',
      'empty',
    ]);
    expect(fits(tune('B2c2 d2§e2|B8|'))).toEqual(['broken', 'full', 'empty']);
  });

  it('finds ≥ 99 % of the bars of the training corpus right', () => {
    const { events } = readAbc(readFileSync('data/irish.abc', 'utf8'));
    const judged = events.filter((e) => (e.type === 'bar' || e.type === 'tune-end') && e.fit !== 'empty');
    const right = judged.filter((e) => (e.type === 'bar' || e.type === 'tune-end') && RIGHT_FITS.has(e.fit));
    expect(right.length / judged.length).toBeGreaterThan(0.99);
  });
});

describe('tune shape', () => {
  it('gives parts, bars as written, and the tonic ending', () => {
    const text = tune(
      'GA|B2c2 d2e2|B2c2 d2e2|B2c2 d2e2|c2B2 A2:|!\n|:GA|B2c2 d2e2|B2c2 d2e2|1 B2c2 d2e2|c2B2 G2:|2 B2c2 d2e2|c2B2 G2|]',
    );
    const s = tuneShape(text);
    expect(s.parts).toEqual([4, 4]);
    expect(s.bars).toBe(10); // the second ending's two bars are written too
    expect(s.barsRight).toBe(s.barsJudged);
    expect(s.tonicEnding).toBe(true);
    expect(tuneShape(tune('B2c2 d2e2|c2B2 A4|')).tonicEnding).toBe(false);
    expect([tonicOf('D Major'), tonicOf('F#m'), tonicOf('Bb'), tonicOf('none')]).toEqual([2, 6, 10, null]);
  });

  it('scores the corpus as a musician would count it: most tunes in parts of 8 or 16 bars', () => {
    const tunes = splitTunes(readFileSync('data/irish.abc', 'utf8'));
    const regular = tunes.filter((t) => {
      const p = tuneShape(t).parts;
      return p.length > 0 && p.every((n) => n === 8 || n === 16);
    });
    expect(regular.length / tunes.length).toBeGreaterThan(0.6);
  });
});

describe('form', () => {
  it('parses --form and --bars, refusing what does not share out', () => {
    expect(parseForm()).toEqual({
      parts: [
        { name: 'A', repeat: true },
        { name: 'B', repeat: true },
      ],
      barsPerPart: 8,
    });
    expect(parseForm('ABC', 24).barsPerPart).toBe(8);
    expect(parseForm('AAB', 32)).toEqual({
      parts: [
        { name: 'A', repeat: true },
        { name: 'B', repeat: false },
      ],
      barsPerPart: 16,
    });
    expect(() => parseForm('AAA')).toThrow(FormError);
    expect(() => parseForm('aabb')).toThrow(/capital letters/);
    expect(() => parseForm('AABB', 15)).toThrow(/does not share out into the 2 part/);
  });

  const follow = (body: string, form = parseForm('AABB', 8)): FormTracker => {
    const t = new FormTracker(form);
    for (const e of readAbc(tune(body)).events) t.push(e);
    return t;
  };

  it('follows parts, pickups, endings and the |: of a later part', () => {
    const a = 'GA|B8|B8|B8|B6:|!\n';
    expect(follow(`${a}|:GA|B8|B8|B8|B6:|`).done).toBe(true);
    expect(follow(`${a}|:GA|B8|B8|1 B8|B6:|2 B8|B6|]`).done).toBe(true);
    expect(follow(`${a}|:GA|B8|B8|B8|1 B6:|2 B6|]`).done).toBe(true);
    expect(follow(`${a}|:GA|B8|1 B8|B8|B6:|2 B8|B8|B6|]`).broken).toMatch(/one bar to half the part/);
    expect(follow(`${a}GA|B8|B8|B8|B6:|`).broken).toMatch(/must open with \|:/);
    expect(follow(`${a}|:B8|B8|B8|B8:|`).broken).toMatch(/must open with the tune's pickup/);
    expect(follow(`${a}|:GA|B8|B8|B8|B8:|`).broken).toMatch(/leave room for the pickup/);
    expect(follow(`${a}|:GA|B8|B8:|`).broken).toMatch(/closed after 2 of 4 bars/);
    expect(follow(`${a}|:GA|B8|B8|1 B8|B6:|B8|`).broken).toMatch(/no second ending/);
    expect(follow(`${a}|:GA|B8|B8|1 B8|B6:|!\n|\n:|[2 B8|B6|]`).broken).toMatch(/no music before it/);
    expect(follow(`${a}|:GA|B8|B8|1 B8|B6:|!\n[2 B8|B6|]`).done).toBe(true);
    expect(follow('B8|B8|B8|B8:|B8|').broken).toMatch(/must open with \|:/);
    expect(follow('GA|B8|B8|B8|B6:|!\n|:GA|B8|B8|B8|B6:|B8|').broken).toMatch(/after the last part/);
  });
});
