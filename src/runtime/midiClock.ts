/**
 * Following a DAW's MIDI beat clock: 24 ticks per quarter note give the tempo (a running mean over the
 * last ticks), Start/Stop/Continue start and stop, and Song Position Pointer moves the position.
 */
import type { Millis } from './clock.ts';

export const TICKS_PER_QUARTER = 24;

export class MidiClockFollower {
  private times: Millis[] = [];
  running = false;

  constructor(private readonly window = 24) {}

  /** Records a 0xF8 tick; returns the tempo once a few ticks have been seen. */
  tick(now: Millis): number | null {
    this.times.push(now);
    if (this.times.length > this.window + 1) this.times.shift();
    if (this.times.length < 7) return null;
    const span = (this.times[this.times.length - 1] as number) - (this.times[0] as number);
    const perTick = span / (this.times.length - 1);
    return perTick > 0 ? 60_000 / (perTick * TICKS_PER_QUARTER) : null;
  }

  start(): void {
    this.running = true;
    this.times = [];
  }

  continue(): void {
    this.running = true;
  }

  stop(): void {
    this.running = false;
  }
}
