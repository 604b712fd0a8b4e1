import { describe, expect, it } from 'vitest';
import { AbcStreamReader, readAbc, type AbcEvent } from '../src/music/abc/reader.ts';
import { expandRepeats } from '../src/music/abc/repeats.ts';
import { parseKey } from '../src/music/abc/key.ts';

const tune = (body: string, header = 'M:4/4\nL:1/8\nK:C'): string => `X:1\nT:t\n${header}\n${body}\n`;
const notes = (events: readonly AbcEvent[]): [number, number, number][] =>
  events.flatMap((e) => (e.type === 'note' ? [[e.pitch, e.start, e.dur] as [number, number, number]] : []));
const read = (body: string, header?: string): [number, number, number][] =>
  notes(expandRepeats(readAbc(tune(body, header)).events));

describe('ABC reader: notes, lengths, rhythm', () => {
  it.each([
    [
      'C D E F',
      [
        [60, 0, 0.5],
        [62, 0.5, 0.5],
        [64, 1, 0.5],
        [65, 1.5, 0.5],
      ],
    ],
    [
      "c C, c' B,,",
      [
        [72, 0, 0.5],
        [48, 0.5, 0.5],
        [84, 1, 0.5],
        [47, 1.5, 0.5],
      ],
    ],
    [
      'C2 D/ E// F3/2 G/4',
      [
        [60, 0, 1],
        [62, 1, 0.25],
        [64, 1.25, 0.125],
        [65, 1.375, 0.75],
        [67, 2.125, 0.125],
      ],
    ],
    [
      'C>D E<F',
      [
        [60, 0, 0.75],
        [62, 0.75, 0.25],
        [64, 1, 0.25],
        [65, 1.25, 0.75],
      ],
    ],
    [
      'C>>D',
      [
        [60, 0, 0.875],
        [62, 0.875, 0.125],
      ],
    ],
    [
      '(3CDE F',
      [
        [60, 0, 1 / 3],
        [62, 1 / 3, 1 / 3],
        [64, 2 / 3, 1 / 3],
        [65, 1, 0.5],
      ],
    ],
    [
      'z C z2 D',
      [
        [60, 0.5, 0.5],
        [62, 2, 0.5],
      ],
    ],
    [
      '[CEG]2 A',
      [
        [60, 0, 1],
        [64, 0, 1],
        [67, 0, 1],
        [69, 1, 0.5],
      ],
    ],
    [
      'C2-C D',
      [
        [60, 0, 1.5],
        [62, 1.5, 0.5],
      ],
    ],
    [
      'C4-|C2 D',
      [
        [60, 0, 3],
        [62, 3, 0.5],
      ],
    ],
    [
      '"Am"A !trill!B ~c {g}d .e',
      [
        [69, 0, 0.5],
        [71, 0.5, 0.5],
        [72, 1, 0.5],
        [74, 1.5, 0.5],
        [76, 2, 0.5],
      ],
    ],
  ])('%s', (body, expected) => {
    const got = read(body);
    expect(got.map(([p, s, d]) => [p, +s.toFixed(6), +d.toFixed(6)])).toEqual(
      expected.map(([p, s, d]) => [p, +(s as number).toFixed(6), +(d as number).toFixed(6)]),
    );
  });

  it('applies the key signature, and accidentals until the bar line in every octave (as abc2midi)', () => {
    expect(read('F c f | ^F f =F f | F', 'L:1/4\nK:D').map(([p]) => p)).toEqual([
      66, 73, 78, 66, 78, 65, 77, 66,
    ]);
    expect(read('B E', 'L:1/4\nK:A Dorian').map(([p]) => p)).toEqual([71, 64]);
    expect(read('B E', 'L:1/4\nK:Bb').map(([p]) => p)).toEqual([70, 63]);
  });

  it('derives the unit length from the meter when L: is absent', () => {
    expect(read('C D', 'M:2/4\nK:C')[1]).toEqual([62, 0.25, 0.25]);
    expect(read('C D', 'M:6/8\nK:C')[1]).toEqual([62, 0.5, 0.5]);
  });

  it.each([
    ['D Major', 'F1 C1'],
    ['A Dorian', 'F1'],
    ['E Minor', 'F1'],
    ['D Mixolydian', 'F1'],
    ['Bb', 'B-1 E-1'],
    ['F#m', 'F1 C1 G1'],
    ['C', ''],
  ])('key %s has %s', (key, sig) => {
    expect([...(parseKey(key) ?? new Map()).entries()].map(([l, a]) => `${l}${a}`).join(' ')).toBe(sig);
  });
});

