/**
 * Rhythm by meter: how many notes a bar, and where in the beat they start, for lines in each meter,
 * so that a waltz is judged against waltzes and a hornpipe's triplets against hornpipes. The same
 * code counts the generated lines and the held-out melodies, so the two figures sit side by side.
 */
import { mod } from '../music/conditioning.ts';
import { TWELFTHS_PER_QUARTER, type Twelfths } from '../music/time.ts';

/** Where a note starts within its quarter note (the grammar's lengths are in twelfths of one). */
export const ONSET_PLACES = ['quarter', 'eighth', 'triplet', 'sixteenth', 'other'] as const;
export type OnsetPlace = (typeof ONSET_PLACES)[number];

export function onsetPlace(t: Twelfths): OnsetPlace {
  const q = mod(t, TWELFTHS_PER_QUARTER);
  if (q === 0) return 'quarter';
  if (q === TWELFTHS_PER_QUARTER / 2) return 'eighth';
  if (q === TWELFTHS_PER_QUARTER / 3 || q === (2 * TWELFTHS_PER_QUARTER) / 3) return 'triplet';
  if (q === TWELFTHS_PER_QUARTER / 4 || q === (3 * TWELFTHS_PER_QUARTER) / 4) return 'sixteenth';
  return 'other';
}

export interface MeterRhythm {
  readonly meter: string;
  /** Lines (tunes) counted, and their full bars. */
  readonly lines: number;
  readonly bars: number;
  readonly notesPerBar: number;
  /** Shares of note onsets at each place in the quarter note. */
  readonly onsets: Readonly<Record<OnsetPlace, number>>;
}

/** Counts lines meter by meter. */
export class RhythmByMeter {
  private readonly byMeter = new Map<string, { lines: number; bars: number; places: number[] }>();

  /** One line in `meter`: its full bars, and the onsets of its notes (rests left out). */
  add(meter: string, bars: number, onsets: readonly Twelfths[]): void {
    let m = this.byMeter.get(meter);
    if (!m) this.byMeter.set(meter, (m = { lines: 0, bars: 0, places: ONSET_PLACES.map(() => 0) }));
    m.lines++;
    m.bars += bars;
    for (const t of onsets) (m.places[ONSET_PLACES.indexOf(onsetPlace(t))] as number)++;
  }

  /** Meter by meter, the most bars first. */
  summary(): MeterRhythm[] {
    return [...this.byMeter.entries()]
      .map(([meter, m]) => {
        const notes = m.places.reduce((a, b) => a + b, 0);
        return {
          meter,
          lines: m.lines,
          bars: m.bars,
          notesPerBar: m.bars ? notes / m.bars : 0,
          onsets: Object.fromEntries(
            ONSET_PLACES.map((p, i) => [p, notes ? (m.places[i] as number) / notes : 0]),
          ) as Record<OnsetPlace, number>,
        };
      })
      .sort((a, b) => b.bars - a.bars);
  }
}
