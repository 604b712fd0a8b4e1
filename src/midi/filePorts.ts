/**
 * File "ports": a sink that records what is sent, with its times, into a Standard MIDI File as it
 * plays, and a source that plays a MIDI file in as if a player played it (rehearsal without a
 * keyboard, scripted checks). Both run on the injected clock, so tests drive them with virtual time.
 */
import fs, { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { parseMidi, type MidiEvent } from 'midi-file';
import { InputFileError, ioReason, OutputFileError } from '../music/errors.ts';
import { checkOutputFile } from '../music/files.ts';
import { channelEventBytes, smfBytes, u32, vlq } from '../music/smfBytes.ts';
import type { Clock, Millis } from './clock.ts';
import { encodeMessage, MidiStreamParser, type MidiMessage } from './messages.ts';

const TPQ = 480;
const SINK_BPM = 120;

/**
 * Records what is sent into a Standard MIDI File (format 0, 480 ticks a quarter at 120 BPM), written
 * as it plays rather than kept for the end: a killed process leaves everything up to the last flush
 * (at most FLUSH_MS before the kill), and the file at that path is this run's from its first moment.
 *
 * Why by hand: no MIDI library appends to a file it has written. Each flush keeps the file readable
 * at every step: (1) the new events and an End of Track go after the old End of Track, beyond the
 * chunk's length (trailing bytes a reader does not reach); (2) the chunk's length grows to take them;
 * (3) the old End of Track, now mid-track, becomes an empty text event of the same four bytes.
 * Step 1 is written whole before step 2 begins (a short write goes on, a failed one stops there), so a
 * full disk leaves the take as it was at the last flush; the events wait and go out with the next
 * flush that finds room, and the recording goes on once space returns (`stalls` counts the flushes that
 * found none; beyond MAX_PENDING bytes waiting, new events are dropped and counted).
 */
export class FileSink {
  private readonly start: Millis = 0;
  private readonly fd: number = -1;
  /** Bytes of track data written (after the 8-byte chunk header), End of Track included. */
  private trackLength = 0;
  private lastTick = 0;
  private pending: number[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private failure: Error | null = null;
  private closed = false;
  /** Flushes that found no room (ENOSPC), and events dropped while too much waited. */
  stalls = 0;
  dropped = 0;

  /**
   * `append`: go on with a recording this sink wrote (what `improv panic` does after a process died
   * mid-take), its new events placed after the old ones by the time since the file was last written;
   * otherwise (or when there is no file yet) a new recording replaces whatever is at that path.
   */
  constructor(
    readonly name: string,
    private readonly clock: Clock,
    opts: { append?: boolean } = {},
  ) {
    checkOutputFile(name);
    const existing = opts.append ? recordingAt(name) : null;
    try {
      if (existing) {
        this.fd = openSync(name, 'r+');
        this.trackLength = existing.trackLength;
        this.lastTick = existing.ticks;
        const since = Math.max(0, Date.now() - existing.writtenAt);
        this.start = clock.now() - since - existing.ticks / TICKS_PER_MS;
        return;
      }
      // 'w' truncates: an older recording at this path is replaced now, not when this one ends
      this.fd = openSync(name, 'w');
      writeAll(this.fd, Uint8Array.from(NEW_RECORDING), 0);
    } catch (err) {
      throw new OutputFileError(name, `cannot record here (${ioReason(err)})`);
    }
    this.start = clock.now();
    this.trackLength = NEW_RECORDING.length - HEADER_BYTES;
  }

  send(message: MidiMessage): void {
    if (this.closed) return;
    if (this.failure) throw this.failure;
    const bytes = channelBytes(message);
    if (!bytes) return; // real-time messages are not stored in a file
    const tick = Math.max(this.lastTick, Math.round((this.clock.now() - this.start) * TICKS_PER_MS));
    if (this.pending.length > MAX_PENDING) {
      this.dropped++;
      return;
    }
    this.pending.push(...vlq(tick - this.lastTick), ...bytes);
    this.lastTick = tick;
    this.flushTimer ??= setTimeout(() => this.flushSafely(), FLUSH_MS);
    this.flushTimer.unref?.();
  }

  private flushSafely(): void {
    this.flushTimer = null;
    try {
      this.flush();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
        // the take is as it was at the last flush; try again later with what waits
        this.stalls++;
        this.flushTimer = setTimeout(() => this.flushSafely(), FLUSH_MS);
        this.flushTimer.unref?.();
        return;
      }
      // the next send reports it, so the live session treats the port as lost
      this.failure = new OutputFileError(this.name, `cannot write (${ioReason(err)})`);
    }
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const data = Uint8Array.from([...this.pending, ...END_OF_TRACK]);
    const end = HEADER_BYTES + this.trackLength;
    writeAll(this.fd, data, end); // (1); a failure here leaves the file as it was and the events waiting
    this.pending = [];
    writeAll(this.fd, Uint8Array.from(u32(this.trackLength + data.length)), HEADER_BYTES - 4);
    writeAll(this.fd, Uint8Array.from(EMPTY_TEXT), end - END_OF_TRACK.length);
    this.trackLength += data.length;
  }

  /** Writes what is left and closes the file. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    try {
      this.flush();
    } catch (err) {
      return Promise.reject(
        new OutputFileError(this.name, `cannot write the take's last events (${ioReason(err)})`),
      );
    } finally {
      closeSync(this.fd);
    }
    return Promise.resolve();
  }
}

const TICKS_PER_MS = (TPQ * SINK_BPM) / 60_000;
const US_PER_QUARTER = 60_000_000 / SINK_BPM;
/** MThd (14 bytes) and the MTrk chunk header (8): where the track data begins. */
const HEADER_BYTES = 22;
const END_OF_TRACK = [0x00, 0xff, 0x2f, 0x00];
const EMPTY_TEXT = [0x00, 0xff, 0x01, 0x00];
/** A new recording: the header, and a track holding the tempo and an End of Track. */
const NEW_RECORDING = Array.from(
  smfBytes({
    header: { format: 0, numTracks: 1, ticksPerBeat: TPQ },
    tracks: [
      [
        { deltaTime: 0, meta: true, type: 'setTempo', microsecondsPerBeat: US_PER_QUARTER },
        { deltaTime: 0, meta: true, type: 'endOfTrack' },
      ],
    ],
  }),
);

/** A recording this sink wrote at `file`, to go on with: its track's length and duration; null when there is none. */
function recordingAt(file: string): { trackLength: number; ticks: number; writtenAt: number } | null {
  let bytes: Buffer;
  let writtenAt: number;
  try {
    bytes = readFileSync(file);
    writtenAt = statSync(file).mtimeMs;
  } catch {
    return null; // nothing there: a new recording
  }
  const length = bytes.length >= HEADER_BYTES ? bytes.readUInt32BE(HEADER_BYTES - 4) : -1;
  const end = HEADER_BYTES + length;
  const ours =
    bytes.subarray(0, 14).equals(Buffer.from(NEW_RECORDING.slice(0, 14))) &&
    bytes.subarray(14, 18).toString('latin1') === 'MTrk' &&
    end <= bytes.length &&
    bytes.subarray(end - 4, end).equals(Buffer.from(END_OF_TRACK));
  if (!ours)
    throw new OutputFileError(
      file,
      'cannot append: not a recording improv wrote (format 0, one track at 480 ticks a quarter)',
    );
  let ticks = 0;
  for (const e of parseMidi(bytes.subarray(0, end)).tracks[0] ?? []) ticks += e.deltaTime;
  return { trackLength: length, ticks, writtenAt };
}

/** How long sent events wait before they are written (one write for a burst). */
const FLUSH_MS = 100;
/** Bytes of events that may wait for room on a full disk (about 300 K events). */
const MAX_PENDING = 1 << 20;

/** Writes all of `bytes` at `position`: a short write goes on from where it stopped. */
function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length;) {
    const n = fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (n <= 0) throw Object.assign(new Error('the write made no progress'), { code: 'EIO' });
    done += n;
  }
}

