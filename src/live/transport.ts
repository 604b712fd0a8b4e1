/**
 * The clock half of a live session: where the beat comes from and whether the music runs. The
 * internal clock runs at once; `lead` also sends MIDI clock (Start, 24 ticks a quarter, Stop) for a
 * DAW to follow; `follow` runs from an incoming MIDI clock's Start/Stop and locks the beat to its
 * ticks; `link` follows an Ableton Link session's playing state and timeline. What is already
 * scheduled moves with a tempo or phase correction (the sender re-times it).
 */
import type { Clock, Millis } from '../midi/clock.ts';
import type { LinkReading, LinkTransport } from '../midi/link.ts';
import type { MidiMessage } from '../midi/messages.ts';
import { TWELFTHS_PER_QUARTER, type Twelfths } from '../music/time.ts';
import type { Engine } from './engine.ts';
import { SETUP_LIMITS } from './limits.ts';
import { MidiClockFollower, TICKS_PER_QUARTER } from './midiClock.ts';
import type { Sender } from './sender.ts';

export type ClockSource = 'internal' | 'follow' | 'lead' | 'link';
export const CLOCK_SOURCES: readonly ClockSource[] = ['internal', 'follow', 'lead', 'link'];

/** MIDI clock ticks in a twelfth of a quarter (24 a quarter, 12 twelfths a quarter). */
const TICKS_PER_TWELFTH = TICKS_PER_QUARTER / TWELFTHS_PER_QUARTER;
const CLOCK_TICK = { type: 'clock' } as const;

/** The messages of MIDI's transport that an incoming clock sends. */
type TransportMessage = Extract<
  MidiMessage,
  { type: 'clock' | 'start' | 'continue' | 'stop' | 'songposition' }
>;

export interface TransportParts {
  readonly clock: Clock;
  readonly source: ClockSource;
  /** The Link session followed when the source is 'link' (closed when the transport stops). */
  readonly link: LinkTransport | null;
  /** The engine now playing (a reload swaps it). */
  readonly engine: () => Engine;
  readonly sender: Sender;
  /** Playback offset (ms) added to every output time: re-timing keeps it. */
  readonly offset: Millis;
  /** Drops what is scheduled and releases what sounds (the session's cancel, which the page sees). */
  readonly cancel: () => void;
  readonly log: (line: string) => void;
}

export class Transport {
  private readonly follower = new MidiClockFollower();
  private runningNow: boolean;
  private nextClockTick: Millis | null = null;
  private lastLink: LinkReading | null = null;

  constructor(private readonly p: TransportParts) {
    if (p.source === 'link' && !p.link) throw new RangeError("live: clockSource 'link' needs a link");
    // an outside transport runs the engine only once it says so (MIDI Start/Continue, Link playing)
    this.runningNow = p.source === 'internal' || p.source === 'lead';
  }

  /** Whether the transport runs (an outside clock's Start/Stop, Link's playing state). */
  get running(): boolean {
    return this.runningNow;
  }

  /** The last reading of the Link session (null unless following Link). */
  get link(): LinkReading | null {
    return this.lastLink;
  }

  /** At the session's start: a leader sends Start. */
  start(): void {
    if (this.p.source === 'lead') this.p.sender.send({ type: 'start' });
  }

  /** At each wake, before the window is filled: reads Link, and a leader schedules its ticks. */
  wake(windowEnd: Millis): void {
    if (this.p.source === 'link') this.syncLink();
    if (this.p.source === 'lead') this.leadClock(windowEnd);
  }

  /** At the session's end: a leader sends Stop; the Link session is left. */
  stop(): void {
    if (this.p.source === 'lead') this.p.sender.send({ type: 'stop' });
    this.p.link?.close();
  }

  private leadClock(windowEnd: Millis): void {
    const period = 60_000 / this.p.engine().tempo / TICKS_PER_QUARTER;
    this.nextClockTick ??= this.p.clock.now();
    while (this.nextClockTick < windowEnd) {
      this.p.sender.schedule(this.nextClockTick, CLOCK_TICK);
      this.nextClockTick += period;
    }
  }

  /** An incoming clock's message; heard only when following MIDI clock. */
  input(m: TransportMessage, now: Millis): void {
    if (this.p.source !== 'follow') return;
    const engine = this.p.engine();
    switch (m.type) {
      case 'clock': {
        // every tick is a known position: lock the engine's beat to it (phase), at the fitted tempo
        const r = this.follower.tick(now);
        this.followBeat(r.bpm ?? engine.tempo, r.position / TICKS_PER_TWELFTH, r.at);
        return;
      }
      case 'start':
        this.follower.start();
        this.runningNow = true;
        engine.setPosition(0);
        return;
      case 'continue':
        this.follower.continue();
        this.runningNow = true;
        return;
      case 'stop':
        this.follower.stop();
        this.runningNow = false;
        this.p.cancel();
        return;
      case 'songposition':
        this.p.cancel();
        this.follower.songPosition(m.sixteenths);
        engine.setPosition(m.sixteenths * 3); // a MIDI beat is a sixteenth: 3 twelfths of a quarter
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
    const engine = this.p.engine();
    const now = this.p.clock.now();
    const was0 = engine.twelfthsAt(now);
    const perMs = (engine.twelfthsAt(now + 1000) - was0) / 1000; // twelfths a ms, before
    engine.follow(bpm, t, at);
    if (Math.abs(engine.twelfthsAt(now) - was0) > TWELFTHS_PER_QUARTER / 2) {
      this.p.cancel();
      engine.setPosition(engine.twelfthsAt(now));
      return;
    }
    const offset = this.p.offset;
    this.p.sender.retime((time) => engine.msAt(was0 + (time - offset - now) * perMs) + offset);
  }

  /** Follows the Link session: its playing state runs the transport, its timeline the beat. */
  private syncLink(): void {
    const r = (this.p.link as LinkTransport).read();
    this.lastLink = r;
    const engine = this.p.engine();
    if (r.playing !== this.runningNow) {
      this.runningNow = r.playing;
      this.p.log(r.playing ? 'Link: the session plays' : 'Link: the session stopped');
      if (!r.playing) return this.p.cancel();
      engine.follow(r.bpm, r.beat * TWELFTHS_PER_QUARTER, r.at);
      engine.setPosition(engine.twelfthsAt(this.p.clock.now())); // generate from here on
      return;
    }
    if (r.playing) this.followBeat(r.bpm, r.beat * TWELFTHS_PER_QUARTER, r.at);
  }

  /**
   * A tempo asked for (CC, HTTP, the page). With Link it is proposed to the session, which every peer
   * (this one included, at its next reading) then follows; under MIDI clock follow the DAW's tempo
   * rules and the request is refused (false).
   */
  proposeTempo(bpm: number): boolean {
    const [min, max] = SETUP_LIMITS.bpm;
    if (!(bpm >= min && bpm <= max)) throw new RangeError(`bpm must be within ${min}–${max}, got ${bpm}`);
    switch (this.p.source) {
      case 'follow':
        this.p.log(`tempo ${bpm} not taken: the tempo follows the incoming MIDI clock`);
        return false;
      case 'link':
        (this.p.link as LinkTransport).proposeTempo(bpm);
        return true;
      default:
        this.p.engine().setTempo(bpm);
        return true;
    }
  }
}
