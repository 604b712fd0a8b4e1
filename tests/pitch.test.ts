import { describe, expect, it } from 'vitest';
import {
  intervalBetween,
  intervalName,
  intervalSemitones,
  nameWithOctave,
  spell,
} from '../src/music/pitch.ts';

describe('spelling (music21 default table)', () => {
  it.each([
    [60, 'C4'],
    [61, 'C#4'],
    [63, 'E-4'],
    [68, 'G#4'],
    [70, 'B-4'],
    [47, 'B2'],
    [21, 'A0'],
  ])('spells %i as %s', (midi, name) => {
    expect(nameWithOctave(spell(midi))).toBe(name);
  });
});

describe('interval naming (music21 directedName)', () => {
  const name = (a: number, b: number): string => {
    const { steps, semis } = intervalBetween(spell(a), spell(b));
    return intervalName(steps, semis);
  };
  it.each([
    [63, 60, 'm-3'],
    [68, 67, 'd1'], // G# → G: tonal says -1A, music21 d1
    [67, 68, 'A1'],
    [60, 61, 'A1'], // C → C#
    [60, 63, 'm3'], // C → E-
    [60, 72, 'P8'],
    [72, 60, 'P-8'],
    [60, 77, 'P11'],
    [70, 64, 'd-5'], // B- → E
    [64, 70, 'd5'],
  ])('%i → %i is %s', (a, b, expected) => {
    expect(name(a, b)).toBe(expected);
  });

  it('names bracket bounds like the spec examples', () => {
    // E-5 → C5: steps −2, semis −3; UP = +m3 → P1, LO = −m3 → d-5
    expect(intervalName(-2 + 2, -3 + 3)).toBe('P1');
    expect(intervalName(-2 - 2, -3 - 3)).toBe('d-5');
    expect(intervalName(4, 5)).toBe('dd5');
  });

  it.each([
    ['m-2', -1],
    ['dd5', 5],
    ['d1', -1],
    ['A-4', -6],
    ['P11', 17],
    ['d-8', -11],
  ])('reads %s back as %i semitones (tonal)', (n, semis) => {
    expect(intervalSemitones(n)).toBe(semis);
  });

  it('round-trips every interval between MIDI 48 and 89 through its name', () => {
    for (let a = 48; a < 90; a++) {
      for (let b = 48; b < 90; b++) {
        const { steps, semis } = intervalBetween(spell(a), spell(b));
        expect(intervalSemitones(intervalName(steps, semis))).toBe(b - a);
      }
    }
  });
});
