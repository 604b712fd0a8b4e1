import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LineForm } from '../src/eval/lineForm.ts';
import { analyzeChord } from '../src/music/chord.ts';
import { parseProgression, voiceChord } from '../src/music/chordSymbols.ts';
import { decodeToken } from '../src/music/decode.ts';
import { createRng } from '../src/music/rng.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { generateSolo } from '../src/model/solo.ts';

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

describe('form memory and the cadence of a grammar line', () => {
  it('goes home on the last note where the token holds the tonic, and nowhere else', () => {
    const g = analyzeChord(voiceChord('G'));
    const range = { low: 55, high: 84 };
    const token = { type: 'C' as const, dur: 12, bracket: { up: 'P5', lo: 'P-5' } };
    let home = 0;
    let free = 0;
    for (let s = 0; s < 50; s++) {
      const ctx = { prev: 69, chord: g, range, rng: createRng(s), key: G };
      if (decodeToken(token, { ...ctx, home: 7 })!.midi % 12 === 7) home++;
      if (decodeToken(token, ctx)!.midi % 12 === 7) free++;
    }
    expect(home).toBe(50);
    expect(free).toBeLessThan(40); // B and D lie in the bracket too
    // a bracket that holds no G: the token's own pitch, not a leap home
    const up = { type: 'C' as const, dur: 12, bracket: { up: 'M3', lo: 'm2' } };
    const high = decodeToken(up, { prev: 69, chord: g, range, rng: createRng(1), key: G, home: 7 })!;
    expect(high.midi).toBe(71);
  });

  const shipped = existsSync('models/folk/manifest.json');

  it.skipIf(!shipped)(
    'restates more of the line with form memory and ends on the tonic more with the cadence (shipped folk model)',
    async () => {
      const session = await LstmSession.load('models/folk');
      const barLength = 48;
      // a folk tune's harmony: chords held for a bar or two, the second phrase over the first's
      const progression = parseProgression('G G C G G G D G', barLength);
      const lines = async (formBias: number, cadenceBias: number) => {
        const form = new LineForm();
        for (let s = 0; s < 12; s++) {
          const solo = await generateSolo(session, {
            bars: 16,
            progression,
            barLength,
            sampler: { temperature: 1, topK: 0, topP: 1 },
            range: { low: 60, high: 84 },
            rng: createRng(`form ${s}`),
            key: G,
            formBias,
            cadenceBias,
          });
          form.add(solo.notes, barLength, G);
        }
        return form.summary();
      };
      const plain = await lines(0, 0);
      const remembered = await lines(4, 0);
      const cadenced = await lines(0, 4);
      expect(remembered.recurringBars).toBeGreaterThan(plain.recurringBars + 0.1);
      expect(cadenced.tonicEndings).toBeGreaterThan(plain.tonicEndings + 0.2);
      await session.dispose();
    },
    60_000,
  );
});
