/**
 * A full garbage collection the process runs itself, in a gap it can prove holds nothing due. V8
 * puts its first major collection off until the old generation has grown by several megabytes, and
 * keeps the pages it grew into, so a long set's RSS climbs for the first half hour even with nothing
 * leaking. Collecting every few minutes keeps the old generation (and RSS) flat. A mark-compact of a
 * live session's ~15 MB heap takes a few milliseconds on the event loop, so it runs only when every
 * session's next send is at least QUIET_MS away and no player note came in the last QUIET_MS: it
 * cannot move a note. Needs node --expose-gc (examples/improv.service passes it); without, it does
 * nothing.
 */
import type { Clock, Millis } from '../midi/clock.ts';

/** The gap a collection needs: longer than the slowest full GC seen here (17 ms in a 60-minute soak), with room. */
export const QUIET_MS: Millis = 40;

export interface QuietSource {
  /** How long until this session's next send, or since its last input note, whichever is less (ms). */
  quietFor(now: Millis): Millis;
}

export class QuietCollector {
  private readonly sources = new Set<QuietSource>();
  private last: Millis;
  readonly stats = { collections: 0, maxMs: 0, totalMs: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly everyMs: Millis,
    private readonly gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc,
  ) {
    this.last = clock.now();
  }

  get enabled(): boolean {
    return this.gc !== undefined;
  }

  add(source: QuietSource): void {
    this.sources.add(source);
  }

  delete(source: QuietSource): void {
    this.sources.delete(source);
  }

  /** Collects when one is due and every session is quiet; each session calls it as it wakes. */
  maybeCollect(): void {
    if (!this.gc) return;
    const now = this.clock.now();
    if (now - this.last < this.everyMs) return;
    for (const s of this.sources) if (s.quietFor(now) < QUIET_MS) return;
    const t0 = performance.now();
    this.gc();
    const ms = performance.now() - t0;
    this.last = this.clock.now();
    this.stats.collections++;
    this.stats.totalMs += ms;
    this.stats.maxMs = Math.max(this.stats.maxMs, ms);
  }
}
