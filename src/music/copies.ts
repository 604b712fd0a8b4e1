/**
 * How much of a generated text is copied from the training text: the longest verbatim run, and the
 * share of characters inside runs of at least a given length. A suffix automaton of the training text
 * answers, for each position of the generated text, the longest run ending there that also occurs in
 * the training text, in one pass (matching statistics). The same automaton over token ids is what
 * bounds copies while a model plays (model/copyGuard.ts).
 *
 * Hand-written: the npm packages for suffix structures build suffix arrays by sorting (slow at 200 K
 * characters) or answer other questions; this is the textbook construction, about forty lines.
 */

export interface CopyReport {
  /** Characters in the longest run found verbatim in the training text. */
  readonly longest: number;
  /** Share of the text's characters that lie in a copied run of at least `minRun` characters. */
  readonly covered: number;
}

/**
 * A suffix automaton over sequences of integer symbols (characters, token ids, rhythm classes). Each
 * state stands for a set of substrings of the training sequences that end at the same places; `step`
 * extends a match by one symbol, falling back along suffix links when the match cannot go on
 * (matching statistics). Several sequences are joined with a separator no line ever holds, so no copy
 * runs across two of them.
 */
export class SuffixAutomaton {
  // While building, state i is link[i], len[i] and its transitions as pairs [code, target, …] (most
  // states have one or two, so a flat list beats a map per state). Once built, the same in typed arrays
  // (transitions of all states back to back, `from[i]` to `from[i + 1]`), which a live step reads
  // with few cache misses, and a map for each state with many transitions (the root has one per
  // symbol: a vocabulary's worth), so that a step costs the same whatever the alphabet.
  private build: { link: number[]; len: number[]; edges: number[][] } | null = {
    link: [-1],
    len: [0],
    edges: [[]],
  };
  private readonly link: Int32Array;
  private readonly len: Int32Array;
  private readonly from: Int32Array;
  private readonly pairs: Int32Array;
  private readonly wide = new Map<number, Map<number, number>>();

  /** The separator between sequences: no symbol a caller steps with. */
  static readonly SEPARATOR = -1;

  constructor(sequences: Iterable<ArrayLike<number>>) {
    let last = 0;
    let first = true;
    for (const seq of sequences) {
      if (!first) last = this.extend(last, SuffixAutomaton.SEPARATOR);
      first = false;
      for (let i = 0; i < seq.length; i++) last = this.extend(last, seq[i] as number);
    }
    const b = this.build as NonNullable<typeof this.build>;
    this.link = Int32Array.from(b.link);
    this.len = Int32Array.from(b.len);
    this.from = new Int32Array(b.edges.length + 1);
    b.edges.forEach((e, i) => (this.from[i + 1] = (this.from[i] as number) + e.length));
    this.pairs = new Int32Array(this.from[b.edges.length] as number);
    b.edges.forEach((e, state) => {
      this.pairs.set(e, this.from[state]);
      if (e.length > 2 * WIDE) {
        const m = new Map<number, number>();
        for (let i = 0; i < e.length; i += 2) m.set(e[i] as number, e[i + 1] as number);
        this.wide.set(state, m);
      }
    });
    this.build = null;
  }

  /** How many states (a measure of its size). */
  get size(): number {
    return this.len.length;
  }

  /** The state reached from `state` by `code`, or undefined. */
  go(state: number, code: number): number | undefined {
    const m = this.wide.get(state);
    if (m) return m.get(code);
    const end = this.from[state + 1] as number;
    for (let i = this.from[state] as number; i < end; i += 2)
      if (this.pairs[i] === code) return this.pairs[i + 1];
    return undefined;
  }

  /** The symbols `state` goes on with, as [code, target, …] pairs (a view: read it, do not keep it). */
  edgesOf(state: number): Int32Array {
    return this.pairs.subarray(this.from[state], this.from[state + 1]);
  }

  /** The longest substring a state stands for. */
  lengthOf(state: number): number {
    return this.len[state] as number;
  }