/** The bytes of a channel message as a file stores them, or null for what a file does not keep. */
function channelBytes(m: MidiMessage): number[] | null {
  switch (m.type) {
    case 'noteon':
    case 'noteoff':
    case 'cc':
    case 'program':
    case 'pitchbend':
      return encodeMessage(m);
    default:
      return null;
  }
}

/** Reads a MIDI file into (milliseconds, bytes) in time order, following its tempo changes. */
export function readMidiTimeline(file: string): { time: Millis; bytes: number[] }[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new InputFileError(file, `cannot read (${ioReason(err)})`);
  }
  return midiTimeline(bytes, file);
}

/** A MIDI file's bytes as (milliseconds, bytes) in time order; `file` names it in errors. */
export function midiTimeline(bytes: Uint8Array, file: string): { time: Millis; bytes: number[] }[] {
  let data;
  try {
    data = parseMidi(bytes);
  } catch (err) {
    throw new InputFileError(
      file,
      `not a readable MIDI file (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const tpq = data.header.ticksPerBeat ?? TPQ;
  const all: { tick: number; order: number; event: MidiEvent }[] = [];
  data.tracks.forEach((track) => {
    let tick = 0;
    for (const e of track) {
      tick += e.deltaTime;
      all.push({ tick, order: all.length, event: e });
    }
  });
  all.sort((a, b) => a.tick - b.tick || a.order - b.order);
  let usPerQuarter = 500_000;
  let lastTick = 0;
  let ms = 0;
  const out: { time: Millis; bytes: number[] }[] = [];
  for (const { tick, event } of all) {
    ms += ((tick - lastTick) * usPerQuarter) / tpq / 1000;
    lastTick = tick;
    if (event.type === 'setTempo') usPerQuarter = event.microsecondsPerBeat;
    const bytes = channelEventBytes(event);
    if (bytes) out.push({ time: ms, bytes });
  }
  return out;
}

/**
 * The longest single wait a file source sets: Node's timers overflow past 2³¹−1 ms (about 24.8 days)
 * and fire at once, so a longer gap is waited out in steps.
 */
export const MAX_TIMER_MS = 2 ** 30;

/**
 * A MIDI file played in as input, in real time from when it is opened. One timer at a time, set for
 * the next event (every event due then is delivered together, in file order): a 200 K-note file
 * holds one timer, not one per event, and a gap of months is waited out in steps.
 */
export class FileSource {
  private readonly listeners: ((m: MidiMessage) => void)[] = [];
  private readonly endListeners: (() => void)[] = [];
  private readonly parser = new MidiStreamParser();
  private timer: ReturnType<Clock['setTimer']> | null = null;
  private ended = false;
  private closed = false;
  private readonly timeline: { time: Millis; bytes: number[] }[];
  private readonly start: Millis;
  private readonly end: Millis;
  private next = 0;

  constructor(
    readonly name: string,
    private readonly clock: Clock,
  ) {
    this.timeline = readMidiTimeline(name);
    this.start = clock.now();
    this.end = this.timeline.length ? (this.timeline[this.timeline.length - 1] as { time: number }).time : 0;
    this.arm();
  }

  /** Sets the one timer: for the next event, or the end, or as far toward it as a timer may wait. */
  private arm(): void {
    if (this.closed) return;
    const due = this.timeline[this.next]?.time ?? this.end;
    const wait = Math.max(0, this.start + due - this.clock.now());
    this.timer = this.clock.setTimer(() => this.fire(), Math.min(wait, MAX_TIMER_MS));
  }

  private fire(): void {
    this.timer = null;
    const elapsed = this.clock.now() - this.start;
    while (this.next < this.timeline.length) {
      const e = this.timeline[this.next] as { time: Millis; bytes: number[] };
      if (e.time > elapsed + 1e-6) break;
      this.next++;
      this.parser.push(e.bytes).forEach((m) => this.listeners.forEach((cb) => cb(m)));
      if (this.closed) return;
    }
    if (this.next >= this.timeline.length && elapsed + 1e-6 >= this.end) {
      this.ended = true;
      this.endListeners.forEach((cb) => cb());
      return;
    }
    this.arm();
  }

  get dropped(): number {
    return this.parser.dropped;
  }

  get done(): boolean {
    return this.ended;
  }

  onMessage(cb: (m: MidiMessage) => void): void {
    this.listeners.push(cb);
  }

  /** Called once the whole file has been played in. */
  onEnd(cb: () => void): void {
    this.endListeners.push(cb);
  }

  close(): Promise<void> {
    this.closed = true;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = null;
    return Promise.resolve();
  }
}
