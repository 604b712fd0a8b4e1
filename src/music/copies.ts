/**
 * How much of a generated text is copied from the training text: the longest verbatim run, and the
 * share of characters inside runs of at least a given length. A suffix automaton of the training text
 * answers, for each position of the generated text, the longest run ending there that also occurs in
 * the training text, in one pass (matching statistics).
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

export class CopyFinder {
  // State i: link[i], len[i], and its transitions as pairs [code, target, code, target, …] (most
  // states have one or two, so a flat list beats a map per state in time and memory).
  private readonly link: number[] = [-1];
  private readonly len: number[] = [0];
  private readonly edges: number[][] = [[]];

  constructor(training: string) {
    let last = 0;
    for (let i = 0; i < training.length; i++) last = this.extend(last, training.charCodeAt(i));
  }

  private go(state: number, code: number): number | undefined {
    const e = this.edges[state] as number[];
    for (let i = 0; i < e.length; i += 2) if (e[i] === code) return e[i + 1];
    return undefined;
  }

  private set(state: number, code: number, to: number): void {
    const e = this.edges[state] as number[];
    for (let i = 0; i < e.length; i += 2)
      if (e[i] === code) {
        e[i + 1] = to;
        return;
      }
    e.push(code, to);
  }

  private extend(last: number, code: number): number {
    const cur = this.len.length;
    this.len.push((this.len[last] as number) + 1);
    this.link.push(0);
    this.edges.push([]);
    let p = last;
    while (p !== -1 && this.go(p, code) === undefined) {
      this.set(p, code, cur);
      p = this.link[p] as number;
    }
    if (p === -1) return cur;
    const q = this.go(p, code) as number;
    if ((this.len[p] as number) + 1 === this.len[q]) {
      this.link[cur] = q;
      return cur;
    }
    const clone = this.len.length;
    this.len.push((this.len[p] as number) + 1);
    this.link.push(this.link[q] as number);
    this.edges.push([...(this.edges[q] as number[])]);
    while (p !== -1 && this.go(p, code) === q) {
      this.set(p, code, clone);
      p = this.link[p] as number;
    }
    this.link[q] = clone;
    this.link[cur] = clone;
    return cur;
  }

  /** The longest copied run in `text`, and the share covered by runs of at least `minRun` characters. */
  measure(text: string, minRun: number): CopyReport {
    let state = 0;
    let length = 0;
    let longest = 0;
    const covered = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      while (state !== 0 && this.go(state, code) === undefined) {
        state = this.link[state] as number;
        length = this.len[state] as number;
      }
      const to = this.go(state, code);
      if (to === undefined) {
        state = 0;
        length = 0;
      } else {
        state = to;
        length++;
      }
      longest = Math.max(longest, length);
      if (length >= minRun) covered.fill(1, i - length + 1, i + 1);
    }
    const n = covered.reduce((a, b) => a + b, 0);
    return { longest, covered: text.length ? n / text.length : 0 };
  }
}
