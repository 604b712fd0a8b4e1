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
import { FormTracker, type FormSpec } from './form.ts';
import { parseKey, parseMeter, parseUnitLength } from './key.ts';
import {
  AbcStreamReader,
  RIGHT_FITS,
  TIME_EPSILON,
  lengthMultiplier,
  type AbcEvent,
  type BarState,
} from './reader.ts';

export interface GuideOptions {
  /** The shape to write; null keeps bars true but leaves the form to the model. */
  readonly form: FormSpec | null;
  /** Added to the logits of the key's tonic in the second half of a part's last bar (0: none). */
  readonly tonicBias?: number;
}

/** About e⁴ ≈ 55 times the odds: the corpus ends 76 % of its tunes on the tonic, the raw model 22 %. */
export const DEFAULT_TONIC_BIAS = 4;

/**
 * Note lengths the guide lets the model write (the corpus uses '', 2, 3, 4, 6, / and 3/2). Tuplet notes
 * take none of their own, and the second note of a broken-rhythm pair is written as long as the first,
 * so the room left in a bar stays a whole number of the shortest length and a bar can always be filled.
 */
const LENGTHS = ['', '2', '3', '4', '6', '8', '/', '3/2'];
/**
 * Header fields a generated tune may have: those of the corpus (X: starts a tune). Free-text fields
 * the corpus lacks (C:, N:, …) only gave the model room to write music where text belongs.
 */
