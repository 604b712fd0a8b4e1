/**
 * A guide for a char model writing ABC: before each character is drawn, it says which characters may
 * come next so that every bar adds up to the meter, the syntax can still be finished, and the tune takes
 * the asked form. It reads what was written with the streaming reader, which already knows the meter,
 * the unit length, tuplets, broken rhythm, ties, pickups and endings.
 *
 * How a character is judged: a cheap lexical rule first (the body is kept to the notation the folk
 * corpus uses: notes with lengths from a fixed set, rests, bar lines, repeats and endings, triplets,
 * broken rhythm, ties); then a probe: a clone of the reader takes the character, decides its lookahead
 * as if the text stopped there (`settle`), and the bar and form that result are checked. A character
 * that opens a token (`:` of `:|`, `[` of `[2`) is judged by the shortest way to finish it. A note whose
 * length may still grow is judged by the shortest length it can still take. Probes are shared by
 * characters that behave alike (every note letter, unless a tie waits for its note).
 *
 * Hand-written: no ABC library reads text one character at a time, let alone says what may follow.
 */
import type { BundleManifest } from '../bundle.ts';
import { FormTracker, type FormSpec } from './form.ts';
import { FormMemory } from './memory.ts';
import { LengthRules, type LengthTable, type MeterLengths } from './lengths.ts';
import { isShortNote, ShortNoteBias, type ShortShareTable } from './shortNotes.ts';
import {
  ACCIDENTALS,
  NOTE_LETTERS,
  NOTE_TAIL,
  TAIL,
  bodyAllows,
  headerAllows,
  multiplierOf,
  readLex,
  type Lex,
} from './notation.ts';
import { AbcStreamReader, RIGHT_FITS, TIME_EPSILON, type AbcEvent, type BarState } from './reader.ts';

/** Patterns the hot paths test (a literal in a function is a new RegExp each time it runs). */
const FIELD_LINE = /^[A-Za-z]:/;
const BAR_LINE_CHAR = /^[|:\][12]$/;
const LENGTH_CHAR = /^[0-9/]$/;
const BAR_TOKEN_TAIL = /[|\]:]\d*$/;
const LENGTH_OR_REST_CHAR = /[0-9/zx]/;

export interface GuideOptions {
  /** The shape to write; null keeps bars true but leaves the form to the model. */
  readonly form: FormSpec | null;
  /** Added to the logits of the key's tonic in the second half of a part's last bar (0: none). */
  readonly tonicBias?: number;
  /**
   * Added to the logit of the character that goes on restating an earlier bar where the corpus's
   * forms restate (memory.ts; 0: none; default DEFAULT_FORM_BIAS).
   */
  readonly formBias?: number;
  /**
   * The note lengths the training corpus writes in each meter (lengths.ts): a length passes only if
   * the corpus uses it there and the bar can still be completed with such lengths. Absent: every
   * length in LENGTHS, any completion.
   */
  readonly lengths?: LengthTable;
  /**
   * The corpus's share of notes shorter than an eighth, by meter (shortNotes.ts): the characters
   * that write one are made likelier while the tune is below it, unlikelier above. Absent: no bias.
   */
  readonly shortShare?: ShortShareTable;
  /** The most that bias adds to or takes from a logit (0: none; default DEFAULT_SHORT_BIAS). */
  readonly shortBias?: number;
  /** Probe every character class, even those the settled text answers (tests compare the two). */
  readonly probeAll?: boolean;
}

/** About e⁴ ≈ 55 times the odds: the corpus ends 76 % of its tunes on the tonic, the raw model 22 %. */
export const DEFAULT_TONIC_BIAS = 4;

/**
 * Measured on the shipped model (docs/models.md): with the int8 variant, 5 brought recurring bars near
 * the corpus's share (41 % against 47 %; 1: 0.6 %, 3: 12 %, 6: 57 %); with the 4-bit variant and the
 * short-note bias, 5 gave 38–40 % and 5.5 gives 46 % (seeds 51 and 52, 200 tunes each).
 */
export const DEFAULT_FORM_BIAS = 5.5;

