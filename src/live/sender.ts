/**
 * The sending half of a live session: what is scheduled waits in a time-ordered queue, and the one
 * precise wake-up sends each event at its exact time ("schedule early, stamp exactly"). Every note-on
 * sent is tracked, so a cancel, a lost port or a stop always releases what sounds; the player's notes
 * passed thru are tracked apart, so the improviser's clean-up never ends a note it did not play.
 */
import type { Clock, Millis, TimerHandle } from '../midi/clock.ts';
import { EventQueue, type QueuedMessage } from '../midi/eventQueue.ts';
import type { MidiMessage } from '../midi/messages.ts';
import { ALL_NOTES_OFF, NoteTracker } from '../midi/noteTracker.ts';
import type { MidiOutPort } from '../midi/ports.ts';
import type { RecentSamples } from './stats.ts';

/** The send figures a sender keeps up (the live session's stats object holds them). */
export interface SendStats {
  notesSent: number;
  /** Sends that happened more than 1 ms after their time. */
  late: number;
  /** |actual − scheduled| send times, ms, the most recent 10 000. */
  readonly jitter: RecentSamples;
  /** Messages not sent because the output port was gone. */
  droppedOut: number;
}

/** How many of the last notes sent the status line shows. */
const RECENT = 8;

export class Sender {
  private readonly tracker = new NoteTracker();
  private readonly thruTracker = new NoteTracker();
  /** What is scheduled and not yet sent, in time order (typed arrays: no object per event). */
  private readonly queue = new EventQueue();
  /** The one wake-up that sends the queue's first events at their exact time, and when it is due. */
  private timer: TimerHandle | null = null;
  private due = Infinity;
  /**
   * The end of the lookahead window the session filled last: the precise wake-up is armed only for an
   * event inside it (one further out is armed at a later wake, when the window has reached it).
   */
  windowEnd = -Infinity;
  private lost = false;
  /** The last notes sent (a ring: the status line reads it, sending allocates nothing). */
  private readonly recentNotes = new Uint8Array(RECENT);
  private recentCount = 0;

  constructor(
    private readonly clock: Clock,
    private readonly output: MidiOutPort,
    private readonly stats: SendStats,
    private readonly log: (line: string) => void,
  ) {}

  /** Schedules a message at `time` (`arm` then wakes for it, when it falls in the window). */
  schedule(time: Millis, m: QueuedMessage): void {
    this.queue.push(time, m);
  }

  /** Arms the precise wake-up for the queue's first event, when it falls within the window. */
  arm(): void {
    const due = this.queue.firstTime;
    if (due >= this.windowEnd || due >= this.due) return;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.due = due;
    this.timer = this.clock.setPreciseTimer(this.sendDue, due - this.clock.now());
  }

  /** Cancels the precise wake-up (the queue was cleared or re-timed). */
  private disarm(): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.due = Infinity;
  }

  /** Sends every event now due, in order, and arms the wake-up for the next. */
  private readonly sendDue = (): void => {
    this.timer = null;
    this.due = Infinity;
    const now = this.clock.now();
    while (this.queue.firstTime <= now) {
      const lateBy = now - this.queue.firstTime;
      this.stats.jitter.push(Math.abs(lateBy));
      if (lateBy > 1) this.stats.late++;
      this.send(this.queue.shift());
    }
    this.arm();
  };

  /** Moves every scheduled event to `at(time)` (a tempo or phase correction), and re-arms. */
  retime(at: (time: Millis) => Millis): void {
    if (this.queue.size === 0) return;
    this.queue.retime(at);
    this.disarm();
    this.arm();
  }

  /** When the first scheduled event is due (Infinity: nothing scheduled). */
  get nextDue(): Millis {
    return this.queue.firstTime;
  }

  /** Nothing scheduled and no wake-up pending: all that was planned has gone out. */
  get drained(): boolean {
    return this.queue.size === 0 && this.timer === null;
  }

  /** The output port's state: 'lost' while its device is gone (output paused, nothing queued). */
  get outputState(): 'open' | 'lost' {
    return this.lost ? 'lost' : 'open';
  }

  /** Notes sounding now, the improviser's and the player's thru. */
  get sounding(): number {
    return this.tracker.count + this.thruTracker.count;
  }

  /** Whether a player's note passed thru is held now. */
  get thruHeld(): boolean {
    return this.thruTracker.count > 0;
  }

  /** The last notes sent, oldest first. */
  get lastNotes(): number[] {
    const n = Math.min(this.recentCount, RECENT);
    return Array.from(
      { length: n },
      (_, i) => this.recentNotes[(this.recentCount - n + i) % RECENT] as number,
    );
  }

  /** Looks at the output port: reports its loss, and when it returns clears it with All Notes Off. */
  probe(): void {
    if (!this.output.available) return;
    let there: boolean;
    try {
      there = this.output.available();
    } catch {
      there = false;
    }
    if (!there && !this.lost) this.lose('the device is gone');
    else if (there && this.lost) {
      this.lost = false;
      this.log(`output ${this.output.name} is back: sending All Notes Off and resuming`);
      this.allNotesOff();
    }
  }

  allNotesOff(): void {
    for (let ch = 0; ch < 16; ch++)
      this.send({ type: 'cc', channel: ch, controller: ALL_NOTES_OFF, value: 0 });
  }

  private lose(why: string): void {
    this.lost = true;
    this.log(`output ${this.output.name} lost (${why}); output paused until it returns`);
    this.tracker.releaseAll(); // those notes died with the port
    this.thruTracker.releaseAll();
  }

  /** Sends one message on the output; false where the port is lost (the message dropped and counted). */
  private deliver(m: MidiMessage): boolean {
    if (this.lost) {
      this.stats.droppedOut++; // no backlog: what falls due while the port is gone is dropped
      return false;
    }
    try {
      this.output.send(m);
    } catch (err) {
      this.stats.droppedOut++;
      this.lose(err instanceof Error ? err.message : String(err));
      return false;
    }
    return true;
  }

  /** Sends the improviser's message now, tracked and counted. */
  send(m: MidiMessage): void {
    if (!this.deliver(m)) return;
    this.tracker.note(m);
    if (m.type === 'noteon') {
      this.stats.notesSent++;
      this.recentNotes[this.recentCount++ % RECENT] = m.note;
    }
  }

  /** The player's note, thru: sent as it came, tracked apart, not counted as the improviser's. */
  sendThru(m: MidiMessage): void {
    if (this.deliver(m)) this.thruTracker.note(m);
  }

  /**
   * Drops everything scheduled and releases every note the improviser is sounding; `spare`: a channel
   * whose All Notes Off is not sent (the thru channel while the player holds a note there).
   */
  cancel(spare: number | null): void {
    this.queue.clear();
    this.disarm();
    this.release(this.tracker.releaseAll().filter((m) => !(m.type === 'cc' && m.channel === spare)));
  }

  /** At the end: the player's held thru notes are released too. */
  releaseThru(): void {
    this.release(this.thruTracker.releaseAll());
  }

  private release(messages: readonly MidiMessage[]): void {
    for (const m of messages) {
      try {
        this.output.send(m);
      } catch {
        // the port is gone: nothing more can be released on it
      }
    }
  }
}
