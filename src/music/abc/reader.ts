/**
 * An incremental ABC reader: characters go in one at a time (as a char-LSTM emits them) and note
 * events come out as soon as each note is complete — after its length, a broken-rhythm mark or a tie
 * that would change it. Malformed text never stops the stream: the bad token is skipped and counted,
 * and the reader resynchronises at the next bar line (the rest of that bar stays silent) or tune header.
 *
 * abcjs parses whole tunes well but cannot be fed one character at a time, so this tokenizer is written
 * by hand; abcjs validates whole tunes (see validate.ts). Times are in quarter notes from the tune's
 * start, as written: repeats are expanded afterwards by RepeatExpander.
 */
import { defaultUnit, parseKey, parseMeter, parseUnitLength, type KeyAccidentals } from './key.ts';

export type Quarters = number;

export type AbcEvent =
  | { readonly type: 'tune'; readonly index: number; readonly number: number }
  | { readonly type: 'header'; readonly field: string; readonly value: string }
  | { readonly type: 'note'; readonly pitch: number; readonly start: Quarters; readonly dur: Quarters }
  | { readonly type: 'rest'; readonly start: Quarters; readonly dur: Quarters }
  /** A quoted annotation in the body (`"Am7"`): a chord symbol, or text; placed where the next note starts. */
  | { readonly type: 'symbol'; readonly at: Quarters; readonly text: string }
  | {
      readonly type: 'bar';
      readonly at: Quarters;
      /** The bar line as written: |, ||, |], [|, |:, :|, ::, and an ending number after it, if any. */
      readonly text: string;
      readonly repeatStart: boolean;
      readonly repeatEnd: boolean;
      readonly ending: number | null;
      /** The bar this line closes: its length against the meter, and how it fits (see BarFit). */
      readonly length: Quarters;
      readonly fit: BarFit;
    }
  | { readonly type: 'skip'; readonly reason: string; readonly text: string; readonly line: number }
  | {
      readonly type: 'tune-end';
      readonly at: Quarters;
      /** The bar left open at the end (no bar line after it), judged as if a final bar line closed it. */
      readonly length: Quarters;
      readonly fit: BarFit;
    };

/**
 * How a bar's length fits the meter. Right: `full`; `pickup`, a short first bar of the tune or of a
 * part (after `|:`, `:|`, `::`, `||`, `|]`); `closing`, the short last bar of a part (closed by one of
 * those, or by the tune's end) that the part's pickup completes; `free` under `M:none`. Wrong: `short`,
 * `long`, and `broken` (a malformed token was skipped in it). `empty`: two bar lines with nothing
 * between (`:|` then `[2`), not a bar at all.
 */
export type BarFit = 'full' | 'pickup' | 'closing' | 'free' | 'short' | 'long' | 'broken' | 'empty';

export const RIGHT_FITS: ReadonlySet<BarFit> = new Set(['full', 'pickup', 'closing', 'free']);

/** Durations are sums of thirds, fifths and halves of the unit: compare them with a tolerance. */
export const TIME_EPSILON = 1e-6;

/** What the reader knows of the bar being written, for a sampler that keeps bars true. */
export interface BarState {
  /** Quarters per bar (0: `M:none`, free). */
  readonly meter: Quarters;
  /** The meter's numerator as written (6 in 6/8, 2 in C|), which tells 6/8 from 3/4. */
  readonly numerator: number;
  /** Quarters written in the open bar, the note still waiting for its length counted as written so far. */
  readonly elapsed: Quarters;
  /** True until the first bar of the tune or part is closed: a pickup may end it early. */
  readonly partStart: boolean;
  /** The current part's pickup (0: none): a part-closing bar may be this much short. */
  readonly pickup: Quarters;
  /** Notes a tuplet still has to place. */
  readonly tupletLeft: number;
  /** The unit length (L:) in quarters. */
  readonly unit: Quarters;
  /** Where the reader is: outside a tune, in its header (X: to K:), or in its body. */
  readonly section: 'idle' | 'header' | 'body';
  /** The length of the last note or rest as written so far (0 when there is none to lengthen). */
  readonly last: Quarters;
  /** The last note was placed inside a tuplet. */
  readonly lastInTuplet: boolean;
  /** A broken-rhythm mark waits for the note it shortens or lengthens. */
  readonly brokenPending: boolean;
}