/** The guide's tables a char bundle carries (its training tunes' note lengths and short-note shares). */
export function corpusTables(
  manifest: Pick<BundleManifest, 'abcLengths' | 'abcShortShare'>,
): Pick<GuideOptions, 'lengths' | 'shortShare'> {
  return {
    ...(manifest.abcLengths ? { lengths: manifest.abcLengths } : {}),
    ...(manifest.abcShortShare ? { shortShare: manifest.abcShortShare } : {}),
  };
}

/** Measured on the shipped model (seed 41, 400 tunes; docs/models.md): 0 left short notes at 5.2 % against the corpus's 8.3 %, 4 at 6.7 %, 6 at 7.7 %, each meter with a share nearer it. */
export const DEFAULT_SHORT_BIAS = 6;

/** What one step's characters share: the settled text, the probes' answers, the line's end. */
interface Step {
  readonly base: Probe | null;
  readonly cache: Map<string, boolean>;
  lex: Lex | null;
  /** The line is a field line (a header, or one the body may not have). */
  fieldLine?: boolean;
}

interface Probe {
  readonly bar: BarState;
  readonly tracker: FormTracker | null;
}

export interface GuideStats {
  /**
   * Steps where no character could keep the bar true (the text was already past saving): the bar is
   * let go, counted as one bar at its bar line, and the guide takes up again after it.
   */
  gaveUp: number;
  /** Steps where nothing at all was allowed and the draw went unmasked. */
  unmasked: number;
  /** The text left the form for good (after an unmasked draw); the rest kept bars true only. */
  formLost: boolean;
}

export class AbcGuide {
  private reader = new AbcStreamReader();
  /** One step's probe answers by character class (fill clears it). */
  private cache = new Map<string, boolean>();
  /** The reader and tracker the probes copy into (probe's `reuse`). */
  private scratch: { reader: AbcStreamReader; tracker: FormTracker | null } = {
    reader: new AbcStreamReader(),
    tracker: null,
  };
  private tracker: FormTracker | null;
  private memory: FormMemory;
  private readonly rules: LengthRules | null;
  private shortNotes: ShortNoteBias | null;
  /** The lexical reading of the step fill last judged (the short-note bias reads it). */
  private stepLex: Lex | null = null;
  /** The current line as written (the lexical rules look at its end). */
  private line = '';
  private tonic: string | null = null;
  /** The tune's kind (its R: line), which some meters do not suit. */
  private kind: string | null = null;
  /** Header fields written in this tune (each once; after a few, K: must come). */
  private fields = new Set<string>();
  readonly stats: GuideStats = { gaveUp: 0, unmasked: 0, formLost: false };
  /** The open bar could not be saved: its length is not held against it. */
  private forgive = false;

  constructor(
    private readonly vocabulary: readonly string[],
    private readonly opts: GuideOptions,
  ) {
    this.tracker = opts.form ? new FormTracker(opts.form) : null;
    this.memory = new FormMemory(opts.form?.barsPerPart ?? null);
    this.rules = opts.lengths ? new LengthRules(opts.lengths) : null;
    this.shortNotes = opts.shortShare
      ? new ShortNoteBias(opts.shortShare, opts.shortBias ?? DEFAULT_SHORT_BIAS)
      : null;
  }

  /** An independent guide at the same point (for an improviser's snapshots). */
  clone(): AbcGuide {
    return Object.assign(new AbcGuide(this.vocabulary, this.opts), this, {
      reader: this.reader.clone(),
      tracker: this.tracker?.clone() ?? null,
      memory: this.memory.clone(),
      shortNotes: this.shortNotes?.clone() ?? null,
      scratch: { reader: new AbcStreamReader(), tracker: null },
      cache: new Map<string, boolean>(),
      fields: new Set(this.fields),
      stats: { ...this.stats },
    });
  }

  /** Where the next note of the open tune would start (quarters, as written). */
  get now(): number {
    return this.reader.now;
  }

  /** The form is complete: the tune can only end now (the text's last bar line decided as written). */
  get done(): boolean {
    return this.probe('')?.tracker?.done ?? false;
  }

