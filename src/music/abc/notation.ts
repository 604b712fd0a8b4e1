/**
 * The notation a generated folk tune keeps to, as rules on the text alone: what may follow what in
 * a tune's body (notes with the corpus's lengths, bar lines, repeats and endings, tuplets, broken
 * rhythm, ties) and on its header lines (known fields, values that parse). The guide (guide.ts)
 * asks these first, and the streaming reader's probes only for what they let through.
 */
import { parseKey, parseMeter, parseUnitLength } from './key.ts';
import { lengthMultiplier, type BarState } from './reader.ts';

/**
 * Note lengths the guide lets the model write (the corpus uses '', 2, 3, 4, 6, / and 3/2). Tuplet notes
 * take none of their own, and the second note of a broken-rhythm pair is written as long as the first,
 * so the room left in a bar stays a whole number of the shortest length and a bar can always be filled.
 */
export const LENGTHS = ['', '2', '3', '4', '6', '8', '/', '3/2'];
/**
 * Header fields a generated tune may have: those of the corpora (X: starts a tune; R:, the tune's kind,
 * is in the house style of music/abc/clean.ts), each once, so a
 * header always comes to its K:. Free-text fields the corpus lacks (C:, N:, …) only gave the model
 * room to write music where text belongs.
 */
const FIELDS = new Set(['T', 'Z', 'R', 'M', 'L', 'K']);
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
export const NOTE_LETTERS = /^[A-Ga-g]$/;
export const ACCIDENTALS = new Set(['^', '_', '=']);
/**
 * The body's characters; anything else (quotes, grace notes, decorations, comments) is masked. The
 * corpus has no decorations, and abc2midi shortens a staccato note so a broken-rhythm pair fails.
 */
