/**
 * The engine's transport: where the music is (in twelfths of a quarter) at a time on the clock, and
 * back. A straight line, origin + position × ms-per-twelfth, moved by a tempo change (which keeps the
 * position now), by following an outside clock (which re-anchors it where that clock says), and by a
 * jump (Song Position Pointer, Start).
 */
import { TWELFTHS_PER_QUARTER, type Twelfths } from '../music/time.ts';
import type { Clock, Millis } from '../midi/clock.ts';
import { SETUP_LIMITS } from './limits.ts';

/** The tempi the transport is set to (the setup's); outside them a change is ignored. */
const [MIN_BPM, MAX_BPM] = SETUP_LIMITS.bpm;
const tempoOk = (bpm: number): boolean => bpm >= MIN_BPM && bpm <= MAX_BPM;
/**
 * The tempi an outside clock is followed at: Ableton Link's whole range (20–999 BPM), so a band at
 * 450 keeps the rig on its beat (a set tempo stays within the setup's limits). Beyond it a reading
 * is a stray one and ignored.
 */
export const FOLLOW_BPM = [20, 999] as const;
const followOk = (bpm: number): boolean => bpm >= FOLLOW_BPM[0] && bpm <= FOLLOW_BPM[1];

export class Timeline {
  private origin: Millis;
  private bpm: number;

  constructor(
    private readonly clock: Clock,
    bpm: number,
  ) {
    if (!tempoOk(bpm)) throw new RangeError(`timeline: tempo ${bpm} is outside ${MIN_BPM}–${MAX_BPM}`);
    this.bpm = bpm;
    this.origin = clock.now();
  }

  get tempo(): number {
    return this.bpm;
  }

  private get msPerTwelfth(): number {
    return 60_000 / this.bpm / TWELFTHS_PER_QUARTER;
  }

  twelfthsAt(ms: Millis): Twelfths {
    return (ms - this.origin) / this.msPerTwelfth;
  }

  msAt(t: Twelfths): Millis {
    return this.origin + t * this.msPerTwelfth;
  }

  /** Beats (quarters) in a span of milliseconds at the current tempo. */
  beatsIn(ms: Millis): number {
    return (ms * this.bpm) / 60_000;
  }

  /** Changes tempo without moving the current musical position. */
  setTempo(bpm: number): void {
    if (!tempoOk(bpm)) return;
    const now = this.clock.now();
    const pos = this.twelfthsAt(now);
    this.bpm = bpm;
    this.origin = now - pos * this.msPerTwelfth;
  }

  /** Follows an outside clock: position `t` fell at `at`, at tempo `bpm` (re-anchors the line there). */
  follow(bpm: number, t: Twelfths, at: Millis): void {
    if (!followOk(bpm)) return;
    this.bpm = bpm;
    this.origin = at - t * this.msPerTwelfth;
  }

  /** Moves the musical position now to `t`. */
  jump(t: Twelfths): void {
    this.origin = this.clock.now() - t * this.msPerTwelfth;
  }
}
