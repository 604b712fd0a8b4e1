/**
 * A live session: input port → typed messages → (filters, MIDI clock) → engine → time-ordered queue →
 * exact-time sends on the output port. Every note-on sent is tracked, so cancel, panic, stop, port loss
 * and errors always release what sounds. Generation runs in the lookahead fill, ahead of the window.
 */
import type { Clock, Millis, TimerHandle } from '../midi/clock.ts';
import { Engine, type EngineOutput, type EngineState } from './engine.ts';
import { MidiClockFollower, TICKS_PER_QUARTER } from './midiClock.ts';
import { TWELFTHS_PER_QUARTER, type Twelfths } from '../music/time.ts';
import type { LinkReading, LinkTransport } from '../midi/link.ts';
import { ControlSurface } from './controls.ts';
import { SETUP_LIMITS } from './limits.ts';
import { StageFeed } from './stageFeed.ts';
import { RecentSamples } from './stats.ts';
import type { MidiMessage } from '../midi/messages.ts';
import { EventQueue } from '../midi/eventQueue.ts';
import { ALL_NOTES_OFF, NoteTracker } from '../midi/noteTracker.ts';
import type { QuietCollector } from './quietCollector.ts';
import type { MidiInPort, MidiOutPort } from '../midi/ports.ts';

export type ClockSource = 'internal' | 'follow' | 'lead' | 'link';
export const CLOCK_SOURCES: readonly ClockSource[] = ['internal', 'follow', 'lead', 'link'];

export interface LiveOptions {
  readonly clock: Clock;
  readonly input: (MidiInPort & { onEnd?: (cb: () => void) => void }) | null;
  readonly output: MidiOutPort;
  readonly outChannel: number;
  /** Only this input channel is heard (null: all). */
  readonly inChannel: number | null;
  /** Input notes outside this range are ignored. */
  readonly noteRange: readonly [number, number];
  readonly clockSource: ClockSource;
  /** The Link session followed when clockSource is 'link' (the session closes it when it stops). */
  readonly link?: LinkTransport | null;
  readonly lookahead: Millis;
  readonly interval: Millis;
  /** Most note-ons per second taken from the input; beyond it they are dropped and counted. */
  readonly maxNotesPerSecond: number;
  /** The CC the engine's state goes out on (null: none). */
  readonly stateCc: number | null;
  /** Playback offset (ms) added to every output time, for latency compensation. */
  readonly offset: Millis;
  /** Also send the player's notes to the output on this channel (thru), or null. */
  readonly thruChannel: number | null;
  /** Runs the process's own garbage collections in quiet gaps (shared by the sessions of a process). */
  readonly collector?: QuietCollector | null;
  /** The progression as written (chord symbols), for the controls' and the page's display. */
  readonly chords?: string;
  readonly log: (line: string) => void;
}

/** The usual settings; callers add clock, ports and log, and override what they need. */
export const DEFAULT_LIVE_OPTIONS = {
  outChannel: 0,
  inChannel: null,
  noteRange: [0, 127] as const,
  clockSource: 'internal' as ClockSource,
  lookahead: 100,
  interval: 25,
  maxNotesPerSecond: 200,
  stateCc: null,
  offset: 0,
  thruChannel: null,
} satisfies Partial<LiveOptions>;

export interface LiveStats {
  notesSent: number;
  messagesIn: number;
  droppedIn: number;
  /** Sends that happened more than 1 ms after their time. */
  late: number;
  /** |actual − scheduled| send times, ms, the most recent 10 000. */
  readonly jitter: RecentSamples;
  /** Generation failures recovered from. */
  failures: number;
  /** Messages not sent because the output port was gone. */
  droppedOut: number;
}

