/**
 * The shape a generated tune must take — parts of N bars, each repeated or not — and a tracker that
 * follows the reader's bar events and says when text breaks that shape. The tracker is what the
 * sampler's mask asks "may this bar line, this note, this blank line come now?".
 *
 * A repeated part closes with `:|`, or with first and second endings of one bar up to half the
 * part each (`|1 … :|2 … ||`), as the corpus writes them; a part played once closes with `||` or `|]`. A part
 * may open with a pickup, which does not count as a bar; a repeated part after the first opens with
 * `|:`. The tune is complete when its last part
 * closes; nothing but its end may follow.
 */
import type { AbcEvent } from './reader.ts';
import { UserError } from '../errors.ts';

export interface FormPart {
  /** The part's letter in the form string. */
  readonly name: string;
  /** Played twice (`AA`): written once between repeat signs or with endings. */
  readonly repeat: boolean;
}

export interface FormSpec {
  readonly parts: readonly FormPart[];
  /** Bars in each part as written (a pickup not counted; a part with endings counts one ending). */
  readonly barsPerPart: number;
}

export class FormError extends UserError {
  override readonly name = 'FormError';
}

export const DEFAULT_FORM = 'AABB';
export const DEFAULT_BARS_PER_PART = 8;

/**
 * Parses `--form` (letters; a letter written twice in a row is a repeated part) and `--bars` (the
 * tune's length as written, shared evenly by its parts; default 8 a part).
 */
export function parseForm(form: string = DEFAULT_FORM, bars?: number): FormSpec {
  if (!/^[A-Z]+$/.test(form))
    throw new FormError(
      `--form must be capital letters, one a part, a letter twice for a repeat (e.g. AABB); got '${form}'`,
    );
  const parts: FormPart[] = [];
  for (const run of form.match(/([A-Z])\1*/g) ?? []) {
    if (run.length > 2)
      throw new FormError(
        `--form: part ${run[0]} is written ${run.length} times in a row; a part repeats at most once (${run[0]}${run[0]})`,
      );
    parts.push({ name: run[0] as string, repeat: run.length === 2 });
  }
  if (bars === undefined) return { parts, barsPerPart: DEFAULT_BARS_PER_PART };
  if (!Number.isInteger(bars) || bars < parts.length * 2 || bars % parts.length !== 0)
    throw new FormError(
      `--bars ${bars} does not share out into the ${parts.length} part(s) of '${form}': give a multiple of ${parts.length}, at least ${parts.length * 2}`,
    );
  return { parts, barsPerPart: bars / parts.length };
}

/** Written bars of a form (repeats not played out). */
export function formBars(spec: FormSpec): number {
  return spec.parts.length * spec.barsPerPart;
}

type BarEvent = Extract<AbcEvent, { type: 'bar' }>;

/** Follows one tune's events against a form; `broken` says the text can no longer take that form. */
export class FormTracker {
  private part = 0;
  /** Bars closed in the part before any ending, plus ending 1's. */
  private bars = 0;
  private ending: 0 | 1 | 2 = 0;
  private barsBeforeEnding = 0;
  private ending1Bars = 0;
  private ending2Bars = 0;
  private awaitingSecondEnding = false;
  /** A repeat has been opened (`|:`, `::`) for the part being written. */
  private opened = false;
  /**
   * The tune's pickup, set by its first bar (0: none). Bars run on across part ends as a player counts
   * them: every part closes short by it, and every later part opens with it.
   */
  private tunePickup: number | null = null;
  private hadPickup = false;
  private inBody = false;
  /** The reason the text left the form, or null. */
  broken: string | null = null;
  /** The last part has closed: only the tune's end may follow. */
  done = false;

  constructor(readonly spec: FormSpec) {}

  clone(): FormTracker {
    return Object.assign(new FormTracker(this.spec), this);
  }

  /** Becomes `src` at its point (the tracker's state is all plain values). */
  copyFrom(src: FormTracker): this {
    return Object.assign(this, src);
  }

