/**
 * Following a DAW's MIDI beat clock: 24 ticks per quarter note. Each tick is a known musical position
 * (counted from Start, or from a Song Position Pointer), so the follower gives both the tempo and
 * where the beat is. Both come from a least-squares line through the last ticks' arrival times: a
 * DAW's clock arrives with a millisecond or two of jitter (USB, the OS, the DAW's own scheduling), and
 * the line's slope (the tempo) and its value at the newest tick (where that tick "really" was) average
 * the jitter out, where a mean over the span or the raw tick time would pass it on.
 */
import type { Millis } from '../midi/clock.ts';

export const TICKS_PER_QUARTER = 24;

/** What a tick tells: the tempo (null until enough ticks have come), and the tick's position and time. */
export interface ClockReading {
  readonly bpm: number | null;
  /** The tick's musical position, in ticks since the song's start. */
  readonly position: number;
  /** When the tick fell, on the fitted line (ms). */
  readonly at: Millis;
}

/** Fewest ticks before the line gives a tempo (a quarter of a beat). */
const MIN_TICKS = 7;

export class MidiClockFollower {
  private readonly times: Float64Array;
  private count = 0;
  private head = 0;
  /** The position of the next tick, in ticks. */
  private next = 0;
  running = false;

  constructor(private readonly window = 24) {
    this.times = new Float64Array(window);
  }

  /** Records a 0xF8 tick at `now`. */
  tick(now: Millis): ClockReading {
    const position = this.next++;
    this.times[this.head] = now;
    this.head = (this.head + 1) % this.window;
    this.count = Math.min(this.count + 1, this.window);
    if (this.count < MIN_TICKS) return { bpm: null, position, at: now };
    // least squares of time against tick index over the window (indices 0 … n−1, newest last)
    const n = this.count;
    const first = (this.head - n + this.window) % this.window;
    const t0 = this.times[first] as number;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let sxy = 0;
    for (let i = 0; i < n; i++) {
      const y = (this.times[(first + i) % this.window] as number) - t0;
      sx += i;
      sy += y;
      sxx += i * i;
      sxy += i * y;
    }
    const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    const intercept = (sy - slope * sx) / n;
    if (!(slope > 0)) return { bpm: null, position, at: now };
    return { bpm: 60_000 / (slope * TICKS_PER_QUARTER), position, at: t0 + intercept + slope * (n - 1) };
  }

  /** Start: the next tick is the song's first. */
  start(): void {
    this.running = true;
    this.next = 0;
    this.forget();
  }

  /** Continue: ticks go on from where they stopped (or from a Song Position Pointer since). */
  continue(): void {
    this.running = true;
    this.forget();
  }

  stop(): void {
    this.running = false;
  }

  /** Song Position Pointer: the next tick is at this many sixteenths (6 ticks each). */
  songPosition(sixteenths: number): void {
    this.next = sixteenths * (TICKS_PER_QUARTER / 4);
    this.forget();
  }

  /** A stop or a jump breaks the line: the tempo is measured afresh from the ticks that follow. */
  private forget(): void {
    this.count = 0;
    this.head = 0;
  }
}