describe('repeats (policy: as abc2midi plays them)', () => {
  const letters = (body: string): string =>
    read(body, 'M:2/4\nL:1/4\nK:C')
      .map(([p]) => ({ 60: 'C', 62: 'D', 64: 'E', 65: 'F', 67: 'G', 69: 'A', 71: 'B', 72: 'c' })[p] ?? '?')
      .join('');
  it.each([
    ['|:C D:|E F', 'CDCDEF'],
    ['C D:|E F:|', 'CDCDEFEF'],
    ['C D|]E F:|', 'CDEFCDEF'],
    ['C D:|E F|]G A:|', 'CDCDEFGAGA'],
    ['C D|[1 E F:|[2 G A|]', 'CDEFCDGA'],
    ['C D|1 E F:|2 G A|]', 'CDEFCDGA'],
    ['|:C D::E F:|', 'CDCDEFEF'],
  ])('%s plays %s', (body, expected) => {
    expect(letters(body)).toBe(expected);
  });

  it('places the replayed notes after the section in time', () => {
    expect(read('|:C D:|E', 'M:2/4\nL:1/4\nK:C').map(([, s]) => s)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('streaming', () => {
  const text = `${tune('|:(3ABc d2 [CEG]>A|B4-B2 z2:|', 'M:4/4\nL:1/8\nK:G')}\n${tune('A>B c2|d4', 'M:2/4\nL:1/8\nK:D')}`;

  it('gives the same events fed one character at a time as read whole', () => {
    const reader = new AbcStreamReader();
    const streamed: AbcEvent[] = [];
    for (const ch of text) streamed.push(...reader.push(ch));
    streamed.push(...reader.end());
    expect(streamed).toEqual(readAbc(text).events);
  });

  it('a clone taken anywhere, even inside a tuplet, a tie or a bar with accidentals, reads on as the original does, and neither disturbs the other', () => {
    const whole = readAbc(text).events;
    for (const cut of [5, 30, 36, 44, 50, 58, text.length - 4]) {
      const reader = new AbcStreamReader();
      const before = reader.push(text.slice(0, cut));
      const clone = reader.clone();
      const rest = text.slice(cut);
      const fromClone = [...clone.push(rest), ...clone.end()];
      expect([...before, ...fromClone]).toEqual(whole);
      const fromOriginal = [...reader.push(rest), ...reader.end()];
      expect(fromOriginal).toEqual(fromClone);
    }
  });

  it('emits a note as soon as it is complete, not at the end of the line', () => {
    const reader = new AbcStreamReader();
    reader.push('X:1\nM:4/4\nL:1/8\nK:C\nC D E');
    const early = reader.push('F ');
    expect(notes(early).length + notes(reader.push('')).length).toBeGreaterThan(0);
    const soFar = notes([...early]);
    expect(soFar.every(([p]) => [60, 62, 64].includes(p))).toBe(true);
  });

  it('starts a new tune at X: and resets key and time', () => {
    const { events } = readAbc(text);
    const tunes = events.filter((e) => e.type === 'tune');
    expect(tunes).toHaveLength(2);
    const second = events.slice(events.indexOf(tunes[1] as AbcEvent));
    expect(notes(second)[0]).toEqual([69, 0, 0.75]);
    expect(notes(second)[3]).toEqual([74, 2, 2]); // d4 in 2/4
  });
});

describe('malformed input never stops the stream', () => {
  it('skips garbage characters mid-tune, counts them and resynchronises at the next bar line', () => {
    const { events, stats } = readAbc(tune('C D E F|G A § B c|d e f g|c4 ¤ d|e8|'));
    expect(stats.skippedTokens).toBe(2);
    const skips = events.filter((e) => e.type === 'skip');
    expect(skips.map((e) => (e.type === 'skip' ? e.text : ''))).toEqual(['§', '¤']);
    const n = notes(events);
    // the broken bars keep their length, silent after the bad token; later bars stay in place
    expect(n.map(([p]) => p)).toEqual([60, 62, 64, 65, 67, 69, 74, 76, 77, 79, 72, 76]);
    expect(n[n.length - 1]).toEqual([76, 12, 4]);
  });

  it('skips an unterminated chord and goes on at the next bar line', () => {
    const { events, stats } = readAbc(tune('C D [CEG E F|G A B c|'));
    expect(stats.skippedTokens).toBe(1);
    expect(events.find((e) => e.type === 'skip')).toMatchObject({
      reason: 'unterminated chord',
      text: '[CEG E F',
    });
    expect(notes(events).map(([p]) => p)).toEqual([60, 62, 67, 69, 71, 72]);
  });

  it('skips an unknown header field and counts it', () => {
    const { events, stats } = readAbc('X:1\nT:t\nY:what is this\nM:4/4\nL:1/8\nK:C\nC D|\n');
    expect(stats.skippedTokens).toBe(1);
    expect(events.find((e) => e.type === 'skip')).toMatchObject({ reason: "unknown header field 'Y:'" });
    expect(notes(events)).toHaveLength(2);
  });

  it('resynchronises at the next tune header when a tune is cut off', () => {
    const { events, stats } = readAbc('X:1\nK:C\nC D [CE\nX:2\nT:b\nM:4/4\nL:1/8\nK:G\nG A|\n');
    expect(stats.skippedTokens).toBe(1);
    expect(stats.tunes).toBe(2);
    expect(notes(events).map(([p]) => p)).toEqual([60, 62, 67, 69]);
  });
});
