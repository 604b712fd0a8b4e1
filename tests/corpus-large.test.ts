/** Corpora of any size: nothing corpus-sized goes through a spread, and a long file reads bar by bar. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pitchSpan } from '../src/music/corpus.ts';
import { readCorpora } from '../src/train/jazz.ts';
import { smfBytes, songParts, tempDir } from './helpers.ts';

describe('large corpora', () => {
  it('the melody range of 300 K notes: a spread would overflow the stack, the loop does not', () => {
    const pitches = Array.from({ length: 300_000 }, (_, i) => 40 + ((i * 7) % 50));
    expect(() => Math.min(...pitches)).toThrow(RangeError); // what train jazz did with a 200 K-note file
    expect(pitchSpan(pitches)).toEqual([40, 89]);
    expect(pitchSpan([])).toEqual([NaN, NaN]);
  });

  it('a 3,000-bar file gives one corpus bar per bar, each with the chords that sound in it', () => {
    const parts = songParts(3000);
    const file = join(tempDir('large'), 'long.mid');
    writeFileSync(file, smfBytes([parts.melody, parts.chords, parts.bass]));
    const [corpus] = readCorpora([file], { profile: 'full' });
    expect(corpus!.bars).toHaveLength(3000);
    // the progression loops every four bars: bar k has the chord of bar k mod 4, at the bar line
    const roots = corpus!.bars.map((b) => b.chords.map((c) => Math.min(...c.pitches)));
    expect(roots.slice(0, 8)).toEqual([[50], [55], [48], [48], [50], [55], [48], [48]]);
    expect(roots.slice(-4)).toEqual([[50], [55], [48], [48]]);
    expect(corpus!.bars.every((b) => b.chords[0]!.onset === 0)).toBe(true);
  });
});