  /** Feeds written text; returns the reader's events (the guide's reader serves the caller too). */
  push(text: string): AbcEvent[] {
    const events = this.reader.push(text);
    for (const ch of text) this.memory.push(ch);
    for (const raw of events) {
      this.memory.event(raw);
      this.shortNotes?.event(raw);
      const e = this.forgiven(raw);
      if (e.type === 'bar') this.forgive = false;
      if (e.type === 'tune') {
        this.tracker = this.opts.form ? new FormTracker(this.opts.form) : null;
        this.fields.clear();
        this.kind = null;
      }
      if (e.type === 'header' && e.field === 'R') this.kind = e.value.trim().toLowerCase();
      if (e.type === 'header') this.fields.add(e.field);
      if (e.type === 'header' && e.field === 'K') this.tonic = /^[A-G]/.exec(e.value)?.[0] ?? null;
      this.tracker?.push(e);
      if (this.tracker?.broken) {
        this.tracker = null;
        this.stats.formLost = true;
      }
    }
    for (const ch of text) this.line = ch === '\n' ? '' : this.line + ch;
    return events;
  }

  end(): AbcEvent[] {
    return this.reader.end();
  }

  /**
   * Fills `allowed` (one flag per vocabulary id) and adds the tonic bias to `logits` in place.
   * Returns false when nothing could be allowed: then every flag is set and the caller draws freely.
   */
  guide(logits: Float32Array, allowed: Uint8Array): boolean {
    let base = this.probe('');
    let any = this.fill(allowed, base);
    if (!any && !this.forgive) {
      this.stats.gaveUp++;
      this.forgive = true;
      base = this.probe('');
      any = this.fill(allowed, base);
    }
    if (!any && this.tracker) {
      // even a forgiven bar cannot go on in this form: keep bars true, leave the form to the model
      this.tracker = null;
      this.stats.formLost = true;
      base = this.probe('');
      any = this.fill(allowed, base);
    }
    if (!any) {
      this.stats.unmasked++;
      allowed.fill(1);
      return false;
    }
    // the cadence is the tonic's: where the tonic bias applies, the form memory keeps out of it; a
    // bar that restates an earlier one takes that bar's rhythm, so the short-note bias keeps out of it
    const restating =
      !this.biasTonic(logits, base) &&
      this.memory.bias(logits, this.vocabulary, this.opts.formBias ?? DEFAULT_FORM_BIAS);
    if (!restating) this.biasShort(logits, base);
    return true;
  }

  /**
   * The short-note bias (shortNotes.ts) on the characters that would make a note shorter than an
   * eighth of one that is not: '/' on a note whose length is still unwritten, '>' and '<' after a
   * whole note (the pair's shorter note is half the written length).
   */
  private biasShort(logits: Float32Array, base: Probe | null): void {
    const lex = this.stepLex;
    if (!this.shortNotes || !base || !lex || base.bar.section !== 'body') return;
    const { bar } = base;
    if (bar.last <= 0 || bar.lastInTuplet || isShortNote(bar.last) || !isShortNote(bar.last / 2)) return;
    const amount = this.shortNotes.amount(bar.unit);
    if (!amount) return;
    const slash = lex.noteLength === '';
    const pair = lex.complete && !lex.inPair;
    for (let i = 0; i < this.vocabulary.length; i++) {
      const ch = this.vocabulary[i];
      if ((ch === '/' && slash) || ((ch === '>' || ch === '<') && pair))
        logits[i] = (logits[i] as number) + amount;
    }
  }

  private fill(allowed: Uint8Array, base: Probe | null): boolean {
    this.cache.clear();
    const step: Step = { base, cache: this.cache, lex: null };
    let any = false;
    for (let i = 0; i < this.vocabulary.length; i++) {
      const ok = this.allows(this.vocabulary[i] as string, step);
      allowed[i] = ok ? 1 : 0;
      any ||= ok;
    }
    this.stepLex = step.lex;
    return any;
  }

