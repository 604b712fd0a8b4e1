/**
 * A live session: input port → typed messages → (filters, MIDI clock) → engine → time-ordered queue →
 * exact-time sends on the output port. Every note-on sent is tracked, so cancel, panic, stop, port loss
 * and errors always release what sounds. Generation runs in the lookahead fill, ahead of the window.
 */
import type { Clock, Millis, TimerHandle } from '../midi/clock.ts';
import type { NoteType } from '../music/chord.ts';
import type { Midi } from '../music/units.ts';
import { Engine, type EngineOutput, type EngineState } from './engine.ts';
import type { LinkReading, LinkTransport } from '../midi/link.ts';
import { ControlSurface } from './controls.ts';
import { StageFeed } from './stageFeed.ts';
import { RecentSamples } from './stats.ts';
import type { MidiMessage } from '../midi/messages.ts';
import type { QuietCollector } from './quietCollector.ts';
import type { MidiInPort, MidiOutPort } from '../midi/ports.ts';
import { Sender, type SendStats } from './sender.ts';
import { Transport, type ClockSource } from './transport.ts';

export { CLOCK_SOURCES, type ClockSource } from './transport.ts';

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

export interface LiveStats extends SendStats {
  messagesIn: number;
  droppedIn: number;
  /** Generation failures recovered from. */
  failures: number;
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
  /** The queue, the precise wake-up and the sends, with every sounding note tracked. */
  private readonly sender: Sender;
  /** Where the beat comes from and whether the music runs. */
  private readonly transport: Transport;
  /** The coarse timer that fills the lookahead window. */
  private waker: TimerHandle | null = null;
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
  private inputLost = false;
  private lastProbe: Millis = -Infinity;
  /** The most recent notes the engine scheduled (a ring of PLAYED_KEPT entries, reused in place). */
  private readonly playedRing: PlayedEntry[] = [];
  private playedNext = 0;

  constructor(
    private readonly opts: LiveOptions,
    makeEngine: (emit: (o: EngineOutput) => void) => Engine,
  ) {
    this.current = makeEngine((o) => this.onEngine(o));
    this.controls = new ControlSurface(this, opts.chords ?? '');
    this.sender = new Sender(opts.clock, opts.output, this.stats, opts.log);
    this.transport = new Transport({
      clock: opts.clock,
      source: opts.clockSource,
      link: opts.link ?? null,
      engine: () => this.current,
      sender: this.sender,
      offset: opts.offset,
      cancel: () => this.cancel(),
      log: opts.log,
    });
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
    return this.sender.lastNotes;
  }

  /** The most recent notes the engine scheduled, with their type against the chord they were decoded against; oldest first. */
  get played(): readonly Readonly<PlayedEntry>[] {
    const ring = this.playedRing;
    return ring.length < PLAYED_KEPT
      ? [...ring]
      : [...ring.slice(this.playedNext), ...ring.slice(0, this.playedNext)];
  }

  start(): void {
    // a synth behind the port may still drone from a session that died without releasing it
    this.sender.allNotesOff();
    this.transport.start();
    if (this.waker) return;
    // "schedule early, stamp exactly": a coarse timer fills the window ahead; each event is then sent
    // at its exact time by the sender's one precise wake-up, armed for the queue's first event
    this.waker = this.opts.clock.setRepeatingTimer(() => this.wake(), this.opts.interval);
    this.wake();
  }

  private wake(): void {
    if (this.stopped) return;
    const windowEnd = this.opts.clock.now() + this.opts.lookahead;
    this.transport.wake(windowEnd);
    this.sender.windowEnd = windowEnd;
    this.fill(windowEnd);
    this.sender.arm();
    this.opts.collector?.maybeCollect();
  }

  /** How long until the next send, or since the last input note, whichever is less (for the collector). */
  quietFor(now: Millis): Millis {
    return Math.min(this.sender.nextDue - now, now - this.lastInputNote);
  }

  /** Resolves once a file input has ended and the last answer has finished. */
  whenDone(): Promise<void> {
    return new Promise((resolve) => this.doneWaiters.push(resolve));
  }