const FIELDS = new Set(['T', 'Z', 'M', 'L', 'K']);
/** Fields before K: at most (X: among them), so a header always ends. */
const MAX_HEADER_FIELDS = 5;
const MODE_NAMES = [
  'major',
  'minor',
  'ionian',
  'aeolian',
  'dorian',
  'phrygian',
  'lydian',
  'mixolydian',
  'locrian',
];
const NOTE_LETTERS = /^[A-Ga-g]$/;
const ACCIDENTALS = new Set(['^', '_', '=']);
/** The body's characters; anything else (quotes, grace notes, decorations, comments) is masked. */
const BODY = new Set([..."ABCDEFGabcdefgzx0123456789/|:[]()<>-^_=',~. !\n"]);
/** Characters at the end of the line that the lexical rules read (the longest is a tied note's). */
const TAIL = 24;
/** Characters of a free-text field (title, composer, id). */
const FREE_TEXT = /^[A-Za-z0-9 '.,:()&-]$/;
/** A tie and what has been written of the note it holds: that note must be spelled the same. */
const TIE_TAIL = /((?:\^\^|\^|__|_|=)?[A-Ga-g][',]*)\d*\/*\d*-((?:\^\^|\^|__|_|=)?(?:[A-Ga-g][',]*)?)$/;
/** A note or rest at the end of the text, with its octave marks and its length so far. */
const NOTE_TAIL = /(?:\^\^|\^|__|_|=)?([A-Ga-gzx])([',]*)(\d*\/*\d*)$/;
/** Two notes joined by a broken-rhythm mark: the second must be written as long as the first. */
const BROKEN_TAIL = /[A-Ga-gzx][',]*(\d*\/*\d*)[<>](?:\^\^|\^|__|_|=)?[A-Ga-gzx][',]*(\d*\/*\d*)$/;
const BAR_TAIL = /(?:\|\]|\|\||:\||\||::|\|:)$/;

/** The end of the line as the lexical rules read it (see AbcGuide.lex). */
interface Lex {
  readonly line: string;
  readonly last: string;
  /** The form is complete. */
  readonly done: boolean;
  /** The line ends with a bar line. */
  readonly barTail: boolean;
  /** A tie, the note it holds and what is written of the note that continues it. */
  readonly tie: { readonly held: string; readonly typed: string } | null;
  /** The length text of the note at the end of the line, while it may still grow; else null. */
  readonly noteLength: string | null;
  readonly letter: string;
  readonly marks: string;
  /** The note at the end is the second of a broken-rhythm pair. */
  readonly inPair: boolean;
  /** Lengths the note at the end may take; `poolNew`, those of a note that starts next. */
  readonly pool: readonly string[];
  readonly poolNew: readonly string[];
  /** The note at the end has a whole length from its pool. */
  readonly complete: boolean;
}

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

interface HeaderRule {
  /** The value so far can still become a valid one. */
  readonly prefix: RegExp;
  readonly complete: (value: string) => boolean;
}

/** A value rule that takes one of a few words (and any prefix of one while it is written). */
function oneOf(words: readonly string[], parse: (v: string) => unknown): HeaderRule {
  return {
    prefix: { test: (v: string) => words.some((w) => w.startsWith(v)) } as RegExp,
    complete: (v) => words.includes(v) && parse(v) !== null,
  };
}

/** The meters of folk tunes (the corpus has C, C|, 2/4, 3/4, 6/8, 9/8). */
const METERS = ['C', 'C|', '2/2', '3/2', '2/4', '3/4', '4/4', '3/8', '6/8', '9/8', '12/8'];

const HEADER_RULES: Record<string, HeaderRule> = {
  X: { prefix: /^\d*$/, complete: (v) => /^\d+$/.test(v) },
  M: oneOf(METERS, parseMeter),
  L: oneOf(['1/4', '1/8', '1/16'], parseUnitLength),
  K: {
    prefix: /^(?:[A-G][#b]?(?: ?[A-Za-z]*)?)?$/,
    complete: (v) => /^[A-G][#b]?(?: ?[A-Za-z]+)?$/.test(v) && parseKey(v) !== null,
  },
};

function keyWordOk(value: string): boolean {
  const word = /^[A-G][#b]? ?([A-Za-z]*)$/.exec(value)?.[1]?.toLowerCase() ?? '';
  return word === '' || word === 'm' || MODE_NAMES.some((m) => m.startsWith(word));
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
  private tracker: FormTracker | null;
  /** The current line as written (the lexical rules look at its end). */
  private line = '';
  private tonic: string | null = null;
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
  }

  /** An independent guide at the same point (for an improviser's snapshots). */
  clone(): AbcGuide {
    return Object.assign(new AbcGuide(this.vocabulary, this.opts), this, {
      reader: this.reader.clone(),
      tracker: this.tracker?.clone() ?? null,
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
    for (const raw of events) {
      const e = this.forgiven(raw);
      if (e.type === 'bar' && e.fit !== 'empty') this.forgive = false;
      if (e.type === 'tune') {
        this.tracker = this.opts.form ? new FormTracker(this.opts.form) : null;
        this.fields.clear();
      }
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
    this.biasTonic(logits, base);
    return true;
  }

  private fill(allowed: Uint8Array, base: Probe | null): boolean {
    const step: Step = { base, cache: new Map(), lex: null };
    let any = false;
    for (let i = 0; i < this.vocabulary.length; i++) {
      const ok = this.allows(this.vocabulary[i] as string, step);
      allowed[i] = ok ? 1 : 0;
      any ||= ok;
    }
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
    step.fieldLine ??= section !== 'body' || /^[A-Za-z]:/.test(line);
    if (step.fieldLine) return this.headerAllows(ch, section);
    // the rules look at the end of the line only: a note, a tie, a pair, a bar line (regexes stay cheap)
    const tail = line.slice(-TAIL);
    step.lex ??= this.lex(tail, base?.tracker?.done ?? false);
    const lex = step.lex;
    if (!this.lexicallyAllowed(ch, lex)) return false;
    if (ch === '(' && (base?.bar.tupletLeft ?? 0) > 0) return false; // no tuplet inside a tuplet
    if (base && !this.forgive && /^[0-9/]$/.test(ch) && lex.noteLength !== null)
      return this.lengthFits(base, lex, ch);
    if ((ch === '|' || ch === ':') && base && !this.forgive && !this.mayClose(base)) return false;
    const [key, stand] = this.classOf(ch, tail);
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const ok = this.probeAllows(stand, lex);
    cache.set(key, ok);
    return ok;
  }

  private headerAllows(ch: string, section: BarState['section']): boolean {
    const line = this.line;
    if (section === 'body' && line.length <= 1) return false; // a field line inside the body
    if (line === '') {
      if (section === 'idle') return ch === 'X';
      if (this.fields.size >= MAX_HEADER_FIELDS) return ch === 'K';
      return FIELDS.has(ch) && !this.fields.has(ch);
    }
    if (line.length === 1) return ch === ':';
    const field = line[0] as string;
    if (section === 'idle' && field !== 'X') return false;
    const value = line.slice(2);
    const rule = HEADER_RULES[field];
    if (ch === '\n') return rule ? rule.complete(value.trim()) : value.trim().length > 0;
    if (!rule) return FREE_TEXT.test(ch);
    const next = `${value}${ch}`.replace(/^ /, '');
    return rule.prefix.test(next) && (field !== 'K' || keyWordOk(next));
  }

  /** The notation rules that need no reader: what may follow what in a folk tune's body. */
  /** What the end of the line says, read once a step for every character's lexical rule. */
  private lex(line: string, done: boolean): Lex {
    const tie = TIE_TAIL.exec(line);
    const note = NOTE_TAIL.exec(line);
    const lengthOpen = note !== null && !/[|\]:[]\d*$/.test(line);
    const pair = BROKEN_TAIL.exec(line);
    const pool = pair ? [pair[1] ?? ''] : LENGTHS;
    const noteLength = lengthOpen ? (note[3] ?? '') : null;
    const next = /[A-Ga-gzx][',]*(\d*\/*\d*)[<>](?:\^\^|\^|__|_|=)?$/.exec(line);
    return {
      line,
      last: line[line.length - 1] ?? '',
      done,
      barTail: BAR_TAIL.test(line),
      tie: tie ? { held: tie[1] ?? '', typed: tie[2] ?? '' } : null,
      noteLength,
      letter: note?.[1] ?? '',
      marks: note?.[2] ?? '',
      inPair: pair !== null,
      pool,
      poolNew: next ? [next[1] ?? ''] : LENGTHS,
      complete: noteLength !== null && pool.includes(noteLength),
    };
  }

  /** The notation rules that need no reader: what may follow what in a folk tune's body. */
  private lexicallyAllowed(ch: string, x: Lex): boolean {
    if (!BODY.has(ch)) return false;
    const { line, last } = x;
    if (x.done) {
      if (line === '' || last === '!') return ch === '\n';
      return x.barTail && (ch === '\n' || ch === '!');
    }
    if (last === '!') return ch === '\n';
    if (ch === '!' || ch === '\n') return line === '' ? ch === '\n' : x.barTail;
    if (x.tie) {
      // a tie holds the same note, in the same bar: it is spelled again, then takes its length
      const { held, typed } = x.tie;
      if (typed !== held) return held.startsWith(typed + ch);
      if (ch === "'" || ch === ',') return false;
    }
    if (ACCIDENTALS.has(last))
      return NOTE_LETTERS.test(ch) || (ch === last && ch !== '=' && line.at(-2) !== ch);
    if (last === '(') return ch >= '2' && ch <= '9';
    if (last === '~' || last === '.') return NOTE_LETTERS.test(ch) || ACCIDENTALS.has(ch);
    if (last === '>' || last === '<') return NOTE_LETTERS.test(ch) || ACCIDENTALS.has(ch) || ch === 'z';
    if (last === '[') return ch === '1' || ch === '2';
    // `:|` only: abc2midi miscounts bars around `::`, so a part closes with `:|` and the next opens with `|:`
    if (last === ':' && !line.endsWith('|:')) return ch === '|';
    if (/\(\d$/.test(line)) return NOTE_LETTERS.test(ch) || ACCIDENTALS.has(ch) || ch === '~' || ch === '.';
    const { noteLength } = x;
    if ((ch >= '0' && ch <= '9') || ch === '/') {
      if (noteLength !== null) return x.pool.some((l) => l.startsWith(`${noteLength}${ch}`));
      return (ch === '1' || ch === '2') && last === '|' && !line.endsWith('|]');
    }
    // a character that ends a note's length finds it complete (abc2midi wants a pair's notes equal)
    if (noteLength !== null && ch !== "'" && ch !== ',' && !x.complete) return false;
    if (ch === "'") return noteLength === '' && /^[a-g]$/.test(x.letter) && !x.marks.includes(',');
    if (ch === ',') return noteLength === '' && /^[A-G]$/.test(x.letter) && !x.marks.includes("'");
    if (ch === '-') return x.complete;
    if (ch === '>' || ch === '<') return x.complete && !x.inPair;
    if (ch === ']') return last === '|' && !/(?:\|\||:\|)$/.test(line);
    if (ch === '[') return line === '' || (x.barTail && !line.endsWith('|]'));
    if (ch === ' ') return line !== '' && last !== ' ' && last !== '-';
    if (ch === '|') return !/(?:\|\||\|\]|\|:|::|:\|)$/.test(line) && !/[|[]\d$/.test(line);
    if (ch === ':') return !/(?:\|\]|::|:\|)$/.test(line) && !/[|[]\d$/.test(line);
    if (ch === ')') return false;
    return true; // note letters, rests, accidentals, '(' , '~', '.'
  }

  /**
   * Characters that a probe cannot tell apart share its answer, and one of them stands for all: every
   * note letter, rest, accidental and decoration starts a note whose length is still open (the tie
   * rule, which tells letters apart, is lexical).
   */
  private classOf(ch: string, line: string): [key: string, stand: string] {
    if (/-$/.test(line)) return [ch, ch];
    if (NOTE_LETTERS.test(ch) || ACCIDENTALS.has(ch) || ch === 'z' || ch === 'x' || ch === '~' || ch === '.')
      return ['note', 'A'];
    return [ch, ch];
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
    const shortest = Math.min(...choices.map((l) => multiplierOf(l))) * per;
    // notes a tuplet still owes are as long as this one (tuplet notes take no length of their own)
    const owed = bar.lastInTuplet ? bar.tupletLeft * per : 0;
    return room + bar.last - shortest - owed > -TIME_EPSILON;
  }

  private probeAllows(ch: string, lex: Lex): boolean {
    const { line } = lex;
    // a tuplet's number is judged with all its notes written
    const completions = line.endsWith('(') ? ['A'.repeat(Number(ch))] : (COMPLETIONS[ch] ?? ['']);
    // a tied note's letter may still take the octave mark that makes it the same note
    const tieLater = NOTE_LETTERS.test(ch) || ACCIDENTALS.has(ch);
    for (const rest of completions) {
      const p = this.probe(ch + rest, tieLater);
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
    if (bar.brokenPending) return room > TIME_EPSILON; // the note after the mark needs some room
    if (ch === '-') return room > TIME_EPSILON; // and so does the note a tie holds
    const written = `${line}${ch}${rest}`;
    const note = NOTE_TAIL.exec(written);
    const lengthOpen =
      rest === '' &&
      note !== null &&
      !/[|\]:]\d*$/.test(written) &&
      (NOTE_LETTERS.test(ch) || /[0-9/zx]/.test(ch));
    if (!lengthOpen || bar.last <= 0) return room > -TIME_EPSILON;
    // The note's length may still change: judge it by the shortest it can become.
    const text = note[3] ?? '';
    const starts = NOTE_LETTERS.test(ch) || ch === 'z' || ch === 'x'; // a new note, or the open one growing
    return this.shortestFits(p, starts ? lex.poolNew : lex.pool, text, multiplierOf(text));
  }

  /** Runs `text` through clones of the reader and the form; null when it breaks either. */
  private probe(text: string, tieLater = false): Probe | null {
    const reader = this.reader.clone();
    const tracker = this.tracker?.clone() ?? null;
    const ties = reader.stats.danglingTies;
    const events = [...reader.push(text), ...reader.settle()].map((e) => this.forgiven(e));
    for (const e of events) {
      if (e.type === 'skip') return null;
      if (e.type === 'bar' && !RIGHT_FITS.has(e.fit) && e.fit !== 'empty') return null;
      // a pickup is a lead-in: at most half a bar (the corpus's are one to three notes)
      if (e.type === 'bar' && e.fit === 'pickup' && e.length > reader.bar.meter / 2 + TIME_EPSILON)
        return null;
      if (e.type === 'tune' && this.reader.bar.section !== 'idle') return null;
      if (e.type === 'header' && this.reader.bar.section === 'body') return null; // no field lines in the body
      tracker?.push(e);
    }
    if (tracker?.broken) return null;
    // a note still waiting for its length has not reached the tracker as an event yet
    if (tracker && reader.bar.last > 0 && !tracker.takesMusic) return null;
    if (!tieLater && reader.stats.danglingTies > ties) return null;
    return { bar: reader.bar, tracker };
  }

  /** In the second half of a part's last bar, the key's tonic is made likelier (a bias, not a rewrite). */
  private biasTonic(logits: Float32Array, base: Probe | null): void {
    const bias = this.opts.tonicBias ?? DEFAULT_TONIC_BIAS;
    if (!bias || !this.tonic || !base?.tracker?.inLastBar || base.bar.section !== 'body') return;
    const { meter, elapsed } = base.bar;
    if (meter <= 0 || base.tracker.barLimit(meter) - elapsed > meter / 2 + TIME_EPSILON) return;
    const lower = this.tonic.toLowerCase();
    for (let i = 0; i < this.vocabulary.length; i++) {
      const ch = this.vocabulary[i];
      if (ch === this.tonic || ch === lower) logits[i] = (logits[i] as number) + bias;
    }
  }
}

/** How to finish a token that a character opens, to judge it (tried in order; '' is the character alone). */
const COMPLETIONS: Record<string, readonly string[]> = {
  ':': ['|'],
  '|': ['', '|', ']', ':', '1'],
  '[': ['1', '2'],
  '(': ['3ABc', '2AB'],
  '^': ['A'],
  _: ['A'],
  '=': ['A'],
  '~': ['A'],
  '.': ['A'],
};

function multiplierOf(length: string): number {
  const m = /^(\d*)(\/*)(\d*)$/.exec(length) as RegExpExecArray;
  return lengthMultiplier(m[1] ?? '', m[2] ?? '', m[3] ?? '');
}