  /** A bar closed while its length is forgiven counts as a full one. */
  private forgiven(e: AbcEvent): AbcEvent {
    if (!this.forgive || e.type !== 'bar' || e.fit === 'empty' || RIGHT_FITS.has(e.fit)) return e;
    return { ...e, fit: 'full' };
  }

  /** Whether one character may come next (for tests and for callers that judge a single draw). */
  allows(ch: string, step: Step = { base: this.probe(''), cache: new Map(), lex: null }): boolean {
    const { base, cache } = step;
    const line = this.line;
    const section = this.reader.section;
    step.fieldLine ??= section !== 'body' || FIELD_LINE.test(line);
    if (step.fieldLine) return headerAllows(ch, line, section, this.fields, this.kind);
    // the rules look at the end of the line only: a note, a tie, a pair, a bar line (regexes stay cheap)
    step.lex ??= readLex(
      line.slice(-TAIL),
      base?.tracker?.done ?? false,
      (base ? this.meterLengths(base.bar) : null)?.lengths,
    );
    const lex = step.lex;
    if (!bodyAllows(ch, lex)) return false;
    // a bar past saving is closed at once: only a bar line may come (its length is then let go)
    if (this.forgive && !BAR_LINE_CHAR.test(ch)) return false;
    if (ch === '(' && (base?.bar.tupletLeft ?? 0) > 0) return false; // no tuplet inside a tuplet
    // no broken rhythm on tuplet notes: abc2midi finds the pair's durations unequal
    if ((ch === '>' || ch === '<') && (base?.bar.lastInTuplet ?? false)) return false;
    if (base && !this.forgive && LENGTH_CHAR.test(ch) && lex.noteLength !== null)
      return this.lengthFits(base, lex, ch);
    if ((ch === '|' || ch === ':') && base && !this.forgive && !this.mayClose(base)) return false;
    // a space or a tie leaves the bar as the settled text has it (a space only ends the open note's
    // length, which settling did; a tie holds the open note): the step's base answers, no probe
    if ((ch === ' ' || ch === '-') && !this.opts.probeAll)
      return base !== null && this.fits(base, ch, '', lex);
    if (ch === '(' && base && !this.opts.probeAll) return this.tupletFits(base);
    const key = this.classOf(ch, lex);
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const ok = this.probeAllows(key === NOTE_CLASS ? 'A' : ch, lex);
    cache.set(key, ok);
    return ok;
  }

  /**
   * Characters that a probe cannot tell apart share its answer, and one of them stands for all: every
   * note letter, rest and accidental starts a note whose length is still open (NOTE_CLASS, which 'A'
   * stands for; the tie rule, which tells letters apart, is lexical).
   */
  private classOf(ch: string, lex: Lex): string {
    if (lex.last === '-') return ch;
    if (NOTE_LETTERS.test(ch) || ACCIDENTALS.has(ch) || ch === 'z' || ch === 'x') return NOTE_CLASS;
    return ch;
  }

  /**
   * Whether a bar line could close the open bar now (saves the probes of '|' and ':' mid-bar): the bar
   * holds what the form wants, or it is a short first bar (a pickup), or nothing yet (a bar line of its
   * own, such as `|:`).
   */
  private mayClose({ bar, tracker }: Probe): boolean {
    if (bar.meter <= 0 || bar.elapsed < TIME_EPSILON) return true;
    const limit = tracker?.barLimit(bar.meter) ?? bar.meter;
    if (Math.abs(bar.elapsed - limit) < TIME_EPSILON) return true;
    if (bar.elapsed < bar.meter - TIME_EPSILON && !tracker) return true; // a closing bar, without a form
    return bar.partStart && bar.elapsed <= bar.meter / 2 + TIME_EPSILON;
  }

  /**
   * A length character for the open note, judged without a probe: the settled text (`base`) already
   * holds the note at its length so far, and a length only scales it.
   */
  private lengthFits(base: Probe, lex: Lex, ch: string): boolean {
    const { bar } = base;
    if (bar.meter <= 0 || bar.last <= 0) return true;
    const written = lex.noteLength ?? '';
    return this.shortestFits(base, lex.pool, `${written}${ch}`, multiplierOf(written));
  }