export class LiveSession {
  private current: Engine;
  /** The one door for controls: CC (through the engine), HTTP and the stage page. */
  readonly controls: ControlSurface;
  /** The stage page's events (the player's notes, the answer's as scheduled, cancels). */
  readonly feed = new StageFeed();
  readonly stats: LiveStats = {
    notesSent: 0,
    messagesIn: 0,
    droppedIn: 0,
    late: 0,
    jitter: new RecentSamples(10_000),
    failures: 0,
    droppedOut: 0,
  };
  private readonly tracker = new NoteTracker();
  /** The player's notes passed thru, apart: the improviser's clean-up never ends a note it did not play. */
  private readonly thruTracker = new NoteTracker();
  /** What is scheduled and not yet sent, in time order (typed arrays: no object per event). */
  private readonly queue = new EventQueue();
  /** The one wake-up that sends the queue's first events at their exact time, and when it is due. */
  private sender: TimerHandle | null = null;
  private senderDue = Infinity;
  /** The coarse timer that fills the lookahead window, and the window's end at its last wake. */
  private waker: TimerHandle | null = null;
  private windowEnd = -Infinity;
  private readonly follower = new MidiClockFollower();
  private transportRunning: boolean;
  private inputEnded = false;
  private stopped = false;
  private floodWindow: { start: Millis; count: number } = { start: 0, count: 0 };
  /**
   * Note-ons taken from the input and not yet released, by channel·128 + note: a note-off is passed
   * on (to the engine and thru) only for a note-on that was, so the flood cap never leaves orphans.
   */
  private readonly held = new Uint8Array(16 * 128);
  private lastInputNote: Millis = -Infinity;
  private doneWaiters: (() => void)[] = [];
  private nextClockTick: Millis | null = null;
  private lastLink: LinkReading | null = null;
  private outputLost = false;
  private inputLost = false;
  private lastProbe: Millis = -Infinity;
  /** The last 8 notes sent (a ring: the status line reads it, sending allocates nothing). */
  private readonly recentNotes = new Uint8Array(8);
  private recentCount = 0;
  /** The most recent notes the engine scheduled (a ring of PLAYED_KEPT entries, reused in place). */
  private readonly playedRing: { time: Millis; note: number; type: string }[] = [];
  private playedNext = 0;

  constructor(
    private readonly opts: LiveOptions,
    makeEngine: (emit: (o: EngineOutput) => void) => Engine,
  ) {
    this.current = makeEngine((o) => this.onEngine(o));
    this.controls = new ControlSurface(this, opts.chords ?? '');
    // an outside transport runs the engine only once it says so (MIDI Start/Continue, Link playing)
    this.transportRunning = opts.clockSource === 'internal' || opts.clockSource === 'lead';
    if (opts.clockSource === 'link' && !opts.link)
      throw new RangeError("live: clockSource 'link' needs a link");
    if (!(opts.interval > 0) || !(opts.lookahead >= opts.interval))
      throw new RangeError(
        `live: need 0 < interval ≤ lookahead, got interval ${opts.interval}, lookahead ${opts.lookahead}`,
      );
    opts.collector?.add(this);
    opts.input?.onMessage((m) => this.onInput(m));
    opts.input?.onEnd?.(() => {
      this.inputEnded = true;
    });
  }

  get engine(): Engine {
    return this.current;
  }

  /**
   * Swaps in a new engine (a reload): what sounds is released first; the ports stay open. The old
   * engine is retired, not dropped: its generation may still be awaiting its models, so the promise
   * resolves once that has ended, and only then may the caller dispose of them.
   */
  replaceEngine(makeEngine: (emit: (o: EngineOutput) => void) => Engine, chords?: string): Promise<void> {
    this.cancel();
    const old = this.current;
    const before = this.controls.values;
    this.current = makeEngine((o) => this.onEngine(o));
    if (chords !== undefined) this.controls.reset(chords);
    // a reload plays the setup as written: controls set since (over CC, HTTP or the page) return to
    // it, and the log names them. A STOP holds: a reload never makes a silenced rig play.
    if (old.isStopped) this.current.setStopped(true);
    const after = this.controls.values;
    const changed = (Object.keys(after) as (keyof typeof after)[])
      .filter((k) => k !== 'models' && k !== 'stopped' && after[k] !== before[k])
      .map((k) => `${k} ${JSON.stringify(before[k])} → ${JSON.stringify(after[k])}`);
    if (changed.length)
      this.opts.log(
        `reload: controls as the setup has them, not as they were set since: ${changed.join(', ')}`,
      );
    return old.retire();
  }

