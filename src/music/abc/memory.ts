/**
 * Form memory for a char model writing a tune: where the corpus's forms restate what a tune has
 * already said, the characters that would go on restating it are made likelier — a bias toward
 * continuing the earlier bar, never a rewrite (the model may leave it at any character, and from then
 * on the bar is its own).
 *
 * Where the corpus restates (music/abc/form.ts counts parts the same way):
 * - bar 5 of a part restates bar 1, bar 6 bar 2, and so on (a part's second phrase answers its first);
 * - a second ending restates the first ending;
 * - a later part's last two bars restate the first part's (the tune's cadence).
 *
 * The bar's text is compared without spaces; pickups (the reader's `pickup` bars) are not counted as
 * bars. Hand-written: this is the sampler's own state, read one character at a time.
 */
import type { AbcEvent } from './reader.ts';

type BarEvent = Extract<AbcEvent, { type: 'bar' }>;

interface Structure {
  readonly bars: readonly Bar[];
  readonly part: number;
  readonly index: number;
  readonly ending: number | null;
}

interface Bar {
  readonly text: string;
  readonly part: number;
  /** Index within its part, pickups not counted. */
  readonly index: number;
  readonly ending: number | null;
}

/** Bar-line tokens in the order the reader reads them (endings after a bar line, or `[1`). */
const BAR_LINE = /^(?:\|\]|\|\||\[\||:\||\|:|::|\||\[(?=\d))\d?/;

/** The characters a bar line starts with. */
const BAR_STARTS: readonly string[] = ['|', ':'];

export class FormMemory {
  /** Bars closed so far: their text (no spaces) and the bar line that closed them. */
  private closed: { readonly text: string; readonly line: string }[] = [];
  /** Text of the open bar (no spaces), and of the bar line being written. */
  private open = '';
  private pendingLine = '';
  private inBody = false;
  /** The line being written (field lines are told from music by it). */
  private line = '';
  /** The reader's bar events, in the order of the bar lines (they lag the text by a few characters). */
  private events: BarEvent[] = [];

  /** `barsPerPart`: where the form is known (the cadence rule needs it); null: that rule is not used. */
  constructor(private readonly barsPerPart: number | null = null) {}

  clone(): FormMemory {
    return Object.assign(new FormMemory(this.barsPerPart), this, {
      closed: [...this.closed],
      events: [...this.events],
      cached: this.cached,
    });
  }

  reset(): void {
    this.closed = [];
    this.open = '';
    this.pendingLine = '';
    this.inBody = false;
    this.events = [];
    this.line = '';
    this.cached = null;
  }

  /** The reader's bar events, which say which bars are pickups. */
  event(e: AbcEvent): void {
    if (e.type === 'bar' && this.inBody) {
      this.events.push(e);
      this.cached = null;
    }
  }

  /**
   * One character of the text as written: an `X:` line starts a tune, a `K:` line's end opens its
   * body, field lines in the body are no bars.
   */
  push(ch: string): void {
    if (this.line === '' && ch === 'X') this.reset();
    const line = this.line;
    this.line = ch === '\n' ? '' : line + ch;
    if (/^[A-Za-z]:/.test(this.line) || (ch === '\n' && /^[A-Za-z]:/.test(line))) {
      if (ch === '\n' && line.startsWith('K:')) this.inBody = true;
      return;
    }
    if (!this.inBody) return;
    if (ch === ' ' || ch === '\n' || ch === '!') {
      this.flushLine();
      return;
    }
    const candidate = this.pendingLine + ch;
    if (BAR_LINE.exec(candidate)?.[0] === candidate) {
      this.pendingLine = candidate;
      return;
    }
    if (this.pendingLine === '[') {
      // a '[' that opened a chord, not an ending
      this.pendingLine = '';
      this.open += `[${ch}`;
      return;
    }
    this.flushLine();
    if (ch === '|' || ch === ':' || ch === '[') this.pendingLine = ch;
    else this.open += ch;
  }

  private flushLine(): void {
    if (this.pendingLine === '' || this.pendingLine === '[') return;
    this.closed.push({ text: this.open, line: this.pendingLine });
    this.cached = null;
    this.pendingLine = '';
    this.open = '';
  }

  /** The structure, worked out again only when a bar line or a bar event has come (not every step). */
  private cached: Structure | null = null;

  /** The closed bars with their part, index and ending, and where the open bar stands. */
  private structure(): Structure {
    this.cached ??= this.work();
    return this.cached;
  }

  private work(closed: readonly { readonly text: string; readonly line: string }[] = this.closed): Structure {
    const bars: Bar[] = [];
    let part = 0;
    let index = 0;
    let ending: number | null = null;
    closed.forEach(({ text, line }, k) => {
      const fit = this.events[k]?.fit;
      if (text !== '' && fit !== 'empty' && fit !== 'pickup') {
        bars.push({ text, part, index, ending });
        index++;
      }
      const opens = /(\d)$/.exec(line);
      if (opens) {
        const n = Number(opens[1]);
        // the second ending counts from where the first began
        const first = n === 2 ? bars.find((b) => b.part === part && b.ending === 1) : undefined;
        if (first) index = first.index;
        ending = n;
      } else if (/:\||\|\||\|\]/.test(line) || (line.startsWith('|:') && index > 0)) {
        if (ending === 1 && /:\|/.test(line)) return; // the first ending's close: the second follows
        part++;
        index = 0;
        ending = null;
      }
    });
    return { bars, part, index, ending };
  }

  /** The earlier bar the open one would restate, if the corpus's forms restate here. */
  source(structure: Structure = this.structure()): string | null {
    const { bars, part, index, ending } = structure;
    if (ending === 2) {
      const first = bars.find((b) => b.part === part && b.ending === 1 && b.index === index);
      if (first) return first.text;
    }
    if (index >= 4) {
      const earlier = bars.find((b) => b.part === part && b.index === index - 4 && b.ending !== 2);
      if (earlier) return earlier.text;
    }
    if (this.barsPerPart !== null && part > 0 && index >= this.barsPerPart - 2) {
      const cadence = bars.find((b) => b.part === 0 && b.index === index && b.ending !== 1);
      if (cadence) return cadence.text;
    }
    return null;
  }

  /**
   * The characters that would go on restating the source bar: its next one, or once it is all
   * restated, the bar lines that close it; none unless the open bar so far is the source's beginning
   * (a bar line being written, or a bar already its own, gets nothing).
   */
  next(): readonly string[] {
    if (!this.inBody || this.pendingLine === '[') return [];
    if (this.pendingLine !== '') {
      // just after a bar line (it may still grow, `|` into `|:`): the next bar's first character is
      // where a restatement is decided, so it is judged as if the line were done
      const after = this.work([...this.closed, { text: this.open, line: this.pendingLine }]);
      const first = this.source(after)?.[0];
      return first === undefined ? [] : [first];
    }
    const source = this.source();
    if (!source || !source.startsWith(this.open)) return [];
    return source.length === this.open.length ? BAR_STARTS : [source[this.open.length] as string];
  }

  /** Adds `strength` to the logits of the restating characters (in place); whether there were any. */
  bias(logits: Float32Array, vocabulary: readonly string[], strength: number): boolean {
    if (strength === 0) return false;
    let any = false;
    for (const ch of this.next()) {
      const id = vocabulary.indexOf(ch);
      if (id < 0) continue;
      logits[id] = (logits[id] as number) + strength;
      any = true;
    }
    return any;
  }
}