  /**
   * Whether the open note, whose length text is `text` (written so far) and whose settled length is
   * `bar.last` for the multiplier `now`, can still end short enough for the bar.
   */
  private shortestFits(p: Probe, pool: readonly string[], text: string, now: number): boolean {
    const { bar } = p;
    const room = (p.tracker?.barLimit(bar.meter) ?? bar.meter) - bar.elapsed;
    const choices = (bar.lastInTuplet ? [''] : pool).filter((l) => l.startsWith(text));
    if (choices.length === 0) return false;
    const per = bar.last / now;
    const meter = this.outsideTuplets(bar);
    if (meter)
      // some length the corpus writes here ends the note with a room its lengths can fill
      return choices.some((l) => {
        const left = room + bar.last - multiplierOf(l) * per;
        return left > -TIME_EPSILON && meter.completes(left);
      });
    const shortest = Math.min(...choices.map((l) => multiplierOf(l))) * per;
    // notes a tuplet still owes are as long as this one (tuplet notes take no length of their own)
    const owed = bar.lastInTuplet ? bar.tupletLeft * per : 0;
    return room + bar.last - shortest - owed > -TIME_EPSILON;
  }

  /**
   * Whether a tuplet may open, from the settled text (what probing `(3ABc`, then `(2AB`, finds): its
   * notes must be welcome (the form takes music), and the shorter of the two, a triplet of units in
   * the time of two, must fit what the bar has left. The tuplet probes were a third of the mask's work.
   */
  private tupletFits({ bar, tracker }: Probe): boolean {
    if (tracker && !tracker.takesMusic) return false;
    if (bar.meter <= 0) return true;
    const room = (tracker?.barLimit(bar.meter) ?? bar.meter) - bar.elapsed;
    return room - 2 * bar.unit > -TIME_EPSILON;
  }

  private probeAllows(ch: string, lex: Lex): boolean {
    const { line } = lex;
    // a tuplet's number is judged with all its notes written
    const completions = line.endsWith('(') ? ['A'.repeat(Number(ch))] : (COMPLETIONS[ch] ?? ['']);
    // a tied note's letter may still take the octave mark that makes it the same note
    const tieLater = NOTE_LETTERS.test(ch) || ACCIDENTALS.has(ch);
    for (const rest of completions) {
      const p = this.probe(ch + rest, tieLater, true);
      if (p && this.fits(p, ch, rest, lex)) return true;
    }
    return false;
  }

  /** Whether the bar after `ch` (and the completion `rest`) can still add up. */
  private fits(p: Probe, ch: string, rest: string, lex: Lex): boolean {
    const { line } = lex;
    const { bar } = p;
    if (bar.meter <= 0 || this.forgive) return true;
    // the form may want less than a full bar: nothing before a part's `|:`, the tune's pickup at a
    // later part's start, room for that pickup in a part's last bar
    const room = (p.tracker?.barLimit(bar.meter) ?? bar.meter) - bar.elapsed;
    if (bar.brokenPending) {
      // the pair's second note is written as long as the first: a third of the dotted first after '>',
      // three times the shortened first after '<'
      const factor = ch === '<' ? 0.5 : 1.5;
      return room - (bar.last * (2 - factor)) / factor > -TIME_EPSILON;
    }
    // the note a tie holds is at least the shortest length ('/')
    if (ch === '-') return room - bar.unit / 2 > -TIME_EPSILON;
    const written = `${line}${ch}${rest}`;
    const note = NOTE_TAIL.exec(written);
    const lengthOpen =
      rest === '' &&
      note !== null &&
      !BAR_TOKEN_TAIL.test(written) &&
      (NOTE_LETTERS.test(ch) || LENGTH_OR_REST_CHAR.test(ch));
    if (!lengthOpen || bar.last <= 0)
      return room > -TIME_EPSILON && (this.outsideTuplets(bar)?.completes(room) ?? true);
    // The note's length may still change: judge it by the shortest it can become.
    const text = note[3] ?? '';
    const starts = NOTE_LETTERS.test(ch) || ch === 'z' || ch === 'x'; // a new note, or the open one growing
    return this.shortestFits(p, starts ? lex.poolNew : lex.pool, text, multiplierOf(text));
  }

