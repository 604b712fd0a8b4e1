/**
 * Notes shorter than an eighth, at the corpus's rate for the meter. The bar-true mask keeps bars true
 * with the corpus's lengths (lengths.ts), but how often a tune takes a short one is the model's: over
 * 200 tunes of the shipped model, 2/2 tunes wrote 17.9 % of their notes shorter than an eighth against
 * the corpus's 7.8 %, 9/8 tunes 6.6 % against 2.6 %, 6/8 tunes 2.4 % against 4.4 %.
 *
 * The table is learnt from the training tunes (manifest `abcShortShare`): per meter as written in M:
 * and unit length, the share of notes that are shorter than an eighth and no tuplet notes. While a tune
 * is written, ShortNoteBias keeps its running share (begun at the corpus's, worth PRIOR_NOTES notes)
 * and makes the characters that write a short note likelier when the tune is below the corpus's share,
 * unlikelier when above: a bias, never a rewrite, like the tonic's. A meter the corpus has too few
 * notes in takes the share of one that means the same bar (2/2 that of C|). Counted the same way as the judge
 * counts (eval/tuneForm.ts: duration under half a quarter, no tuplet length).
 */
import { defaultUnit, parseMeter, parseUnitLength } from './key.ts';
import { readAbc, type AbcEvent } from './reader.ts';

/** `${M: as written}|${unit in quarters}` → the share of notes shorter than an eighth. */
export type ShortShareTable = Readonly<Record<string, number>>;

/** A meter with fewer notes than this in the corpus gets no entry (its share is noise). */
export const MIN_SHARE_NOTES = 200;
/** The running share starts at the corpus's, as if this many notes had been written at it. */
export const PRIOR_NOTES = 24;
/**
 * The bias is at full strength once the tune is a third of the corpus's share away from it (a gain
 * of 3 on the relative gap). Measured (`improv eval --generate 200`, seeds 71 and 72): at 1 (full
 * strength only at no short note at all), 2/4 wrote 21.5 % against 23.4 and 3/4 9.5–13 % against 11.2;
 * at 3 every meter with a dozen tunes or more came within one point; at 6, 6/8 and 9/8 went over
 * by 1–1.3 (a short note comes in pairs, so a strong pull overshoots).
 */
export const SHORT_GAIN = 3;

export const shortKey = (meter: string, unit: number): string => `${meter}|${unit}`;

/** An M: value as the judge keys it (its first word). */
export const meterText = (value: string): string => value.trim().split(/\s+/)[0] ?? '';

/** A note's length is a tuplet's when it is no sum of binary fractions of a quarter. */
export const isTupletLength = (quarters: number): boolean =>
  Math.abs(quarters * 64 - Math.round(quarters * 64)) > 1e-6;

/** Shorter than an eighth, and not a tuplet note. */
export const isShortNote = (quarters: number): boolean => quarters < 0.5 - 1e-6 && !isTupletLength(quarters);

/** The table of `tunes` (their first M: and L:; ABC's default unit where L: is missing). */
export function shortShareTable(tunes: readonly string[]): Record<string, number> {
  const counts = new Map<string, { short: number; notes: number }>();
  for (const tune of tunes) {
    let meter: string | null = null;
    let unit: number | null = null;
    let key: string | null = null;
    for (const e of readAbc(tune).events) {
      if (e.type === 'header' && e.field === 'M' && meter === null) meter = meterText(e.value);
      if (e.type === 'header' && e.field === 'L' && unit === null) unit = parseUnitLength(e.value);
      if (e.type === 'header' && e.field === 'K' && meter !== null) {
        const m = parseMeter(meter);
        if (m && m.quarters > 0) key = shortKey(meter, unit ?? defaultUnit(m));
      }
      if (e.type !== 'note' || key === null) continue;
      const c = counts.get(key) ?? { short: 0, notes: 0 };
      counts.set(key, c);
      c.notes++;
      if (isShortNote(e.dur)) c.short++;
    }
  }
  const out: Record<string, number> = {};
  for (const [key, c] of counts) if (c.notes >= MIN_SHARE_NOTES) out[key] = c.short / c.notes;
  return out;
}

/** The running share of one tune and the bias that steers it toward the corpus's. */
export class ShortNoteBias {
  private meter: string | null = null;
  private notes = 0;
  private short = 0;
  /** The share of a meter the table lacks, from one it has that means the same bar (2/2 and C|). */
  private readonly alike = new Map<string, number>();

  constructor(
    private readonly table: ShortShareTable,
    private readonly strength: number,
  ) {
    for (const [key, share] of Object.entries(table)) {
      // the unit follows the last '|' (a meter may hold one: C|)
      const cut = key.lastIndexOf('|');
      const unit = key.slice(cut + 1);
      const m = parseMeter(key.slice(0, cut));
      const k = m ? `${m.numerator}/${m.quarters}|${unit}` : null;
      if (k !== null && !this.alike.has(k)) this.alike.set(k, share);
    }
  }

  /** The corpus's share for a meter as written and a unit, or one that means the same bar. */
  private target(meter: string, unit: number): number | undefined {
    const own = this.table[shortKey(meter, unit)];
    if (own !== undefined) return own;
    const m = parseMeter(meter);
    return m ? this.alike.get(`${m.numerator}/${m.quarters}|${unit}`) : undefined;
  }

  clone(): ShortNoteBias {
    const copy = new ShortNoteBias(this.table, this.strength);
    copy.meter = this.meter;
    copy.notes = this.notes;
    copy.short = this.short;
    return copy;
  }

  /** The reader's events: a tune starts afresh, M: names its meter, notes count. */
  event(e: AbcEvent): void {
    if (e.type === 'tune') {
      this.meter = null;
      this.notes = 0;
      this.short = 0;
    } else if (e.type === 'header' && e.field === 'M') this.meter = meterText(e.value);
    else if (e.type === 'note') {
      this.notes++;
      if (isShortNote(e.dur)) this.short++;
    }
  }

  /**
   * What to add to the logit of a character that writes a short note, in a bar whose unit is `unit`:
   * from +strength (the tune has written none, the corpus writes them) to −strength (twice the
   * corpus's share or more); 0 where the corpus's share for the meter is unknown.
   */
  amount(unit: number): number {
    if (!this.strength || this.meter === null) return 0;
    const target = this.target(this.meter, unit);
    if (target === undefined) return 0;
    const running = (this.short + target * PRIOR_NOTES) / (this.notes + PRIOR_NOTES);
    const gap = (SHORT_GAIN * (target - running)) / Math.max(target, 0.01);
    return this.strength * Math.max(-1, Math.min(1, gap));
  }
}
