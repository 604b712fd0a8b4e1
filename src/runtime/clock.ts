/**
 * Time sources behind one interface: the real clock (performance.now and timers) and a virtual clock
 * that tests advance by hand, firing timers in time order without sleeping.
 */
export type Millis = number;

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): Millis;
  /** Calls `fn` once after `delay` ms (of this clock). */
  setTimer(fn: () => void, delay: Millis): TimerHandle;
  /** Like setTimer, as close to the exact time as the clock can manage (for sending MIDI). */
  setPreciseTimer(fn: () => void, delay: Millis): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** How early a precise timer wakes before it yields its way to the exact time. */
const PRECISE_MARGIN: Millis = 4;

export class RealClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private next = 1;

  now(): Millis {
    return performance.now();
  }

  setTimer(fn: () => void, delay: Millis): TimerHandle {
    const id = this.next++;
    this.timers.set(
      id,
      setTimeout(
        () => {
          this.timers.delete(id);
          fn();
        },
        Math.max(0, delay),
      ),
    );
    return { id };
  }

  /** Wakes PRECISE_MARGIN ms early with a timer, then yields with setImmediate until the time has come. */
  setPreciseTimer(fn: () => void, delay: Millis): TimerHandle {
    const due = this.now() + delay;
    const id = this.next++;
    const spin = (): void => {
      if (!this.timers.has(id)) return;
      if (this.now() >= due) {
        this.timers.delete(id);
        fn();
      } else this.timers.set(id, setImmediate(spin) as unknown as NodeJS.Timeout);
    };
    this.timers.set(id, setTimeout(spin, Math.max(0, delay - PRECISE_MARGIN)));
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    const t = this.timers.get(handle.id);
    clearTimeout(t);
    clearImmediate(t as unknown as NodeJS.Immediate);
    this.timers.delete(handle.id);
  }
}

export class VirtualClock implements Clock {
  private t: Millis;
  private next = 1;
  private timers: { id: number; at: Millis; seq: number; fn: () => void }[] = [];

  constructor(start: Millis = 0) {
    this.t = start;
  }

  now(): Millis {
    return this.t;
  }

  setTimer(fn: () => void, delay: Millis): TimerHandle {
    const id = this.next++;
    this.timers.push({ id, at: this.t + Math.max(0, delay), seq: id, fn });
    return { id };
  }

  setPreciseTimer(fn: () => void, delay: Millis): TimerHandle {
    return this.setTimer(fn, delay);
  }

  clearTimer(handle: TimerHandle): void {
    this.timers = this.timers.filter((x) => x.id !== handle.id);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order, at its own time. */
  advance(ms: Millis): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const due = this.timers[0];
      if (!due || due.at > end) break;
      this.timers.shift();
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.length;
  }
}