  /** The corpus's lengths for the bar's meter, or null (no table, or none for this meter). */
  private meterLengths(bar: BarState): MeterLengths | null {
    return this.rules?.for(bar.numerator, bar.meter, bar.unit) ?? null;
  }

  /** The same, where rooms are on the unit's grid: not inside a tuplet, nor in a broken-rhythm pair. */
  private outsideTuplets(bar: BarState): MeterLengths | null {
    if (bar.tupletLeft > 0 || bar.lastInTuplet || bar.brokenPending) return null;
    return this.meterLengths(bar);
  }

  /** Runs `text` through clones of the reader and the form; null when it breaks either. */
  /**
   * `reuse`: the probe's reader and tracker are this guide's scratch ones, copied into (no allocation
   * to speak of), so its answer holds only until the next such probe: for the probes of one
   * character's classes, not for a step's base.
   */
  private probe(text: string, tieLater = false, reuse = false): Probe | null {
    const reader = reuse ? this.scratch.reader.copyFrom(this.reader) : this.reader.clone();
    const tracker = !this.tracker
      ? null
      : reuse
        ? (this.scratch.tracker ??= this.tracker.clone()).copyFrom(this.tracker)
        : this.tracker.clone();
    const ties = reader.stats.danglingTies;
    if (!this.takes(reader.push(text), reader, tracker) || !this.takes(reader.settle(), reader, tracker))
      return null;
    if (tracker?.broken) return null;
    // a note still waiting for its length has not reached the tracker as an event yet
    if (tracker && reader.bar.last > 0 && !tracker.takesMusic) return null;
    if (!tieLater && reader.stats.danglingTies > ties) return null;
    return { bar: reader.bar, tracker };
  }

  /** Passes a probe's events to its tracker; false at one the probe must not produce. */
  private takes(events: readonly AbcEvent[], reader: AbcStreamReader, tracker: FormTracker | null): boolean {
    for (const raw of events) {
      const e = this.forgiven(raw);
      if (e.type === 'skip') return false;
      if (e.type === 'bar' && !RIGHT_FITS.has(e.fit) && e.fit !== 'empty') return false;
      // a pickup is a lead-in: at most half a bar (the corpus's are one to three notes)
      if (e.type === 'bar' && e.fit === 'pickup' && e.length > reader.bar.meter / 2 + TIME_EPSILON)
        return false;
      if (e.type === 'tune' && this.reader.section !== 'idle') return false;
      if (e.type === 'header' && this.reader.section === 'body') return false; // no field lines in the body
      tracker?.push(e);
    }
    return true;
  }

  /**
   * In the second half of a part's last bar, the key's tonic is made likelier (a bias, not a rewrite);
   * says whether it applied.
   */
  private biasTonic(logits: Float32Array, base: Probe | null): boolean {
    const bias = this.opts.tonicBias ?? DEFAULT_TONIC_BIAS;
    if (!bias || !this.tonic || !base?.tracker?.inLastBar || base.bar.section !== 'body') return false;
    const { meter, elapsed } = base.bar;
    if (meter <= 0 || base.tracker.barLimit(meter) - elapsed > meter / 2 + TIME_EPSILON) return false;
    const lower = this.tonic.toLowerCase();
    for (let i = 0; i < this.vocabulary.length; i++) {
      const ch = this.vocabulary[i];
      if (ch === this.tonic || ch === lower) logits[i] = (logits[i] as number) + bias;
    }
    return true;
  }
}

/** The class key of the characters that start a note (classOf). */
const NOTE_CLASS = 'note';

/** How to finish a token that a character opens, to judge it (tried in order; '' is the character alone). */
const COMPLETIONS: Record<string, readonly string[]> = {
  ':': ['', '|'],
  '|': ['', '|', ']', ':', '1'],
  '[': ['1', '2'],
  '(': ['3ABc', '2AB'],
  '^': ['A'],
  _: ['A'],
  '=': ['A'],
};