  /** The state of the next shorter suffixes (−1 from the root). */
  linkOf(state: number): number {
    return this.link[state] as number;
  }

  /**
   * The match after one more symbol: from a match of `length` symbols in `state`, the longest suffix
   * of it plus `code` that occurs in the training sequences, as [state, length].
   */
  step(state: number, length: number, code: number): [number, number] {
    const to = this.advance(state, length, code);
    return [to, this.matched];
  }

  /** The match's length after the last `advance`. */
  matched = 0;

  /** `step` without an allocation, for the live path: returns the state, and leaves the length in `matched`. */
  advance(state: number, length: number, code: number): number {
    while (state !== 0 && this.go(state, code) === undefined) {
      state = this.link[state] as number;
      length = this.len[state] as number;
    }
    const to = this.go(state, code);
    if (to === undefined) {
      this.matched = 0;
      return 0;
    }
    this.matched = length + 1;
    return to;
  }

  private scan(state: number, code: number): number | undefined {
    const e = (this.build as NonNullable<typeof this.build>).edges[state] as number[];
    for (let i = 0; i < e.length; i += 2) if (e[i] === code) return e[i + 1];
    return undefined;
  }

  private set(state: number, code: number, to: number): void {
    const e = (this.build as NonNullable<typeof this.build>).edges[state] as number[];
    for (let i = 0; i < e.length; i += 2)
      if (e[i] === code) {
        e[i + 1] = to;
        return;
      }
    e.push(code, to);
  }

  private extend(last: number, code: number): number {
    const { link, len, edges } = this.build as NonNullable<typeof this.build>;
    const cur = len.length;
    len.push((len[last] as number) + 1);
    link.push(0);
    edges.push([]);
    let p = last;
    while (p !== -1 && this.scan(p, code) === undefined) {
      this.set(p, code, cur);
      p = link[p] as number;
    }
    if (p === -1) return cur;
    const q = this.scan(p, code) as number;
    if ((len[p] as number) + 1 === len[q]) {
      link[cur] = q;
      return cur;
    }
    const clone = len.length;
    len.push((len[p] as number) + 1);
    link.push(link[q] as number);
    edges.push([...(edges[q] as number[])]);
    while (p !== -1 && this.scan(p, code) === q) {
      this.set(p, code, clone);
      p = link[p] as number;
    }
    link[q] = clone;
    link[cur] = clone;
    return cur;
  }

  /** For each position of `seq`, the longest run ending there that occurs in the training sequences. */
  runs(seq: ArrayLike<number>): Int32Array {
    const out = new Int32Array(seq.length);
    let state = 0;
    let length = 0;
    for (let i = 0; i < seq.length; i++) {
      [state, length] = this.step(state, length, seq[i] as number);
      out[i] = length;
    }
    return out;
  }

  /** The longest run of `seq` found in the training sequences. */
  longest(seq: ArrayLike<number>): number {
    return this.runs(seq).reduce((a, b) => Math.max(a, b), 0);
  }
}

/** States with more transitions than this get a map (built once the automaton is complete). */
const WIDE = 8;

/** A text's UTF-16 code units, as the automaton's symbols. */
function codes(text: string): Int32Array {
  const out = new Int32Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Verbatim copies of a training text, by character. */
export class CopyFinder {
  private readonly automaton: SuffixAutomaton;

  constructor(training: string) {
    this.automaton = new SuffixAutomaton([codes(training)]);
  }

  /** The longest copied run in `text`, and the share covered by runs of at least `minRun` characters. */
  measure(text: string, minRun: number): CopyReport {
    const runs = this.automaton.runs(codes(text));
    let longest = 0;
    const covered = new Uint8Array(text.length);
    runs.forEach((length, i) => {
      longest = Math.max(longest, length);
      if (length >= minRun) covered.fill(1, i - length + 1, i + 1);
    });
    const n = covered.reduce((a, b) => a + b, 0);
    return { longest, covered: text.length ? n / text.length : 0 };
  }
}
