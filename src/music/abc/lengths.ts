/**
 * Bars filled the corpus's way: the note lengths a training corpus writes in each meter, so that the
 * bar-true mask (guide.ts) lets a length through only if the corpus uses it in that meter and the rest
 * of the bar can still be completed with such lengths. Without it the mask closes a nearly full bar
 * with whatever fits, and in a jig that is a run of sixteenths no fiddler in the corpus writes.
 *
 * The table is learnt from the training tunes (written into the bundle's manifest, `abcLengths`):
 * per meter and unit length, the length texts (as the guide's LENGTHS spell them) that make up at
 * least MIN_SHARE of the notes. A meter with fewer than MIN_NOTES notes gets no entry (every length
 * stays allowed). Which sums of the lengths reach which rooms is worked out once per meter, on a grid
 * of an eighth of the unit, so the mask's check is a lookup.
 */
import { defaultUnit, parseMeter, parseUnitLength } from './key.ts';
import { LENGTHS, multiplierOf } from './notation.ts';

/** Meter key (numerator, quarters per bar, unit in quarters) → the lengths the corpus writes. */
export type LengthTable = Readonly<Record<string, readonly string[]>>;

export const MIN_SHARE = 0.005;
export const MIN_NOTES = 500;

export const meterKey = (numerator: number, quarters: number, unit: number): string =>
  `${numerator}:${quarters}:${unit}`;

/** A note's length as written, spelled as LENGTHS spells it ('1' → '', '/2' → '/'); null if unusual. */
function spelled(text: string): string | null {
  if (text === '' || text === '1') return '';
  if (text === '/2' || text === '/') return '/';
  if (text === '3/2') return '3/2';
  return LENGTHS.includes(text) ? text : null;
}

const NOTE = /(?:\^\^|\^|__|_|=)?[A-Ga-gz][',]*(\d*\/*\d*)/g;

/** The table of `tunes` (their header's M: and L:; ABC's default unit where L: is missing). */
export function lengthTable(tunes: readonly string[]): Record<string, string[]> {
  const counts = new Map<string, Map<string, number>>();
  for (const tune of tunes) {
    const lines = tune.split('\n');
    const k = lines.findIndex((l) => l.startsWith('K:'));
    if (k < 0) continue;
    const header = lines.slice(0, k);
    const meter = parseMeter(header.find((l) => l.startsWith('M:'))?.slice(2) ?? '4/4');
    if (!meter || meter.quarters <= 0) continue;
    const given = header.find((l) => l.startsWith('L:'));
    const unit = given ? parseUnitLength(given.slice(2)) : defaultUnit(meter);
    if (unit === null) continue;
    const key = meterKey(meter.numerator, meter.quarters, unit);
    const table = counts.get(key) ?? new Map<string, number>();
    counts.set(key, table);
    for (const line of lines.slice(k + 1)) {
      if (/^[A-Za-z]:/.test(line)) continue;
      for (const m of line.replace(/"[^"]*"/g, '').matchAll(NOTE)) {
        const s = spelled(m[1] ?? '');
        if (s !== null) table.set(s, (table.get(s) ?? 0) + 1);
      }
    }
  }
  const out: Record<string, string[]> = {};
  for (const [key, table] of counts) {
    const total = [...table.values()].reduce((a, b) => a + b, 0);
    if (total < MIN_NOTES) continue;
    out[key] = LENGTHS.filter((l) => l === '' || (table.get(l) ?? 0) / total >= MIN_SHARE);
  }
  return out;
}

/** Grid steps per unit: the finest length the guide writes is half a unit ('/'), and 3/2 is three of those. */
const STEPS_PER_UNIT = 8;

/** One meter's lengths and which rooms they can fill. */
export class MeterLengths {
  /** reach[k]: a room of k grid steps is a sum of the lengths (reach[0] is true). */
  private readonly reach: Uint8Array;

  constructor(
    readonly lengths: readonly string[],
    private readonly unit: number,
    barQuarters: number,
  ) {
    const steps = Math.round((barQuarters / unit) * STEPS_PER_UNIT);
    this.reach = new Uint8Array(steps + 1);
    this.reach[0] = 1;
    const sizes = lengths.map((l) => Math.round(multiplierOf(l) * STEPS_PER_UNIT)).filter((n) => n > 0);
    for (let k = 1; k <= steps; k++)
      this.reach[k] = sizes.some((n) => n <= k && this.reach[k - n] === 1) ? 1 : 0;
  }

  /**
   * Whether `room` quarters can be filled with the lengths. A room off the grid (inside a tuplet) or
   * past the bar is not judged here: true.
   */
  completes(room: number): boolean {
    const k = (room / this.unit) * STEPS_PER_UNIT;
    const r = Math.round(k);
    if (Math.abs(k - r) > 1e-6 || r < 0 || r >= this.reach.length) return true;
    return this.reach[r] === 1;
  }
}

/** The table's entries as MeterLengths, built once per meter on first use. */
export class LengthRules {
  private readonly built = new Map<string, MeterLengths | null>();

  constructor(private readonly table: LengthTable) {}

  /** The last meter asked for (a tune keeps one meter for hundreds of steps): no key built per call. */
  private last: { numerator: number; quarters: number; unit: number; m: MeterLengths | null } | null = null;

  for(numerator: number, quarters: number, unit: number): MeterLengths | null {
    const l = this.last;
    if (l && l.numerator === numerator && l.quarters === quarters && l.unit === unit) return l.m;
    const m = this.build(numerator, quarters, unit);
    this.last = { numerator, quarters, unit, m };
    return m;
  }

  private build(numerator: number, quarters: number, unit: number): MeterLengths | null {
    const key = meterKey(numerator, quarters, unit);
    let m = this.built.get(key);
    if (m === undefined) {
      const lengths = this.table[key];
      m = lengths && quarters > 0 ? new MeterLengths(lengths, unit, quarters) : null;
      this.built.set(key, m);
    }
    return m;
  }
}