  /** The last notes sent, oldest first. */
  get lastNotes(): number[] {
    const n = Math.min(this.recentCount, 8);
    return Array.from({ length: n }, (_, i) => this.recentNotes[(this.recentCount - n + i) % 8] as number);
  }

  /** The most recent notes the engine scheduled, with their type against the chord they were decoded against; oldest first. */
  get played(): readonly { time: Millis; note: number; type: string }[] {
    const ring = this.playedRing;
    return ring.length < PLAYED_KEPT
      ? [...ring]
      : [...ring.slice(this.playedNext), ...ring.slice(0, this.playedNext)];
  }

  start(): void {
    // a synth behind the port may still drone from a session that died without releasing it
    this.allNotesOff();
    if (this.opts.clockSource === 'lead') this.send({ type: 'start' });
    if (this.waker) return;
    // "schedule early, stamp exactly": a coarse timer fills the window ahead; each event is then sent
    // at its exact time by the one precise wake-up armed for the queue's first event
    this.waker = this.opts.clock.setRepeatingTimer(() => this.wake(), this.opts.interval);
    this.wake();
  }

  private wake(): void {
    if (this.stopped) return;
    if (this.opts.clockSource === 'link') this.syncLink();
    this.windowEnd = this.opts.clock.now() + this.opts.lookahead;
    this.fill(this.windowEnd);
    this.armSender();
    this.opts.collector?.maybeCollect();
  }

  /** How long until the next send, or since the last input note, whichever is less (for the collector). */
  quietFor(now: Millis): Millis {
    return Math.min(this.queue.firstTime - now, now - this.lastInputNote);
  }

  /** Arms the precise wake-up for the queue's first event, when it falls within the window. */
  private armSender(): void {
    const due = this.queue.firstTime;
    if (due >= this.windowEnd || due >= this.senderDue) return;
    if (this.sender) this.opts.clock.clearTimer(this.sender);
    this.senderDue = due;
    this.sender = this.opts.clock.setPreciseTimer(this.sendDue, due - this.opts.clock.now());
  }

  /** Cancels the precise wake-up (the queue was cleared or re-timed). */
  private disarmSender(): void {
    if (this.sender) this.opts.clock.clearTimer(this.sender);
    this.sender = null;
    this.senderDue = Infinity;
  }

  /** Sends every event now due, in order, and arms the wake-up for the next. */
  private readonly sendDue = (): void => {
    this.sender = null;
    this.senderDue = Infinity;
    const now = this.opts.clock.now();
    while (this.queue.firstTime <= now) {
      const lateBy = now - this.queue.firstTime;
      this.stats.jitter.push(Math.abs(lateBy));
      if (lateBy > 1) this.stats.late++;
      this.send(this.queue.shift());
    }
    this.armSender();
  };

  /** Resolves once a file input has ended and the last answer has finished. */
  whenDone(): Promise<void> {
    return new Promise((resolve) => this.doneWaiters.push(resolve));
  }

  /** The output port's state: 'lost' while its device is gone (output paused, nothing queued). */
  get outputState(): 'open' | 'lost' {
    return this.outputLost ? 'lost' : 'open';
  }

  /** The input port's state ('none' when there is no input). */
  get inputState(): 'open' | 'lost' | 'none' {
    return this.opts.input ? (this.inputLost ? 'lost' : 'open') : 'none';
  }

  private probeInput(): void {
    const input = this.opts.input;
    if (!input?.available) return;
    let there: boolean;
    try {
      there = input.available();
    } catch {
      there = false;
    }
    if (there !== !this.inputLost) {
      this.inputLost = !there;
      this.opts.log(
        there ? `input ${input.name} is back` : `input ${input.name} lost; listening again when it returns`,
      );
      if (!there) this.engine.panic();
    }
  }

  /** Checks the ports twice a second: reports a loss, and when the output returns clears it with All Notes Off. */
  private probePorts(): void {
    const now = this.opts.clock.now();
    if (now - this.lastProbe < 500) return;
    this.lastProbe = now;
    this.probeInput();
    if (!this.opts.output.available) return;
    let there: boolean;
    try {
      there = this.opts.output.available();
    } catch {
      there = false;
    }
    if (!there && !this.outputLost) this.lose('the device is gone');
    else if (there && this.outputLost) {
      this.outputLost = false;
      this.opts.log(`output ${this.opts.output.name} is back: sending All Notes Off and resuming`);
      this.allNotesOff();
    }
  }