export interface ReaderStats {
  tunes: number;
  notes: number;
  /** Malformed tokens skipped (each one starts a resynchronisation). */
  skippedTokens: number;
  /** Characters dropped while skipping and resynchronising. */
  skippedChars: number;
  /** Ties whose next note had another pitch (played as two notes). */
  danglingTies: number;
}

const HEADER_FIELDS = new Set('ABCDFGHIKLMmNOPQRrSsTUVWwXZ'.split(''));
const SINGLE_DECORATIONS = new Set('~.HLMOPSTuvJR'.split(''));
const NATURAL: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
const ACCIDENTAL: Record<string, number> = { '^^': 2, '^': 1, __: -2, _: -1, '=': 0 };
const LENGTH = String.raw`(\d*)(\/*)(\d*)`;
const NOTE_RE = new RegExp(String.raw`^(\^\^|\^|__|_|=)?([A-Ga-g])([',]*)${LENGTH}`);
const REST_RE = new RegExp(String.raw`^([zx])${LENGTH}`);
const MULTI_REST_RE = /^([ZX])(\d*)/;
const BAR_RE = /^(:*\|\]|:*\|\||:*\[\||:*\|:*|::+)(\s?\d+(?:[,-]\d+)*)?/;
const ENDING_RE = /^\[(\d+(?:[,-]\d+)*)/;
const TUPLET_RE = /^\((\d+)(?::(\d*))?(?::(\d*))?/;
const INLINE_FIELD_RE = /^\[([A-Za-z]):([^\]\n]*)\]/;
const CHORD_RE = new RegExp(
  String.raw`^\[((?:(?:\^\^|\^|__|_|=)?[A-Ga-g][',]*\d*\/*\d*[-]?\s*)+)\]${LENGTH}`,
);
const CHORD_NOTE_RE = /(\^\^|\^|__|_|=)?([A-Ga-g])([',]*)(\d*)(\/*)(\d*)/g;

/** Patterns the hot paths test (a literal in a function is a new RegExp each time it runs). */
const FIELD_START = /^[A-Za-z]:/;
const BROKEN_MARKS = /^(>+|<+)/;
const REPEAT_START = /\|:|::|:\[/;
const COLONS = /^:{2,}$/;
const PART_END = /\|\]|\|\||\[\|/;

/**
 * The longest and shortest length multiplier read (of the unit length L:): beyond them a length is
 * a typing slip or an attack (`C9999999` would put a note past what a MIDI file can hold), and the
 * token is skipped as malformed. So is a pitch outside MIDI's 0–127 (`c''''''''`).
 */
export const MAX_LENGTH_MULTIPLIER = 64;
/** The most bars a multi-bar rest (Z) may span. */
export const MAX_MULTI_REST_BARS = 256;

/** Multiplier of a length suffix: '' → 1, '2' → 2, '/' → 1/2, '//' → 1/4, '3/2' → 3/2, '/4' → 1/4. */
export function lengthMultiplier(num: string, slashes: string, den: string): number {
  const n = num === '' ? 1 : Number(num);
  if (slashes === '') return n;
  const d = den === '' ? 2 ** slashes.length : Number(den) * 2 ** (slashes.length - 1);
  return n / d;
}

const lengthReadable = (m: number): boolean => m >= 1 / MAX_LENGTH_MULTIPLIER && m <= MAX_LENGTH_MULTIPLIER;

interface Pending {
  pitches: number[];
  start: Quarters;
  dur: Quarters;
  /** Length of the last written note of a tied chain: what a broken-rhythm mark after it changes. */
  last: Quarters;
  tied: boolean;
  rest: boolean;
}

type Mode = 'idle' | 'header' | 'body';

export class AbcStreamReader {
  private counts: ReaderStats = { tunes: 0, notes: 0, skippedTokens: 0, skippedChars: 0, danglingTies: 0 };
  private buf = '';
  private atLineStart = true;
  private line = 1;
  private mode: Mode = 'idle';
  private out: AbcEvent[] = [];
  // tune state
  private unit: Quarters = 0.5;
  private unitSet = false;
  private meterQuarters = 4;
  private meterNumerator = 4;
  private key: KeyAccidentals = new Map();
  private barAccidentals = new Map<string, number>();
  private time: Quarters = 0;
  private barStart: Quarters = 0;
  private pending: Pending | null = null;
  private brokenNext = 1;
  private tuplet: { factor: number; left: number } | null = null;
  private resync = false;
  // bar accounting
  private partStart = true;
  private pickup: Quarters = 0;
  private pickupJustClosed = false;
  private barBroken = false;
  private multiRestBars = 0;
  private lastInTuplet = false;

  /**
   * An independent reader at the same point of the stream, so a snapshot needs no copy of the text
   * read so far (which, over a night of solo, only grows).
   */
  clone(): AbcStreamReader {
    return new AbcStreamReader().copyFrom(this);
  }

  /**
   * Becomes an independent reader at `src`'s point, keeping its own stats, event list and accidentals
   * (a probe reader reused step after step allocates next to nothing: the mask's probes once made
   * most of a live step's garbage, and the young-generation collections it brought were most of the
   * step's worst case).
   */
  copyFrom(src: AbcStreamReader): this {
    const { counts, out, barAccidentals } = this;
    Object.assign(this, src);
    this.counts = Object.assign(counts, src.counts);
    out.length = 0;
    for (const e of src.out) out.push(e);
    this.out = out;
    // the key is never changed in place (a K: field replaces it): shared
    barAccidentals.clear();
    for (const [k, v] of src.barAccidentals) barAccidentals.set(k, v);
    this.barAccidentals = barAccidentals;
    this.pending = src.pending && { ...src.pending, pitches: [...src.pending.pitches] };
    this.tuplet = src.tuplet && { ...src.tuplet };
    return this;
  }

  /** What was read so far: tunes, notes, skipped tokens and characters, ties left dangling. */
  get stats(): ReaderStats {
    return this.counts;
  }

  /** Where the next note of the open tune would start (quarters, as written). */
  get now(): Quarters {
    return this.time;
  }

  /** The open bar as read so far (the text still waiting in the lookahead is not counted). */
  get bar(): BarState {
    return {
      meter: this.meterQuarters,
      numerator: this.meterNumerator,
      elapsed: this.time - this.barStart,
      partStart: this.partStart,
      pickup: this.pickup,
      tupletLeft: this.tuplet?.left ?? 0,
      unit: this.unit,
      section: this.mode,
      last: this.pending?.last ?? 0,
      lastInTuplet: this.lastInTuplet,
      brokenPending: this.brokenNext !== 1,
    };
  }

  /** Outside a tune, in its header, or in its body (cheaper than `bar` when only this is wanted). */
  get section(): BarState['section'] {
    return this.mode;
  }

  /** Text read but not yet decided (a note that may still get a length, a bar line that may grow). */
  get lookahead(): string {
    return this.buf;
  }

  /**
   * Decides everything in the lookahead as if the text stopped here, without ending the tune: what a
   * sampler asks of a clone to see where a character would leave the bar.
   */
  settle(): AbcEvent[] {
    this.drain(true);
    if (this.buf.length && !this.atLineStart) this.processLine(true);
    return this.take();
  }

  /** Feeds text (any number of characters); returns the events completed by it. */
  push(text: string): AbcEvent[] {
    for (const ch of text) {
      if (ch === '\r') continue;
      this.buf += ch;
      this.drain(false);
    }
    return this.take();
  }

  /** Ends the stream: flushes the last note and closes the open tune. */
  end(): AbcEvent[] {
    this.drain(true);
    if (this.buf.length) this.processLine(true);
    this.endTune();
    return this.take();
  }

  private take(): AbcEvent[] {
    if (this.out.length === 0) return NO_EVENTS as AbcEvent[];
    const out = this.out;
    this.out = [];
    return out;
  }

  private emit(e: AbcEvent): void {
    this.out.push(e);
  }

  private skip(reason: string, text: string): void {
    this.counts.skippedTokens++;
    this.counts.skippedChars += text.length;
    this.emit({ type: 'skip', reason, text, line: this.line });
  }

  private drain(final: boolean): void {
    for (;;) {
      if (this.atLineStart) {
        // A field line ("T:…") is read whole; anything else is body text, read token by token.
        if (this.buf.length < 2 && !this.buf.includes('\n') && !final) return;
        if (FIELD_START.test(this.buf) || this.buf.startsWith('%')) {
          const nl = this.buf.indexOf('\n');
          if (nl < 0 && !final) return;
          const lineText = nl < 0 ? this.buf : this.buf.slice(0, nl);
          this.buf = nl < 0 ? '' : this.buf.slice(nl + 1);
          this.line++;
          if (!lineText.startsWith('%')) this.fieldLine(lineText[0] as string, lineText.slice(2));
          if (nl < 0) return;
          continue;
        }
        if (this.buf.startsWith('\n')) {
          // a blank line ends the tune
          this.buf = this.buf.slice(1);
          this.line++;
          this.flushPending();
          if (this.mode === 'body') this.endTune();
          continue;
        }
        if (this.buf.length === 0) return;
        this.atLineStart = false;
      }
      if (!this.processLine(final)) return;
    }
  }

  /** Consumes body tokens; returns true when it stopped at a line start (more may follow). */
  private processLine(final: boolean): boolean {
    while (this.buf.length) {
      const c = this.buf[0] as string;
      if (c === '\n') {
        this.buf = this.buf.slice(1);
        this.line++;
        this.atLineStart = true;
        return true;
      }
      const consumed = this.token(final);
      if (consumed === 0) return false; // needs more text
      this.buf = this.buf.slice(consumed);
    }
    return false;
  }

  /** Matches `re` at the buffer start; a match that runs to the end of the buffer may still grow. */
  private match(re: RegExp, final: boolean): RegExpExecArray | null | 'wait' {
    const m = re.exec(this.buf);
    if (!m) return null;
    if (m[0].length === this.buf.length && !final) return 'wait';
    return m;
  }

  /** Reads one token; returns how many characters it used (0 = wait for more). */
  private token(final: boolean): number {
    const b = this.buf;
    const c = b[0] as string;
    if (this.mode !== 'body') {
      // Text outside a tune body: skipped until a header starts a tune.
      const nl = b.indexOf('\n');
      if (nl < 0 && !final) return 0;
      const n = nl < 0 ? b.length : nl;
      if (this.mode === 'header') this.skip('text in a tune header', b.slice(0, n));
      return n;
    }
    if (this.resync) {
      const bar = /^[^|:\n]*/.exec(b) as RegExpExecArray;
      if (bar[0].length === b.length && !final) {
        this.counts.skippedChars += b.length;
        this.buf = '';
        return 0;
      }
      this.counts.skippedChars += bar[0].length;
      if (bar[0].length > 0) return bar[0].length;
      this.resync = false;
      // the broken bar keeps its length, silent, so later bars stay in place
      if (this.meterQuarters > 0) this.time = Math.max(this.time, this.barStart + this.meterQuarters);
    }
    // Every token is decided with a few characters of lookahead (a note's length, a tuplet's digits,
    // a bar line's colons), unless the line has ended.
    if (!final && b.length < 4 && !b.includes('\n')) return 0;
    if (c === ' ' || c === '\t' || c === '\\' || c === '`' || c === '$' || c === ')') return 1;
    if (c === '%') {
      const nl = b.indexOf('\n');
      return nl < 0 ? (final ? b.length : 0) : nl;
    }
    if (c === '"' || c === '!' || c === '+' || c === '{') {
      const close = c === '{' ? '}' : c;
      const end = b.indexOf(close, 1);
      const nl = b.indexOf('\n');
      if (end >= 0 && (nl < 0 || end < nl)) {
        // decorations and grace notes are skipped; a quoted chord symbol is passed on
        if (c === '"') this.emit({ type: 'symbol', at: this.time, text: b.slice(1, end) });
        return end + 1;
      }
      if (nl < 0 && !final) return 0;
      if (c === '!') return 1; // a lone '!' is a line-break mark
      this.malformed(
        `unterminated ${c === '"' ? 'chord symbol' : c === '{' ? 'grace notes' : 'decoration'}`,
        b.slice(0, nl < 0 ? b.length : nl),
      );
      return nl < 0 ? b.length : nl;
    }
    if (SINGLE_DECORATIONS.has(c)) return 1;
    if (c === '-') {
      if (this.pending && !this.pending.rest) this.pending.tied = true;
      return 1;
    }
    if (c === '>' || c === '<') {
      const m = BROKEN_MARKS.exec(b) as RegExpExecArray;
      if (m[0].length === b.length && !final) return 0;
      const n = Math.min(m[0].length, 3);
      const short = 1 / 2 ** n;
      const [before, after] = c === '>' ? [2 - short, short] : [short, 2 - short];
      if (this.pending) {
        const extra = this.pending.last * (before - 1);
        this.pending.last += extra;
        this.pending.dur += extra;
        this.time += extra;
      }
      this.brokenNext = after;
      return m[0].length;
    }
    if (c === '(') {
      const t = this.match(TUPLET_RE, final);
      if (t === 'wait') return 0;
      if (t) {
        const p = Number(t[1]);
        const q = t[2] ? Number(t[2]) : this.defaultTupletQ(p);
        const r = t[3] ? Number(t[3]) : p;
        if (p >= 2 && p <= 9) this.tuplet = { factor: q / p, left: r };
        return t[0].length;
      }
      return 1; // slur
    }
    if (c === '[') {
      const field = this.match(INLINE_FIELD_RE, final);
      if (field === 'wait') return 0;
      if (field) {
        this.fieldLine(field[1] as string, field[2] as string);
        return field[0].length;
      }
      const ending = this.match(ENDING_RE, final);
      if (ending === 'wait') return 0;
      if (ending) {
        this.barLine('[', Number((ending[1] as string).split(/[,-]/)[0]));
        return ending[0].length;
      }
      if (b.startsWith('[|')) {
        const bar = this.match(BAR_RE, final);
        if (bar === 'wait') return 0;
        if (bar) {
          this.barLine(bar[1] as string, bar[2] ? Number(bar[2].trim().split(/[,-]/)[0]) : null);
          return bar[0].length;
        }
      }
      const chord = this.match(CHORD_RE, final);
      if (chord === 'wait') return 0;
      if (chord) {
        this.chord(chord);
        return chord[0].length;
      }
      // No chord could be read: up to a ']' it is a malformed chord; a bar line or the line's end
      // first means it was never closed.
      const stop = b.search(/[\]|\n]/);
      if (stop < 0 && !final) return 0;
      if (stop >= 0 && b[stop] === ']') {
        this.malformed('malformed chord', b.slice(0, stop + 1));
        return stop + 1;
      }
      const end = stop < 0 ? b.length : stop;
      this.malformed('unterminated chord', b.slice(0, end));
      return end;
    }
    if (c === '|' || c === ':') {
      const bar = this.match(BAR_RE, final);
      if (bar === 'wait') return 0;
      if (bar) {
        this.barLine(bar[1] as string, bar[2] ? Number(bar[2].trim().split(/[,-]/)[0]) : null);
        return bar[0].length;
      }
    }
    const note = this.match(NOTE_RE, final);
    if (note === 'wait') return 0;
    if (note) {
      this.note(note);
      return note[0].length;
    }
    const rest = this.match(REST_RE, final);
    if (rest === 'wait') return 0;
    if (rest) {
      this.rest(rest);
      return rest[0].length;
    }
    const multi = this.match(MULTI_REST_RE, final);
    if (multi === 'wait') return 0;
    if (multi) {
      this.flushPending();
      const bars = multi[2] ? Number(multi[2]) : 1;
      if (!(bars >= 1 && bars <= MAX_MULTI_REST_BARS)) {
        this.malformed('multi-bar rest out of range', multi[0]);
        return multi[0].length;
      }
      const dur = bars * (this.meterQuarters || 4);
      this.multiRestBars += bars;
      this.emit({ type: 'rest', start: this.time, dur });
      this.time += dur;
      return multi[0].length;
    }
    this.malformed('unexpected character', c);
    return 1;
  }

  private malformed(reason: string, text: string): void {
    this.flushPending();
    this.skip(reason, text);
    this.resync = true;
    this.barBroken = true;
  }

  private defaultTupletQ(p: number): number {
    if (p === 2 || p === 4 || p === 8) return 3;
    if (p === 3 || p === 6) return 2;
    // compound time (6/8, 9/8, 12/8): beats of three, as ABC 2.1 defines it for (5, (7, (9
    const compound = this.meterNumerator > 3 && this.meterNumerator % 3 === 0;
    return compound ? 3 : 2;
  }

  private fieldLine(field: string, rawValue: string): void {
    const value = rawValue.trim();
    if (field === 'X') {
      this.endTune();
      this.startTune(value);
      return;
    }
    if (!HEADER_FIELDS.has(field)) {
      this.skip(`unknown header field '${field}:'`, `${field}:${rawValue}`);
      return;
    }
    if (this.mode === 'idle') {
      this.skip(`'${field}:' outside a tune (no X: before it)`, `${field}:${rawValue}`);
      return;
    }
    this.emit({ type: 'header', field, value });
    // M: and L: take their first word; abc2midi ignores anything after it on the line, and so do we.
    const word = value.split(/\s+/)[0] ?? '';
    if (field === 'M') {
      const m = parseMeter(word);
      if (!m) return this.skip('unreadable meter', value);
      this.meterQuarters = m.quarters;
      this.meterNumerator = m.numerator;
      if (!this.unitSet) this.unit = defaultUnit(m);
    } else if (field === 'L') {
      const l = parseUnitLength(word);
      if (l === null) return this.skip('unreadable unit length', value);
      this.unit = l;
      this.unitSet = true;
    } else if (field === 'K') {
      const k = parseKey(value);
      if (!k) return this.skip('unreadable key', value);
      this.key = k;
      this.barAccidentals.clear();
      if (this.mode === 'header') this.mode = 'body';
    }
  }

  private startTune(value: string): void {
    this.mode = 'header';
    this.unit = 0.5;
    this.unitSet = false;
    this.meterQuarters = 4;
    this.meterNumerator = 4;
    this.key = new Map();
    this.barAccidentals.clear();
    this.time = 0;
    this.barStart = 0;
    this.pending = null;
    this.brokenNext = 1;
    this.tuplet = null;
    this.resync = false;
    this.partStart = true;
    this.pickup = 0;
    this.pickupJustClosed = false;
    this.barBroken = false;
    this.multiRestBars = 0;
    this.emit({ type: 'tune', index: this.counts.tunes, number: Number.parseInt(value, 10) || 0 });
    this.counts.tunes++;
  }

  private endTune(): void {
    if (this.mode === 'idle') return;
    this.flushPending();
    const length = this.time - this.barStart;
    this.emit({ type: 'tune-end', at: this.time, length, fit: this.judgeBar(length, true) });
    this.mode = 'idle';
  }

  /**
   * How the bar now closing fits, and the part bookkeeping that follows from it. `closesPart`: the bar
   * line ends a part (or the tune ends), so the bar may be short by the part's pickup.
   */
  private judgeBar(length: Quarters, closesPart: boolean): BarFit {
    const meter = this.meterQuarters;
    const broken = this.barBroken;
    const rests = this.multiRestBars;
    this.barBroken = false;
    this.multiRestBars = 0;
    if (length < TIME_EPSILON && !broken) return 'empty';
    const wasPartStart = this.partStart;
    this.partStart = false;
    if (broken) return 'broken';
    if (meter <= 0) return 'free';
    const bars = Math.max(1, rests);
    const afterPickup = this.pickupJustClosed;
    this.pickupJustClosed = false;
    if (Math.abs(length - meter * bars) < TIME_EPSILON) {
      // a part without a pickup; but a pickup written before `|:` still counts for the part after it
      if (wasPartStart && !afterPickup) this.pickup = 0;
      return 'full';
    }
    if (length > meter) return 'long';
    if (wasPartStart) {
      this.pickup = length;
      this.pickupJustClosed = true;
      return 'pickup';
    }
    if (closesPart && this.pickup > 0 && Math.abs(length + this.pickup - meter) < TIME_EPSILON)
      return 'closing';
    return 'short';
  }

  /** The duration of the next note or rest with its length multiplier, broken rhythm and tuplet. */
  private nextDuration(multiplier: number): Quarters {
    let dur = this.unit * multiplier * this.brokenNext;
    this.brokenNext = 1;
    this.lastInTuplet = this.tuplet !== null;
    if (this.tuplet) {
      dur *= this.tuplet.factor;
      if (--this.tuplet.left <= 0) this.tuplet = null;
    }
    return dur;
  }

  private pitchOf(acc: string | undefined, letter: string, octaves: string): number {
    const upper = letter.toUpperCase();
    let octave = letter === upper ? 0 : 1;
    for (const o of octaves) octave += o === "'" ? 1 : -1;
    // abc2midi carries an accidental to the same letter in every octave until the bar line
    const slot = upper;
    if (acc !== undefined) this.barAccidentals.set(slot, ACCIDENTAL[acc] as number);
    const alter = this.barAccidentals.get(slot) ?? this.key.get(upper) ?? 0;
    return 60 + 12 * octave + (NATURAL[upper] as number) + alter;
  }

  private place(pitches: number[], dur: Quarters, tied: boolean, rest: boolean): void {
    const p = this.pending;
    if (
      p &&
      p.tied &&
      !rest &&
      p.pitches.length === pitches.length &&
      p.pitches.every((x, i) => x === pitches[i])
    ) {
      // a tie: the held note grows instead of sounding again
      p.dur += dur;
      p.last = dur;
      p.tied = tied;
      this.time += dur;
      return;
    }
    if (p?.tied) this.counts.danglingTies++;
    this.flushPending();
    this.pending = { pitches, start: this.time, dur, last: dur, tied, rest };
    this.time += dur;
  }

  private flushPending(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    if (p.rest) {
      this.emit({ type: 'rest', start: p.start, dur: p.dur });
      return;
    }
    for (const pitch of p.pitches) {
      this.emit({ type: 'note', pitch, start: p.start, dur: p.dur });
      this.counts.notes++;
    }
  }

  private note(m: RegExpExecArray): void {
    const multiplier = lengthMultiplier(m[4] ?? '', m[5] ?? '', m[6] ?? '');
    if (!lengthReadable(multiplier)) return this.malformed('note length out of range', m[0]);
    const pitch = this.pitchOf(m[1], m[2] as string, m[3] ?? '');
    if (pitch < 0 || pitch > 127) return this.malformed('pitch outside MIDI 0–127', m[0]);
    this.place([pitch], this.nextDuration(multiplier), false, false);
  }

  private rest(m: RegExpExecArray): void {
    const multiplier = lengthMultiplier(m[2] ?? '', m[3] ?? '', m[4] ?? '');
    if (!lengthReadable(multiplier)) return this.malformed('rest length out of range', m[0]);
    this.place([], this.nextDuration(multiplier), false, true);
  }

  private chord(m: RegExpExecArray): void {
    const inner = m[1] as string;
    const pitches: number[] = [];
    let first: number | null = null;
    for (const n of inner.matchAll(CHORD_NOTE_RE)) {
      const pitch = this.pitchOf(n[1], n[2] as string, n[3] ?? '');
      if (pitch < 0 || pitch > 127) return this.malformed('pitch outside MIDI 0–127', m[0]);
      pitches.push(pitch);
      first ??= lengthMultiplier(n[4] ?? '', n[5] ?? '', n[6] ?? '');
    }
    const multiplier = (first ?? 1) * lengthMultiplier(m[2] ?? '', m[3] ?? '', m[4] ?? '');
    if (!lengthReadable(multiplier)) return this.malformed('chord length out of range', m[0]);
    const tied = /-\s*$/.test(inner);
    this.place(pitches, this.nextDuration(multiplier), tied, false);
  }

  private barLine(text: string, ending: number | null): void {
    if (!this.pending?.tied) this.flushPending(); // a tie may cross the bar line
    this.brokenNext = 1;
    this.barAccidentals.clear();
    const repeatStart = REPEAT_START.test(text) || COLONS.test(text);
    const repeatEnd = text.startsWith(':');
    const partEnd = repeatStart || repeatEnd || PART_END.test(text);
    const length = this.time - this.barStart;
    // a tuplet left open across the bar line leaves the bar's notes unfinished
    if (this.tuplet) this.barBroken = true;
    const fit = this.judgeBar(length, partEnd);
    // A part starts after a repeat sign or a double bar, but not inside an ending (`:|2`, `[2`).
    if (ending !== null) this.partStart = false;
    else if (partEnd) this.partStart = true;
    this.barStart = this.time;
    this.emit({
      type: 'bar',
      at: this.time,
      text: ending === null ? text : `${text}${ending}`,
      repeatStart,
      repeatEnd,
      ending,
      length,
      fit,
    });
  }
}

/** What push and settle return when nothing completed (frozen: a caller cannot fill it in). */
const NO_EVENTS: readonly AbcEvent[] = Object.freeze([]);

/** Reads a whole text in one go (the same code path as streaming). */
export function readAbc(text: string): { events: AbcEvent[]; stats: ReaderStats } {
  const reader = new AbcStreamReader();
  const events = [...reader.push(text), ...reader.end()];
  return { events, stats: { ...reader.stats } };
}
