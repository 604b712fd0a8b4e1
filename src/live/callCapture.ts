/**
 * The player's call as it is played: notes held and released, with their times, and the rule that
 * says when it is over (a silence of so many beats with nothing held, or the longest call reached).
 * Times are the clock's milliseconds; the engine turns the call into musical time when it ends.
 * Then where its answer goes (answerSpan) and what of the answer fits (clipTo).
 */
import type { Midi } from '../music/pitch.ts';
import { TWELFTHS_PER_QUARTER, type Twelfths } from '../music/time.ts';
import type { Millis } from '../midi/clock.ts';
import type { Note } from '../music/note.ts';

/** A note of the call as it was played, in the clock's milliseconds. */
type CapturedNote = Note<Millis> & { readonly role: 'call' };

export class CallCapture {
  private readonly held = new Map<Midi, Millis>();
  private phrase: CapturedNote[] = [];
  private lastActivity: Millis = 0;

  /** Whether anything has been played since the last take or clear. */
  get empty(): boolean {
    return this.phrase.length === 0 && this.held.size === 0;
  }

  press(note: Midi, now: Millis): void {
    this.held.set(note, now);
    this.lastActivity = now;
  }

  /** A release; ignored for a note not held (its press came before the call, or was cleared). */
  release(note: Midi, now: Millis): void {
    const start = this.held.get(note);
    if (start === undefined) return;
    this.held.delete(note);
    this.phrase.push({ start, dur: now - start, midi: note, role: 'call' });
    this.lastActivity = now;
  }

  /**
   * Whether the call is over at `now`: nothing held, something played, and a silence of at least
   * `silenceBeats` since the last key; or the call has lasted `maxCallBeats`. `beats` converts a
   * span of ms to beats at the current tempo.
   */
  over(now: Millis, beats: (ms: Millis) => number, silenceBeats: number, maxCallBeats: number): boolean {
    const first = this.phrase[0]?.start ?? [...this.held.values()][0] ?? now;
    if (beats(now - first) >= maxCallBeats) return true;
    return this.held.size === 0 && this.phrase.length > 0 && beats(now - this.lastActivity) >= silenceBeats;
  }

  /** Ends the call at `now`: every note, those still held ending now; the capture starts empty again. */
  take(now: Millis): CapturedNote[] {
    for (const [midi, start] of this.held) this.phrase.push({ start, dur: now - start, midi, role: 'call' });
    const notes = this.phrase;
    this.clear();
    return notes;
  }

  clear(): void {
    this.held.clear();
    this.phrase = [];
  }
}

/** Where an answer goes, in twelfths of a quarter: [from, from + length). */
export interface AnswerSpan {
  readonly from: Twelfths;
  readonly length: Twelfths;
}

/**
 * The answer to a call: it starts on the first beat at least a twelfth after `now` (room to
 * schedule it), and lasts `responseBars` bars, or with 0 as long as the call, rounded up to whole
 * beats (one at least).
 */
export function answerSpan(
  call: readonly { start: Twelfths; dur: Twelfths }[],
  now: Twelfths,
  responseBars: number,
  barLength: Twelfths,
): AnswerSpan {
  const beat = TWELFTHS_PER_QUARTER;
  const callStart = Math.min(...call.map((n) => n.start));
  const callEnd = Math.max(...call.map((n) => n.start + n.dur));
  const length =
    responseBars > 0
      ? responseBars * barLength
      : Math.max(beat, Math.ceil((callEnd - callStart) / beat) * beat);
  return { from: Math.ceil((now + 1) / beat) * beat, length };
}

/** Notes cut to end by `end`: those starting later dropped, those sounding past it shortened. */
export function clipTo<T extends { start: Twelfths; dur: Twelfths }>(
  notes: readonly T[],
  end: Twelfths,
): T[] {
  return notes.filter((n) => n.start < end).map((n) => ({ ...n, dur: Math.min(n.dur, end - n.start) }));
}