  private allNotesOff(): void {
    for (let ch = 0; ch < 16; ch++)
      this.send({ type: 'cc', channel: ch, controller: ALL_NOTES_OFF, value: 0 });
  }

  private lose(why: string): void {
    this.outputLost = true;
    this.opts.log(`output ${this.opts.output.name} lost (${why}); output paused until it returns`);
    this.tracker.releaseAll(); // those notes died with the port
    this.thruTracker.releaseAll();
  }

  private fill(windowEnd: Millis): void {
    if (this.stopped) return;
    this.probePorts();
    if (this.opts.clockSource === 'lead') this.leadClock(windowEnd);
    if (this.transportRunning) {
      const engine = this.engine;
      engine.fill(windowEnd).catch((err: unknown) => {
        // an engine a reload has replaced fails alone: its failure must not cut the new one
        if (engine === this.engine) this.recover(err);
      });
    }
    if (this.inputEnded && this.engine.idle && this.queue.size === 0 && this.sender === null) {
      this.doneWaiters.splice(0).forEach((r) => r());
    }
  }

  /**
   * A failure in generation never kills the performance: release what sounds, restart the
   * generator, count it, report it, go on.
   */
  private recover(err: unknown): void {
    this.cancel();
    this.stats.failures++;
    this.engine.restart();
    this.opts.log(`generation failed and was restarted: ${err instanceof Error ? err.message : String(err)}`);
  }

  private leadClock(windowEnd: Millis): void {
    const period = 60_000 / this.engine.tempo / TICKS_PER_QUARTER;
    this.nextClockTick ??= this.opts.clock.now();
    while (this.nextClockTick < windowEnd) {
      this.queue.push(this.nextClockTick, CLOCK_TICK);
      this.nextClockTick += period;
    }
  }

  private onInput(m: MidiMessage): void {
    this.stats.messagesIn++;
    const now = this.opts.clock.now();
    switch (m.type) {
      case 'clock': {
        if (this.opts.clockSource !== 'follow') return;
        // every tick is a known position: lock the engine's beat to it (phase), at the fitted tempo
        const r = this.follower.tick(now);
        this.followBeat(r.bpm ?? this.engine.tempo, r.position / TICKS_PER_TWELFTH, r.at);
        return;
      }
      case 'start':
        if (this.opts.clockSource !== 'follow') return;
        this.follower.start();
        this.transportRunning = true;
        this.engine.setPosition(0);
        return;
      case 'continue':
        if (this.opts.clockSource !== 'follow') return;
        this.follower.continue();
        this.transportRunning = true;
        return;
      case 'stop':
        if (this.opts.clockSource !== 'follow') return;
        this.follower.stop();
        this.transportRunning = false;
        this.cancel();
        return;
      case 'songposition':
        if (this.opts.clockSource !== 'follow') return;
        this.cancel();
        this.follower.songPosition(m.sixteenths);
        this.engine.setPosition(m.sixteenths * 3); // a MIDI beat is a sixteenth: 3 twelfths of a quarter
        return;
      case 'noteon':
      case 'noteoff':
      case 'cc': {
        if (this.opts.inChannel !== null && m.channel !== this.opts.inChannel) return;
        if (m.type === 'cc') return this.engine.input(m);
        if (m.note < this.opts.noteRange[0] || m.note > this.opts.noteRange[1]) return;
        this.lastInputNote = now;
        const key = m.channel * 128 + m.note;
        if (m.type === 'noteon') {
          if (now - this.floodWindow.start >= 1000) this.floodWindow = { start: now, count: 0 };
          if (++this.floodWindow.count > this.opts.maxNotesPerSecond) {
            this.stats.droppedIn++;
            return;
          }
          if (this.held[key] !== 255) this.held[key] = (this.held[key] ?? 0) + 1;
        } else if (this.held[key]) this.held[key] -= 1;
        else return; // its note-on was dropped (or came before we listened): nothing to release
        if (this.opts.thruChannel !== null) this.sendThru({ ...m, channel: this.opts.thruChannel });
        if (this.feed.listening)
          this.feed.publish(
            m.type === 'noteon'
              ? { t: 'note', who: 'call', note: m.note, at: now }
              : { t: 'off', note: m.note, at: now },
          );
        this.engine.input(
          m.type === 'noteon'
            ? { type: 'noteon', note: m.note, velocity: m.velocity }
            : { type: 'noteoff', note: m.note },
        );
        return;
      }
      default:
        return;
    }
  }

