/**
 * Repeat policy: repeats are played as abc2midi 4.84 plays them (checked on small cases). `:|` goes
 * back to the last `|:`; without one, to the tune's start until a first repeat has been played, and
 * after that to the last repeat end or double bar (`||`, `|]`, `[|`); `:|` plays the section again; `::` closes one and opens
 * the next; on the second time through, a first ending (`[1`, `|1`) is skipped and the tune goes on
 * with what follows `:|` (the second ending). Works as a stream: notes pass through at once, and a
 * section is replayed when its `:|` arrives.
 */
import type { AbcEvent, Quarters } from './reader.ts';

export type TimedEvent = Extract<AbcEvent, { type: 'note' } | { type: 'rest' }>;

export class RepeatExpander {
  private offset: Quarters = 0;
  private sectionStart: Quarters = 0;
  private firstEnding: Quarters | null = null;
  private section: TimedEvent[] = [];
  private repeated = false;

  /** Passes one reader event on; returns the events to play, times shifted by the repeats so far. */
  push(e: AbcEvent): AbcEvent[] {
    switch (e.type) {
      case 'tune':
        this.offset = 0;
        this.sectionStart = 0;
        this.firstEnding = null;
        this.section = [];
        this.repeated = false;
        return [e];
      case 'note':
      case 'rest':
        this.section.push(e);
        return [{ ...e, start: e.start + this.offset }];
      case 'bar':
        return this.bar(e);
      case 'tune-end':
        return [{ ...e, at: e.at + this.offset }];
      default:
        return [e];
    }
  }

  private bar(e: Extract<AbcEvent, { type: 'bar' }>): AbcEvent[] {
    const out: AbcEvent[] = [{ ...e, at: e.at + this.offset }];
    if (e.repeatEnd) {
      const S = this.sectionStart;
      const E = e.at;
      const F = this.firstEnding ?? E;
      const shift = this.offset + (E - S);
      for (const x of this.section) if (x.start < F) out.push({ ...x, start: x.start + shift });
      this.offset += F - S;
      this.repeated = true;
      this.sectionStart = E;
      this.firstEnding = null;
      this.section = [];
    }
    const doubleBar = !e.repeatEnd && /\|\]|\|\||\[\|/.test(e.text);
    if (e.repeatStart || (doubleBar && this.repeated)) {
      this.sectionStart = e.at;
      this.firstEnding = null;
      this.section = [];
    }
    if (e.ending === 1 && this.firstEnding === null) this.firstEnding = e.at;
    return out;
  }
}

/** Expands a whole event list. */
export function expandRepeats(events: readonly AbcEvent[]): AbcEvent[] {
  const x = new RepeatExpander();
  return events.flatMap((e) => x.push(e));
}
