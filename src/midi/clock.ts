/**
 * Time sources behind one interface: the real clock (performance.now and timers) and a virtual clock
 * that tests advance by hand, firing timers in time order without sleeping.
 */
import type { Millis } from '../music/units.ts';

export type { Millis } from '../music/units.ts';

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): Millis;
  /** Calls `fn` once after `delay` ms (of this clock). */
  setTimer(fn: () => void, delay: Millis): TimerHandle;
  /**
   * Like setTimer, as close to the exact time as the clock can manage (for sending MIDI); precise
   * timers due at the same time fire in the order they were set.
   */
  setPreciseTimer(fn: () => void, delay: Millis): TimerHandle;
  /** Calls `fn` every `period` ms until cleared (one timer object, however long it runs). */
  setRepeatingTimer(fn: () => void, period: Millis): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** How early the precise queue wakes before its next due time (Node timers fire up to ~2 ms late). */
const PRECISE_MARGIN: Millis = 4;
/**
 * The longest the event loop is held in one sleep while the precise queue closes in on a due time:
 * MIDI input and inference get their turn between slices, so they wait at most this long.
 */
const PRECISE_SLICE: Millis = 0.25;
/** Atomics.wait on a word nobody changes: a sub-millisecond sleep that allocates nothing. */
const sleepWord = new Int32Array(new SharedArrayBuffer(4));

/**
 * Inserts `item` after every element whose time is not later than its own, so the list stays in time
 * order and ties keep the order they came in; returns where it went.
 */
export function insertInTimeOrder<T>(list: T[], item: T, time: (x: T) => Millis): number {
  let i = list.length;
  while (i > 0 && time(list[i - 1] as T) > time(item)) i--;
  list.splice(i, 0, item);
  return i;
}

interface PreciseTimer {
  readonly id: number;
  readonly due: Millis;
  readonly fn: () => void;
}

export class RealClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private next = 1;
  /** Precise timers in firing order: due time, then the order they were set. */
  private readonly precise: PreciseTimer[] = [];
  private waker: { timeout: NodeJS.Timeout } | { immediate: NodeJS.Immediate } | undefined;

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

  setRepeatingTimer(fn: () => void, period: Millis): TimerHandle {
    const id = this.next++;
    this.timers.set(id, setInterval(fn, Math.max(1, period)));
    return { id };
  }

  /**
   * One queue serves every precise timer, so those due together fire in order. A Node timer wakes it
   * PRECISE_MARGIN ms before the first due time; it then closes in by sleeping in slices of at most
   * PRECISE_SLICE ms, yielding to the event loop between slices. (Yielding with setImmediate alone
   * would spin: thousands of Immediates per send, megabytes a second of garbage, a core kept busy.)
   */
  setPreciseTimer(fn: () => void, delay: Millis): TimerHandle {
    const timer = { id: this.next++, due: this.now() + Math.max(0, delay), fn };
    if (insertInTimeOrder(this.precise, timer, (t) => t.due) === 0) this.arm();
    return { id: timer.id };
  }

  clearTimer(handle: TimerHandle): void {
    const i = this.precise.findIndex((t) => t.id === handle.id);
    if (i >= 0) {
      this.precise.splice(i, 1);
      if (i === 0) this.arm();
      return;
    }
    clearTimeout(this.timers.get(handle.id)); // clears intervals too
    this.timers.delete(handle.id);
  }

  /** (Re)sets the one wake-up for the first precise timer: a Node timer while it is far, else the next turn. */
  private arm(): void {
    if (this.waker && 'timeout' in this.waker) clearTimeout(this.waker.timeout);
    if (this.waker && 'immediate' in this.waker) clearImmediate(this.waker.immediate);
    this.waker = undefined;
    const first = this.precise[0];
    if (!first) return;
    const far = first.due - PRECISE_MARGIN - this.now();
    const wake = (): void => {
      this.waker = undefined;
      this.closeIn();
    };
    this.waker = far > 0 ? { timeout: setTimeout(wake, far) } : { immediate: setImmediate(wake) };
  }

  /** Sleeps one slice towards the first due time, fires everything due, in order, and re-arms. */
  private closeIn(): void {
    const first = this.precise[0];
    if (first) {
      const left = first.due - this.now();
      if (left > 0) Atomics.wait(sleepWord, 0, 0, Math.min(left, PRECISE_SLICE));
    }
    try {
      while (this.precise.length > 0 && (this.precise[0] as PreciseTimer).due <= this.now()) {
        (this.precise.shift() as PreciseTimer).fn();
      }
    } finally {
      this.arm();
    }
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

  setRepeatingTimer(fn: () => void, period: Millis): TimerHandle {
    const id = this.next++;
    const step = Math.max(1, period);
    const tick = (): void => {
      // the next tick is queued before this one runs, so fn can clear it; a fresh seq keeps it after
      // timers set earlier for the same instant, as re-arming a one-shot timer would
      this.timers.push({ id, at: this.t + step, seq: this.next++, fn: tick });
      fn();
    };
    this.timers.push({ id, at: this.t + step, seq: id, fn: tick });
    return { id };
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