  /** Whether a note may sound now (not after the last part, nor between a first and second ending). */
  get takesMusic(): boolean {
    return !this.done && !this.awaitingSecondEnding && this.broken === null;
  }

  /** The part must still write its `|:`, before anything else (a pickup inside the repeat too). */
  get needsOpening(): boolean {
    const part = this.spec.parts[this.part];
    return (
      this.part > 0 &&
      !this.done &&
      part !== undefined &&
      part.repeat &&
      !this.opened &&
      this.bars === 0 &&
      this.ending === 0
    );
  }

  /** The most the open bar may hold, in quarters, under a meter of `meter`. */
  barLimit(meter: number): number {
    const pickup = this.tunePickup ?? 0;
    if (this.needsOpening) return 0;
    if (this.wantsPickup) return pickup;
    if (this.inLastBar && pickup > 0) return meter - pickup;
    return meter;
  }

  /** A later part opens with the tune's pickup. */
  private get wantsPickup(): boolean {
    return (
      this.part > 0 &&
      (this.tunePickup ?? 0) > 0 &&
      this.bars === 0 &&
      this.ending === 0 &&
      !this.hadPickup &&
      !this.done
    );
  }

  /** Index of the part being written. */
  get partIndex(): number {
    return this.part;
  }

  /** True while the bar being written is the last one of its part (or of its ending). */
  get inLastBar(): boolean {
    const n = this.spec.barsPerPart;
    if (this.done || this.awaitingSecondEnding) return false;
    if (this.ending === 2) return this.ending2Bars === this.ending1Bars - 1;
    return this.bars === n - 1;
  }

  push(e: AbcEvent): void {
    if (this.broken) return;
    switch (e.type) {
      case 'header':
        if (e.field === 'K') this.inBody = true;
        else if (this.inBody) this.fail(`a ${e.field}: field inside the tune body`);
        return;
      case 'note':
      case 'rest':
        if (this.done) this.fail('a note after the last part');
        else if (this.awaitingSecondEnding) this.fail('music after a first ending with no second ending');
        return;
      case 'bar':
        return this.bar(e);
      case 'tune-end':
        if (!this.done) this.fail(`the tune ended in part ${this.part + 1} of ${this.spec.parts.length}`);
        return;
      case 'tune':
        if (this.inBody && !this.done) this.fail('a new tune before this one was complete');
        return;
      case 'skip':
        return;
    }
  }

  private fail(reason: string): void {
    this.broken = reason;
  }

  private bar(e: BarEvent): void {
    if (this.done) return this.fail('a bar line after the last part');
    const counted = e.fit === 'full' || e.fit === 'closing';
    // abc2midi cannot find where a later repeated part starts without its `|:` (it stops at the first
    // ending with an error), so every repeated part after the first opens with one.
    if (this.needsOpening && !e.repeatStart)
      return this.fail(`part ${this.part + 1} is repeated: it must open with |:`);
    if (e.repeatStart) this.opened = true;
    if (e.fit === 'pickup') {
      if (this.bars > 0 || this.ending !== 0 || this.awaitingSecondEnding || this.hadPickup)
        return this.fail('a short bar inside a part');
      if (this.part === 0) this.tunePickup = e.length;
      else if (Math.abs(e.length - (this.tunePickup ?? 0)) > 1e-6)
        return this.fail(`part ${this.part + 1} opens with a pickup unlike the tune's first`);
      this.hadPickup = true;
    }
    if (counted) {
      this.tunePickup ??= 0;
      if (this.wantsPickup) return this.fail(`part ${this.part + 1} must open with the tune's pickup`);
      // the last bar of a part (or an ending) leaves room for the pickup that follows it
      const pickup = this.tunePickup;
      if (this.inLastBar && (pickup > 0 ? e.fit !== 'closing' : e.fit !== 'full'))
        return this.fail(`the part's last bar must leave room for the pickup`);
    }
    if (!counted && e.fit !== 'pickup' && e.fit !== 'empty' && e.fit !== 'free')
      return this.fail(`a bar of the wrong length (${e.fit})`);
    // a bar line with nothing before it only opens a repeat or an ending (abc2midi miscounts the
    // bars of a repeat that a stray bar line starts)
    if (e.fit === 'empty' && !e.repeatStart && e.ending === null && !e.repeatEnd)
      return this.fail('a bar line with no music before it');
    if (counted) {
      if (this.awaitingSecondEnding) return this.fail('a bar after a first ending with no second ending');
      if (this.ending === 2) this.ending2Bars++;
      else this.bars++;
    }
    this.closeBar(e, counted);
    if (this.broken || e.ending === null) return;
    if (this.done) this.fail('an ending after the last part');
    else this.startEnding(e);
  }