  /** The output port's state: 'lost' while its device is gone (output paused, nothing queued). */
  get outputState(): 'open' | 'lost' {
    return this.sender.outputState;
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

  /** Checks the ports twice a second: a loss is reported, a return cleared with All Notes Off. */
  private probePorts(): void {
    const now = this.opts.clock.now();
    if (now - this.lastProbe < 500) return;
    this.lastProbe = now;
    this.probeInput();
    this.sender.probe();
  }

  private fill(windowEnd: Millis): void {
    if (this.stopped) return;
    this.probePorts();
    if (this.transport.running) {
      const engine = this.engine;
      engine.fill(windowEnd).catch((err: unknown) => {
        // an engine a reload has replaced fails alone: its failure must not cut the new one
        if (engine === this.engine) this.recover(err);
      });
    }
    if (this.inputEnded && this.engine.idle && this.sender.drained) {
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

  private onInput(m: MidiMessage): void {
    this.stats.messagesIn++;
    const now = this.opts.clock.now();
    switch (m.type) {
      case 'clock':
      case 'start':
      case 'continue':
      case 'stop':
      case 'songposition':
        this.transport.input(m, now);
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
        if (this.opts.thruChannel !== null) this.sender.sendThru({ ...m, channel: this.opts.thruChannel });
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

  /** The last reading of the Link session (null unless following Link). */
  get link(): LinkReading | null {
    return this.transport.link;
  }

  /** Whether the transport runs (an outside clock's Start/Stop, Link's playing state). */
  get running(): boolean {
    return this.transport.running;
  }

  /** A tempo asked for (CC, HTTP, the page): set, proposed to Link, or refused under MIDI clock follow. */
  proposeTempo(bpm: number): boolean {
    return this.transport.proposeTempo(bpm);
  }

  private onEngine(o: EngineOutput): void {
    if (this.stopped) return;
    switch (o.kind) {
      case 'note': {
        const ch = this.opts.outChannel;
        const time = o.start + this.opts.offset;
        this.remember(time, o.midi, o.type);
        if (this.feed.listening)
          this.feed.publish({ t: 'note', who: 'answer', note: o.midi, at: time, dur: o.dur, type: o.type });
        this.sender.schedule(time, { type: 'noteon', channel: ch, note: o.midi, velocity: o.velocity });
        this.sender.schedule(time + Math.max(1, o.dur - 1), {
          type: 'noteoff',
          channel: ch,
          note: o.midi,
          velocity: 0,
        });
        this.sender.arm();
        return;
      }
      case 'state':
        if (this.opts.stateCc !== null)
          this.sender.send({
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

  private remember(start: Millis, midi: Midi, type: NoteType): void {
    if (this.playedRing.length < PLAYED_KEPT) this.playedRing.push({ start, midi, type });
    else {
      const entry = this.playedRing[this.playedNext] as PlayedEntry;
      entry.start = start;
      entry.midi = midi;
      entry.type = type;
      this.playedNext = (this.playedNext + 1) % PLAYED_KEPT;
    }
  }

  /**
   * Drops everything scheduled and releases every note the improviser is sounding (never the player's
   * held thru notes: All Notes Off skips the thru channel while any is held).
   */
  cancel(): void {
    if (this.feed.listening) this.feed.publish({ t: 'cancel', at: this.opts.clock.now() });
    this.sender.cancel(this.sender.thruHeld ? this.opts.thruChannel : null);
  }

  /** Stops: note-offs for every sounding note and All Notes Off, then closes the ports. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    if (this.waker) this.opts.clock.clearTimer(this.waker);
    this.waker = null;
    this.opts.collector?.delete(this);
    this.cancel();
    this.sender.releaseThru(); // at the end, the player's held notes too
    this.transport.stop();
    this.stopped = true;
    await this.opts.input?.close();
    await this.opts.output.close();
  }

  get sounding(): number {
    return this.sender.sounding;
  }

  get state(): EngineState {
    return this.engine.currentState;
  }
}

/** One of the engine's recent notes as `played` keeps it (reused in place: hence mutable). */
interface PlayedEntry {
  start: Millis;
  midi: Midi;
  type: NoteType;
}

/** How many of the engine's recent notes `played` keeps. */
const PLAYED_KEPT = 512;

const stateValue = (s: EngineState): number => (s === 'idle' ? 0 : s === 'listening' ? 64 : 127);
