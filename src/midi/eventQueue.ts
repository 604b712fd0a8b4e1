/**
 * The messages a live session has scheduled and not yet sent, in time order, held in typed arrays:
 * no object per event. A note-off is scheduled when its note-on is, and waits as long as the note
 * lasts; as objects, those waiting events outlived the young generation and were promoted, which is
 * what made the soak's heap (and so its RSS) climb until V8's first major collection.
 */
import type { MidiMessage } from './messages.ts';

/** What the queue holds: note-ons, note-offs and (when leading) clock ticks. */
export type QueuedMessage =
  | {
      readonly type: 'noteon' | 'noteoff';
      readonly channel: number;
      readonly note: number;
      readonly velocity: number;
    }
  | { readonly type: 'clock' };

const NOTE_ON = 0;
const NOTE_OFF = 1;
const CLOCK = 2;

export class EventQueue {
  private times: Float64Array;
  /** kind (bits 24–31), channel (16–23), note (8–15), velocity (0–7). */
  private words: Uint32Array;
  private count = 0;

  constructor(capacity = 1024) {
    this.times = new Float64Array(capacity);
    this.words = new Uint32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** The first event's time (Infinity when empty). */
  get firstTime(): number {
    return this.count > 0 ? (this.times[0] as number) : Infinity;
  }

  /** Adds an event after every one whose time is not later than its own (ties keep their order). */
  push(time: number, m: QueuedMessage): void {
    if (this.count === this.times.length) this.grow();
    const word =
      m.type === 'clock'
        ? CLOCK << 24
        : (((m.type === 'noteon' ? NOTE_ON : NOTE_OFF) << 24) |
            (m.channel << 16) |
            (m.note << 8) |
            m.velocity) >>>
          0;
    let i = this.count;
    while (i > 0 && (this.times[i - 1] as number) > time) i--;
    this.times.copyWithin(i + 1, i, this.count);
    this.words.copyWithin(i + 1, i, this.count);
    this.times[i] = time;
    this.words[i] = word;
    this.count++;
  }

  /** Removes the first event and returns it as a message (the one allocation, at send time). */
  shift(): MidiMessage {
    const word = this.words[0] as number;
    this.times.copyWithin(0, 1, this.count);
    this.words.copyWithin(0, 1, this.count);
    this.count--;
    const kind = word >>> 24;
    if (kind === CLOCK) return { type: 'clock' };
    const channel = (word >>> 16) & 0xff;
    const note = (word >>> 8) & 0xff;
    const velocity = word & 0xff;
    return kind === NOTE_ON
      ? { type: 'noteon', channel, note, velocity }
      : { type: 'noteoff', channel, note, velocity };
  }

  /**
   * Moves every event to `map(time)`: a tempo or phase correction from an outside clock applied to
   * what is already scheduled. `map` must be increasing, so the order stays as it was.
   */
  retime(map: (time: number) => number): void {
    for (let i = 0; i < this.count; i++) this.times[i] = map(this.times[i] as number);
  }

  clear(): void {
    this.count = 0;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    const words = new Uint32Array(this.words.length * 2);
    times.set(this.times);
    words.set(this.words);
    this.times = times;
    this.words = words;
  }
}
