/**
 * What the stage page sees, as server-sent events: the player's notes as they come, the answer's
 * notes as soon as they are scheduled (ahead of sounding), cancels, and four times a second a status
 * frame (position, tempo, chords, controls, ports). The engine never waits for a page: each page has
 * a bounded queue that is written only while its connection takes data; when a slow or stalled page
 * lets it fill, frames for that page are dropped and counted. With no page open, publishing is one
 * length check.
 */

/** Frames kept for one page before its frames are dropped. */
export const PAGE_QUEUE_FRAMES = 512;

export type StageFrame =
  | {
      readonly t: 'note';
      readonly who: 'call' | 'answer';
      readonly note: number;
      /** Server time (performance.now() ms) the note starts. */
      readonly at: number;
      /** Answer notes: their length (ms); call notes end with an 'off'. */
      readonly dur?: number;
      readonly type?: string;
    }
  | { readonly t: 'off'; readonly note: number; readonly at: number }
  /** What was scheduled after `at` was dropped (panic, a new call over an answer, stop). */
  | { readonly t: 'cancel'; readonly at: number }
  | { readonly t: 'status'; readonly now: number; readonly [key: string]: unknown };

/** Where frames go: write returns false when the connection is backed up (Node's stream contract). */
export interface PageSink {
  write(text: string): boolean;
  once(event: 'drain', cb: () => void): unknown;
}

interface Page {
  readonly sink: PageSink;
  readonly queue: string[];
  waiting: boolean;
}

export class StageFeed {
  private readonly pages = new Set<Page>();
  /** Frames dropped because a page did not keep up, all pages together. */
  dropped = 0;

  get listening(): boolean {
    return this.pages.size > 0;
  }

  get pagesOpen(): number {
    return this.pages.size;
  }

  /** Adds a page; returns the function that removes it (on the connection's close). */
  open(sink: PageSink): () => void {
    const page: Page = { sink, queue: [], waiting: false };
    this.pages.add(page);
    return () => {
      this.pages.delete(page);
    };
  }

  publish(frame: StageFrame): void {
    if (this.pages.size === 0) return;
    const text = `data: ${JSON.stringify(frame)}\n\n`;
    for (const page of this.pages) {
      if (page.queue.length >= PAGE_QUEUE_FRAMES) {
        this.dropped++;
        continue;
      }
      page.queue.push(text);
      if (!page.waiting) this.flush(page);
    }
  }

  private flush(page: Page): void {
    while (page.queue.length > 0) {
      const ok = page.sink.write(page.queue.shift() as string);
      if (!ok) {
        page.waiting = true;
        page.sink.once('drain', () => {
          page.waiting = false;
          if (this.pages.has(page)) this.flush(page);
        });
        return;
      }
    }
  }
}