  /** What the bar line (its ending number aside) does to the part. */
  private closeBar(e: BarEvent, counted: boolean): void {
    const n = this.spec.barsPerPart;
    const closes = e.repeatEnd || /\|\]|\|\||\[\|/.test(e.text) || (e.repeatStart && this.bars > 0);
    const doubleBar = /\|\]|\|\|/.test(e.text) && !e.repeatEnd;
    // after a first ending's `:|` comes the second ending's mark (`2` or `[2`), no other bar line
    if (this.awaitingSecondEnding) {
      if (e.ending !== 2) this.fail('a first ending with no second ending');
      return;
    }
    if (this.ending === 2) {
      if (this.ending2Bars < this.ending1Bars) {
        if (closes) this.fail('a second ending closed early');
      } else if (!doubleBar) this.fail('a second ending must close with || or |]');
      else this.nextPart();
      return;
    }
    if (this.bars < n || !counted) {
      if (closes && counted) this.fail(`part ${this.part + 1} closed after ${this.bars} of ${n} bars`);
      else if (e.repeatEnd) this.fail('a repeat sign where no part ends');
      return;
    }
    // The part's last bar: its bar line must close the part as the form says.
    const repeat = (this.spec.parts[this.part] as FormPart).repeat;
    const last = this.part === this.spec.parts.length - 1;
    if (this.ending === 1) {
      if (!e.repeatEnd || e.repeatStart) return this.fail('a first ending must close with :|');
      this.ending1Bars = this.bars - this.barsBeforeEnding;
      this.awaitingSecondEnding = true;
      return;
    }
    if (repeat) {
      if (!e.repeatEnd) return this.fail(`part ${this.part + 1} is repeated: it must close with :|`);
      if (last && e.repeatStart) return this.fail('the last part must not open another repeat');
    } else if (!doubleBar)
      return this.fail(`part ${this.part + 1} is played once: it must close with || or |]`);
    this.nextPart();
    this.opened = e.repeatStart; // `::` closes this part and opens the next
  }

  private startEnding(e: BarEvent): void {
    const n = this.spec.barsPerPart;
    if (e.ending === 2 && this.awaitingSecondEnding) {
      this.awaitingSecondEnding = false;
      this.ending = 2;
      this.ending2Bars = 0;
      return;
    }
    const repeat = (this.spec.parts[this.part] as FormPart).repeat;
    if (e.ending !== 1 || !repeat || this.ending !== 0 || e.repeatEnd)
      return this.fail(`ending ${e.ending} where none may start`);
    if (this.bars > n - 1 || this.bars < n - Math.max(2, Math.floor(n / 2)))
      return this.fail('a first ending holds from one bar to half the part');
    this.ending = 1;
    this.barsBeforeEnding = this.bars;
  }

  private nextPart(): void {
    this.part++;
    this.opened = false;
    this.hadPickup = false;
    this.bars = 0;
    this.ending = 0;
    this.barsBeforeEnding = 0;
    this.ending1Bars = 0;
    this.ending2Bars = 0;
    if (this.part >= this.spec.parts.length) this.done = true;
  }
}
