/**
 * File "ports": a sink that records what is sent, with its times, into a Standard MIDI File when
 * closed, and a source that plays a MIDI file in as if a player played it (rehearsal without a
 * keyboard, scripted checks). Both run on the injected clock, so tests drive them with virtual time.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseMidi, writeMidi, type MidiEvent } from 'midi-file';
import { InputFileError } from '../music/errors.ts';
import type { Clock, Millis } from '../runtime/clock.ts';
import { encodeMessage, MidiStreamParser, parseMessage, type MidiMessage } from './messages.ts';

const TPQ = 480;
const SINK_BPM = 120;

export class FileSink {
  readonly events: { time: Millis; message: MidiMessage }[] = [];
  private readonly start: Millis;
  private closed = false;

  constructor(
    readonly name: string,
    private readonly clock: Clock,
  ) {
    this.start = clock.now();
  }

  send(message: MidiMessage): void {
    if (!this.closed) this.events.push({ time: this.clock.now() - this.start, message });
  }

  /** Writes the recording (120 BPM, 480 ticks per quarter) atomically. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const ticksPerMs = (TPQ * SINK_BPM) / 60_000;
    const track: MidiEvent[] = [
      { deltaTime: 0, meta: true, type: 'setTempo', microsecondsPerBeat: 60_000_000 / SINK_BPM },
    ];
    let last = 0;
    for (const e of this.events) {
      const tick = Math.round(e.time * ticksPerMs);
      const bytes = encodeMessage(e.message);
      const event = toMidiFileEvent(bytes);
      if (!event) continue;
      track.push({ ...event, deltaTime: tick - last });
      last = tick;
    }
    track.push({ deltaTime: 0, meta: true, type: 'endOfTrack' });
    const tmp = `${this.name}.tmp-${process.pid}`;
    writeFileSync(
      tmp,
      Uint8Array.from(writeMidi({ header: { format: 0, numTracks: 1, ticksPerBeat: TPQ }, tracks: [track] })),
    );
    renameSync(tmp, this.name);
    return Promise.resolve();
  }
}

function toMidiFileEvent(bytes: number[]): MidiEvent | null {
  const m = parseMessage(bytes);
  if (!m) return null;
  switch (m.type) {
    case 'noteon':
      return { deltaTime: 0, type: 'noteOn', channel: m.channel, noteNumber: m.note, velocity: m.velocity };
    case 'noteoff':
      return { deltaTime: 0, type: 'noteOff', channel: m.channel, noteNumber: m.note, velocity: m.velocity };
    case 'cc':
      return {
        deltaTime: 0,
        type: 'controller',
        channel: m.channel,
        controllerType: m.controller,
        value: m.value,
      };
    case 'program':
      return { deltaTime: 0, type: 'programChange', channel: m.channel, programNumber: m.program };
    case 'pitchbend':
      return { deltaTime: 0, type: 'pitchBend', channel: m.channel, value: m.value };
    default:
      return null; // real-time messages are not stored in a file
  }
}

function fromMidiFileEvent(e: MidiEvent): number[] | null {
  switch (e.type) {
    case 'noteOn':
      return [0x90 | e.channel, e.noteNumber, e.velocity];
    case 'noteOff':
      return [0x80 | e.channel, e.noteNumber, e.velocity];
    case 'controller':
      return [0xb0 | e.channel, e.controllerType, e.value];
    case 'programChange':
      return [0xc0 | e.channel, e.programNumber];
    case 'pitchBend': {
      const v = e.value + 8192;
      return [0xe0 | e.channel, v & 0x7f, (v >> 7) & 0x7f];
    }
    default:
      return null;
  }
}

/** Reads a MIDI file into (milliseconds, bytes) in time order, following its tempo changes. */
export function readMidiTimeline(file: string): { time: Millis; bytes: number[] }[] {
  let data;
  try {
    data = parseMidi(readFileSync(file));
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
    const bytes = fromMidiFileEvent(event);
    if (bytes) out.push({ time: ms, bytes });
  }
  return out;
}

export class FileSource {
  private readonly listeners: ((m: MidiMessage) => void)[] = [];
  private readonly endListeners: (() => void)[] = [];
  private readonly parser = new MidiStreamParser();
  private readonly timers: ReturnType<Clock['setTimer']>[] = [];
  private ended = false;

  constructor(
    readonly name: string,
    private readonly clock: Clock,
  ) {
    const timeline = readMidiTimeline(name);
    for (const { time, bytes } of timeline) {
      this.timers.push(
        clock.setTimer(
          () => this.parser.push(bytes).forEach((m) => this.listeners.forEach((cb) => cb(m))),
          time,
        ),
      );
    }
    const end = timeline.length ? (timeline[timeline.length - 1] as { time: number }).time : 0;
    this.timers.push(
      clock.setTimer(() => {
        this.ended = true;
        this.endListeners.forEach((cb) => cb());
      }, end),
    );
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
    this.timers.forEach((t) => this.clock.clearTimer(t));
    return Promise.resolve();
  }
}