  /**
   * Locks the engine's timeline to an outside clock's reading, and carries what is already scheduled
   * along: a queued note keeps its musical position under the corrected tempo and phase (an answer is
   * scheduled whole, so without this a tempo change would reach it only at the next answer). A jump
   * of more than half a beat (a peer moved the beat, ticks were lost) is not slid over: what was
   * scheduled is dropped and generation starts again from the new position.
   */
  private followBeat(bpm: number, t: Twelfths, at: Millis): void {
    const engine = this.engine;
    const now = this.opts.clock.now();
    const was0 = engine.twelfthsAt(now);
    const perMs = (engine.twelfthsAt(now + 1000) - was0) / 1000; // twelfths a ms, before
    engine.follow(bpm, t, at);
    if (Math.abs(engine.twelfthsAt(now) - was0) > TWELFTHS_PER_QUARTER / 2) {
      this.cancel();
      engine.setPosition(engine.twelfthsAt(now));
      return;
    }
    if (this.queue.size === 0) return;
    const offset = this.opts.offset;
    this.queue.retime((time) => engine.msAt(was0 + (time - offset - now) * perMs) + offset);
    this.disarmSender();
    this.armSender();
  }

  /** Follows the Link session: its playing state runs the transport, its timeline the beat. */
  private syncLink(): void {
    const r = (this.opts.link as LinkTransport).read();
    this.lastLink = r;
    if (r.playing !== this.transportRunning) {
      this.transportRunning = r.playing;
      this.opts.log(r.playing ? 'Link: the session plays' : 'Link: the session stopped');
      if (!r.playing) return this.cancel();
      this.engine.follow(r.bpm, r.beat * TWELFTHS_PER_QUARTER, r.at);
      this.engine.setPosition(this.engine.twelfthsAt(this.opts.clock.now())); // generate from here on
      return;
    }
    if (r.playing) this.followBeat(r.bpm, r.beat * TWELFTHS_PER_QUARTER, r.at);
  }

  /** The last reading of the Link session (null unless following Link). */
  get link(): LinkReading | null {
    return this.lastLink;
  }

  /** Whether the transport runs (an outside clock's Start/Stop, Link's playing state). */
  get running(): boolean {
    return this.transportRunning;
  }

  /**
   * A tempo asked for (CC, HTTP, the page). With Link it is proposed to the session, which every peer
   * (this one included, at its next reading) then follows; under MIDI clock follow the DAW's tempo
   * rules and the request is refused (false).
   */
  proposeTempo(bpm: number): boolean {
    const [min, max] = SETUP_LIMITS.bpm;
    if (!(bpm >= min && bpm <= max)) throw new RangeError(`bpm must be within ${min}–${max}, got ${bpm}`);
    switch (this.opts.clockSource) {
      case 'follow':
        this.opts.log(`tempo ${bpm} not taken: the tempo follows the incoming MIDI clock`);
        return false;
      case 'link':
        (this.opts.link as LinkTransport).proposeTempo(bpm);
        return true;
      default:
        this.engine.setTempo(bpm);
        return true;
    }
  }