const BODY = new Set([..."ABCDEFGabcdefgzx0123456789/|:[]()<>-^_=', !\n"]);
/** Characters at the end of the line that the lexical rules read (the longest is a tied note's). */
export const TAIL = 24;
/** Characters of a free-text field (title, composer, id). */
const FREE_TEXT = /^[A-Za-z0-9 '.,:()&-]$/;
/** A tie and what has been written of the note it holds: that note must be spelled the same. */
const TIE_TAIL = /((?:\^\^|\^|__|_|=)?[A-Ga-g][',]*)\d*\/*\d*-((?:\^\^|\^|__|_|=)?(?:[A-Ga-g][',]*)?)$/;
/** A note or rest at the end of the text, with its octave marks and its length so far. */
export const NOTE_TAIL = /(?:\^\^|\^|__|_|=)?([A-Ga-gzx])([',]*)(\d*\/*\d*)$/;
/** Two notes joined by a broken-rhythm mark: the second must be written as long as the first. */
const BROKEN_TAIL = /[A-Ga-gzx][',]*(\d*\/*\d*)[<>](?:\^\^|\^|__|_|=)?[A-Ga-gzx][',]*(\d*\/*\d*)$/;
const BAR_TAIL = /(?:\|\]|\|\||:\||\||::|\|:)$/;

/** Patterns the hot paths test (a literal in a function is a new RegExp each time it runs). */
const TUPLET_OPEN = /\(\d$/;
const LOWER_LETTER = /^[a-g]$/;
const UPPER_LETTER = /^[A-G]$/;
const DOUBLE_OR_END_BAR = /(?:\|\||:\|)$/;
const CLOSED_BAR_FOR_PIPE = /(?:\|\||\|\]|\|:|::|:\|)$/;
const CLOSED_BAR_FOR_COLON = /(?:\|\]|::|:\||\|:)$/;
const ENDING_NUMBER = /[|[]\d$/;
const BAR_NUMBER_TAIL = /[|\]:[]\d*$/;
const PAIR_OPEN_TAIL = /[A-Ga-gzx][',]*(\d*\/*\d*)[<>](?:\^\^|\^|__|_|=)?$/;
const TIED_TAIL = /-(?:\^\^|\^|__|_|=)?[A-Ga-g][',]*\d*\/*\d*$/;
const LENGTH_TEXT = /^(\d*)(\/*)(\d*)$/;

/** The end of the line as the lexical rules read it (see AbcGuide.lex). */
export interface Lex {
  readonly line: string;
  readonly last: string;
  /** The form is complete. */
  readonly done: boolean;
  /** The line ends with a bar line. */
  readonly barTail: boolean;
  /** The line without its trailing spaces (what the bar-line rules read). */
  readonly bare: string;
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
  /** The note at the end continues a tie. */
  readonly tied: boolean;
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
  // abc2midi refuses a reference number it cannot hold ("Number too big")
  X: { prefix: /^\d{0,4}$/, complete: (v) => /^\d{1,4}$/.test(v) },
  M: oneOf(METERS, parseMeter),
  L: oneOf(['1/4', '1/8', '1/16'], parseUnitLength),
  K: {
    prefix: /^(?:[A-G][#b]?(?: ?[A-Za-z]*)?)?$/,
    complete: (v) => /^[A-G][#b]?(?: ?[A-Za-z]+)?$/.test(v) && parseKey(v) !== null,
  },
};

const HORNPIPE_METER = oneOf(['C', '2/4', '4/4'], parseMeter);

function keyWordOk(value: string): boolean {
  const word = /^[A-G][#b]? ?([A-Za-z]*)$/.exec(value)?.[1]?.toLowerCase() ?? '';
  return word === '' || word === 'm' || MODE_NAMES.some((m) => m.startsWith(word));
}

/**
 * Whether `ch` may come next on a header line (or, outside a tune, on the X: line that starts one):
 * known fields, each once (`fields`: those already written), values that can still parse.
 */
export function headerAllows(
  ch: string,
  line: string,
  section: BarState['section'],
  fields: ReadonlySet<string>,
  kind: string | null = null,
): boolean {
  if (section === 'body' && line.length <= 1) return false; // a field line inside the body
  if (line === '') {
    if (section === 'idle') return ch === 'X';
    // each field once; K: (which ends the header) after M:, or abc2midi warns of a missing meter
    return FIELDS.has(ch) && !fields.has(ch) && (ch !== 'K' || fields.has('M'));
  }
  if (line.length === 1) return ch === ':';
  const field = line[0] as string;
  if (section === 'idle' && field !== 'X') return false;
  const value = line.slice(2);
  // abc2midi swings a hornpipe, and refuses one whose meter is not 2/4 or 4/4
  const rule = field === 'M' && kind === 'hornpipe' ? HORNPIPE_METER : HEADER_RULES[field];
  if (ch === '\n') return rule ? rule.complete(value.trim()) : value.trim().length > 0;
  if (!rule) return FREE_TEXT.test(ch);
  const next = `${value}${ch}`.replace(/^ /, '');
  return rule.prefix.test(next) && (field !== 'K' || keyWordOk(next));
}

/**
 * What the end of the line says, read once a step for every character's body rule; `lengths`: the
 * note lengths allowed in this meter (lengths.ts; default all of LENGTHS).
 */
export function readLex(line: string, done: boolean, lengths: readonly string[] = LENGTHS): Lex {
  const tie = TIE_TAIL.exec(line);
  const note = NOTE_TAIL.exec(line);
  const lengthOpen = note !== null && !BAR_NUMBER_TAIL.test(line);
  const pair = BROKEN_TAIL.exec(line);
  const pool = pair ? [pair[1] ?? ''] : lengths;
  const noteLength = lengthOpen ? (note[3] ?? '') : null;
  const next = PAIR_OPEN_TAIL.exec(line);
  const bare = line.replace(/ +$/, '');
  return {
    line,
    last: line[line.length - 1] ?? '',
    done,
    barTail: BAR_TAIL.test(bare),
    bare,
    tie: tie ? { held: tie[1] ?? '', typed: tie[2] ?? '' } : null,
    noteLength,
    letter: note?.[1] ?? '',
    marks: note?.[2] ?? '',
    inPair: pair !== null,
    pool,
    poolNew: next ? [next[1] ?? ''] : lengths,
    complete: noteLength !== null && pool.includes(noteLength),
    tied: TIED_TAIL.test(line),
  };
}

/** The notation rules that need no reader: what may follow what in a folk tune's body. */
export function bodyAllows(ch: string, x: Lex): boolean {
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
  // duplets, triplets, quadruplets: (5 to (9 mean different things in simple and compound time
  if (last === '(') return ch >= '2' && ch <= '4';
  if (last === '>' || last === '<') return NOTE_LETTERS.test(ch) || ACCIDENTALS.has(ch) || ch === 'z';
  if (last === '[') return ch === '1' || ch === '2';
  // `:|` only: abc2midi miscounts bars around `::`, so a part closes with `:|` and the next opens with `|:`
  if (last === ':' && !line.endsWith('|:')) return ch === '|';
  if (TUPLET_OPEN.test(line)) return NOTE_LETTERS.test(ch) || ACCIDENTALS.has(ch);
  const { noteLength } = x;
  if ((ch >= '0' && ch <= '9') || ch === '/') {
    // a length in the pool that goes on as written so far and then with ch (no string built: this
    // runs for every digit, every step)
    if (noteLength !== null) {
      const n = noteLength.length;
      for (const l of x.pool) if (l.length > n && l.startsWith(noteLength) && l[n] === ch) return true;
      return false;
    }
    return (ch === '1' || ch === '2') && last === '|' && !line.endsWith('|]');
  }
  // a character that ends a note's length finds it complete (abc2midi wants a pair's notes equal)
  if (noteLength !== null && ch !== "'" && ch !== ',' && !x.complete) return false;
  if (ch === "'") return noteLength === '' && LOWER_LETTER.test(x.letter) && !x.marks.includes(',');
  if (ch === ',') return noteLength === '' && UPPER_LETTER.test(x.letter) && !x.marks.includes("'");
  const rest = x.letter === 'z' || x.letter === 'x';
  // a rest holds nothing to tie; abc2midi pairs neither a tied note nor a tie from a pair's second
  if (ch === '-') return x.complete && !rest && !x.inPair;
  if (ch === '>' || ch === '<') return x.complete && !x.inPair && !x.tied;
  if (ch === ']') return last === '|' && !DOUBLE_OR_END_BAR.test(line);
  if (ch === '[') return line === '' || (x.barTail && !line.endsWith('|]'));
  if (ch === ' ') return line !== '' && last !== ' ' && last !== '-';
  // bar lines: one token at a time, no empty bars between them (spaces do not separate two bar lines)
  const { bare } = x;
  if (ch === '|') return !CLOSED_BAR_FOR_PIPE.test(bare) && !ENDING_NUMBER.test(bare);
  if (ch === ':') return last !== ':' && !CLOSED_BAR_FOR_COLON.test(bare) && !ENDING_NUMBER.test(bare);
  if (ch === ')') return false;
  return true; // note letters, rests, accidentals, '('
}

export function multiplierOf(length: string): number {
  const m = LENGTH_TEXT.exec(length) as RegExpExecArray;
  return lengthMultiplier(m[1] ?? '', m[2] ?? '', m[3] ?? '');
}
