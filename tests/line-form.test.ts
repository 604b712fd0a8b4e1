import { describe, expect, it } from 'vitest';
import { LineForm } from '../src/eval/lineForm.ts';

const G = { tonic: 7, mode: 'ionian' } as const;
/** A bar of quarter notes (12 twelfths each) from `pitches`, at bar `i` of 48 twelfths. */
const bar = (i: number, pitches: number[]) =>
  pitches.map((midi, k) => ({ start: i * 48 + k * 12, dur: 12, midi }));

describe('the form of a grammar line', () => {
  it('counts bars whose notes another bar of the line repeats, lines with one, and endings on the tonic', () => {
    const form = new LineForm();
    // bars 0 and 2 the same, bar 1 the same pitches an octave up (not the same bar), ends on G
    form.add(
      [
        ...bar(0, [67, 69, 71, 72]),
        ...bar(1, [79, 81, 83, 84]),
        ...bar(2, [67, 69, 71, 72]),
        ...bar(3, [67]),
      ],
      48,
      G,
    );
    // no bar repeated; ends on A; an empty bar 1 is not counted
    form.add([...bar(0, [67, 69]), ...bar(2, [71]), ...bar(3, [69])], 48, G);
    expect(form.summary()).toEqual({
      lines: 2,
      bars: 7,
      recurringBars: 2 / 7,
      linesWithRecurring: 0.5,
      tonicEndings: 0.5,
    });
  });

  it('tells a bar by where its notes fall, not only by their pitches', () => {
    const form = new LineForm();
    const shifted = bar(1, [67, 69]).map((n) => ({ ...n, start: n.start + 6 }));
    form.add([...bar(0, [67, 69]), ...shifted], 48, G);
    expect(form.summary().recurringBars).toBe(0);
  });
});
