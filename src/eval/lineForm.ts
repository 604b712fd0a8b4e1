/**
 * Whether a grammar model's lines say things twice and end at home, counted the same way on the
 * generated lines and on the held-out melodies over the same progressions (the char model's
 * tuneForm.ts asks the same of ABC tunes):
 * - bars that recur within their line: a bar whose notes (place in the bar, length, pitch) are all
 *   another bar's of the same line; bars without a note are not counted;
 * - lines with at least one recurring bar;
 * - lines whose last note is the key's tonic.
 */
import type { MusicalKey } from '../music/musicalKey.ts';
import { mod } from '../music/conditioning.ts';
import type { Twelfths } from '../music/time.ts';
import { lastNote, type Note } from '../music/note.ts';

export interface LineFormFigures {
  readonly lines: number;
  readonly bars: number;
  /** Shares: of the bars, of the lines, of the lines with a last note. */
  readonly recurringBars: number;
  readonly linesWithRecurring: number;
  readonly tonicEndings: number;
}

export class LineForm {
  private lines = 0;
  private bars = 0;
  private recurring = 0;
  private withRecurring = 0;
  private ended = 0;
  private tonic = 0;

  /** One line: its notes (start from the line's first bar), its bar length and its key. */
  add(notes: readonly Note[], barLength: Twelfths, key: MusicalKey): void {
    this.lines++;
    const byBar = new Map<number, string[]>();
    for (const n of notes) {
      const bar = Math.floor(n.start / barLength);
      const list = byBar.get(bar) ?? [];
      byBar.set(bar, list);
      list.push(`${n.start - bar * barLength}:${n.dur}:${n.midi}`);
    }
    const texts = [...byBar.values()].map((l) => l.join(' '));
    const count = new Map<string, number>();
    for (const t of texts) count.set(t, (count.get(t) ?? 0) + 1);
    const recurring = texts.filter((t) => (count.get(t) ?? 0) > 1).length;
    this.bars += texts.length;
    this.recurring += recurring;
    if (recurring > 0) this.withRecurring++;
    const last = lastNote(notes);
    if (last) {
      this.ended++;
      if (mod(last.midi, 12) === key.tonic) this.tonic++;
    }
  }

  summary(): LineFormFigures {
    return {
      lines: this.lines,
      bars: this.bars,
      recurringBars: this.bars ? this.recurring / this.bars : 0,
      linesWithRecurring: this.lines ? this.withRecurring / this.lines : 0,
      tonicEndings: this.ended ? this.tonic / this.ended : 0,
    };
  }
}
