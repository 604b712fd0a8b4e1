/**
 * A lookahead scheduler ("schedule early, stamp exactly"): a coarse timer wakes every `interval` ms and
 * hands over every event whose exact time falls before now + `lookahead`, with that exact time. Before
 * each hand-over it asks the producer to fill the window, so generation runs ahead of need and never
 * on the timing path of the event it produces.
 */
import { insertInTimeOrder, type Clock, type Millis, type TimerHandle } from './clock.ts';

export interface SchedulerOptions {
  readonly lookahead: Millis;
  readonly interval: Millis;
}

export interface Scheduled<T> {
  readonly time: Millis;
  readonly payload: T;
}

export class LookaheadScheduler<T> {
  private queue: Scheduled<T>[] = [];
  private timer: TimerHandle | null = null;
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly opts: SchedulerOptions,
    /** Receives each event with its exact time, at most `lookahead` ms early. */
    private readonly dispatch: (event: Scheduled<T>) => void,
    /** Called at each wake with the end of the window; schedules what the window needs. */
    private readonly fill?: (windowEnd: Millis) => void,
  ) {
    if (!(opts.interval > 0) || !(opts.lookahead >= opts.interval)) {
      throw new RangeError(
        `scheduler: need 0 < interval ≤ lookahead, got interval ${opts.interval}, lookahead ${opts.lookahead}`,
      );
    }
  }

  schedule(time: Millis, payload: T): void {
    insertInTimeOrder(this.queue, { time, payload }, (e) => e.time);
  }

  /** Drops every event not yet handed over; returns them. */
  clear(): Scheduled<T>[] {
    const dropped = this.queue;
    this.queue = [];
    return dropped;
  }

  get size(): number {
    return this.queue.length;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.timer = this.clock.setRepeatingTimer(() => this.wake(), this.opts.interval);
    this.wake();
  }

  stop(): void {
    this.running = false;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = null;
  }

  private wake(): void {
    if (!this.running) return;
    const end = this.clock.now() + this.opts.lookahead;
    this.fill?.(end);
    while (this.queue.length && (this.queue[0] as Scheduled<T>).time < end) {
      this.dispatch(this.queue.shift() as Scheduled<T>);
    }
  }
}