  private onEngine(o: EngineOutput): void {
    if (this.stopped) return;
    switch (o.kind) {
      case 'note': {
        const ch = this.opts.outChannel;
        const time = o.time + this.opts.offset;
        this.remember(time, o.note, o.type);
        if (this.feed.listening)
          this.feed.publish({ t: 'note', who: 'answer', note: o.note, at: time, dur: o.dur, type: o.type });
        this.queue.push(time, { type: 'noteon', channel: ch, note: o.note, velocity: o.velocity });
        this.queue.push(time + Math.max(1, o.dur - 1), {
          type: 'noteoff',
          channel: ch,
          note: o.note,
          velocity: 0,
        });
        this.armSender();
        return;
      }
      case 'state':
        if (this.opts.stateCc !== null)
          this.send({
            type: 'cc',
            channel: this.opts.outChannel,
            controller: this.opts.stateCc,
            value: stateValue(o.state),
          });
        return;
      case 'cancel':
        this.cancel();
        return;
      case 'failed':
        this.recover(o.error);
        return;
      case 'log':
        this.opts.log(o.line);
        return;
      case 'control':
        try {
          this.controls.apply(o.control);
        } catch (err) {
          this.opts.log(`control not taken: ${err instanceof Error ? err.message : String(err)}`);
        }
        return;
    }
  }

  private remember(time: Millis, note: number, type: string): void {
    if (this.playedRing.length < PLAYED_KEPT) this.playedRing.push({ time, note, type });
    else {
      const entry = this.playedRing[this.playedNext] as { time: Millis; note: number; type: string };
      entry.time = time;
      entry.note = note;
      entry.type = type;
      this.playedNext = (this.playedNext + 1) % PLAYED_KEPT;
    }
  }

  /** Sends one message on the output; false where the port is lost (the message dropped and counted). */
  private deliver(m: MidiMessage): boolean {
    if (this.outputLost) {
      this.stats.droppedOut++; // no backlog: what falls due while the port is gone is dropped
      return false;
    }
    try {
      this.opts.output.send(m);
    } catch (err) {
      this.stats.droppedOut++;
      this.lose(err instanceof Error ? err.message : String(err));
      return false;
    }
    return true;
  }

  private send(m: MidiMessage): void {
    if (!this.deliver(m)) return;
    this.tracker.note(m);
    if (m.type === 'noteon') {
      this.stats.notesSent++;
      this.recentNotes[this.recentCount++ % 8] = m.note;
    }
  }

  /** The player's note, thru: sent as it came, tracked apart, not counted as the improviser's. */
  private sendThru(m: MidiMessage): void {
    if (this.deliver(m)) this.thruTracker.note(m);
  }

  /**
   * Drops everything scheduled and releases every note the improviser is sounding (never the player's
   * held thru notes: All Notes Off skips the thru channel while any is held).
   */
  cancel(): void {
    if (this.feed.listening) this.feed.publish({ t: 'cancel', at: this.opts.clock.now() });
    this.queue.clear();
    this.disarmSender();
    const thru = this.thruTracker.count > 0 ? this.opts.thruChannel : null;
    this.release(this.tracker.releaseAll().filter((m) => !(m.type === 'cc' && m.channel === thru)));
  }

  private release(messages: readonly MidiMessage[]): void {
    for (const m of messages) {
      try {
        this.opts.output.send(m);
      } catch {
        // the port is gone: nothing more can be released on it
      }
    }
  }

  /** Stops: note-offs for every sounding note and All Notes Off, then closes the ports. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    if (this.waker) this.opts.clock.clearTimer(this.waker);
    this.waker = null;
    this.opts.collector?.delete(this);
    this.cancel();
    this.release(this.thruTracker.releaseAll()); // at the end, the player's held notes too
    if (this.opts.clockSource === 'lead') this.send({ type: 'stop' });
    this.opts.link?.close();
    this.stopped = true;
    await this.opts.input?.close();
    await this.opts.output.close();
  }

  get sounding(): number {
    return this.tracker.count + this.thruTracker.count;
  }

  get state(): EngineState {
    return this.engine.currentState;
  }
}

/** How many of the engine's recent notes `played` keeps. */
const PLAYED_KEPT = 512;
const CLOCK_TICK = { type: 'clock' } as const;

/** MIDI clock ticks in a twelfth of a quarter (24 a quarter, 12 twelfths a quarter). */
const TICKS_PER_TWELFTH = TICKS_PER_QUARTER / TWELFTHS_PER_QUARTER;

const stateValue = (s: EngineState): number => (s === 'idle' ? 0 : s === 'listening' ? 64 : 127);
