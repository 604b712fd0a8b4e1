/** Standard MIDI File reading into per-track notes (deepjazz-grammar.md §2.1), through midi-file. */
import { readFileSync } from 'node:fs';
import { parseMidi, type MidiData } from 'midi-file';
import { InputFileError, ioReason } from './errors.ts';
import type { Midi, Ticks, TimeSignature } from './units.ts';

export type { Ticks } from './units.ts';

export interface RawNote {
  readonly on: Ticks;
  readonly off: Ticks;
  readonly midi: Midi;
  readonly channel: number;
  readonly velocity: number;
}

export interface SmfTrack {
  /** Index of the track in the file (track 0 is usually the conductor). */
  readonly index: number;
  readonly name: string;
  readonly notes: readonly RawNote[];
  readonly channels: ReadonlySet<number>;
}

export interface SmfSong {
  readonly file: string;
  readonly ticksPerQuarter: number;
  readonly tracks: readonly SmfTrack[];
  /** Beats per bar and the beat's note value, from the first time signature (4/4 if none). */
  readonly meter: TimeSignature;
  /** Microseconds per quarter note of the first tempo event (500000 = 120 BPM if none). */
  readonly microsecondsPerQuarter: number;
}

/** Pairs note-ons with the first later unused note-off of the same pitch and channel (FIFO), in note-on order. */
function pairNotes(events: MidiData['tracks'][number]): { notes: RawNote[]; name: string } {
  let tick = 0;
  let name = '';
  const open = new Map<number, { on: number; index: number; velocity: number }[]>();
  const slots: (RawNote | null)[] = [];
  for (const e of events) {
    tick += e.deltaTime;
    if (e.type === 'trackName' && !name) name = e.text.trim();
    if (e.type === 'noteOn' && e.velocity > 0) {
      const key = e.channel * 128 + e.noteNumber;
      const list = open.get(key) ?? [];
      list.push({ on: tick, index: slots.length, velocity: e.velocity });
      open.set(key, list);
      slots.push(null);
    } else if (e.type === 'noteOff' || (e.type === 'noteOn' && e.velocity === 0)) {
      const key = e.channel * 128 + e.noteNumber;
      const started = open.get(key)?.shift();
      if (started) {
        slots[started.index] = {
          on: started.on,
          off: tick,
          midi: e.noteNumber,
          channel: e.channel,
          velocity: started.velocity,
        };
      }
    }
  }
  // A note never switched off ends at the track's last tick.
  for (const [key, list] of open) {
    for (const s of list) {
      slots[s.index] = {
        on: s.on,
        off: tick,
        midi: key % 128,
        channel: Math.floor(key / 128),
        velocity: s.velocity,
      };
    }
  }
  return { notes: slots.filter((n): n is RawNote => n !== null), name };
}

/** Parses MIDI bytes; throws InputFileError naming the file for anything that is not a readable SMF. */
export function parseSmf(bytes: Uint8Array, file: string): SmfSong {
  if (bytes.length < 14 || String.fromCharCode(...bytes.subarray(0, 4)) !== 'MThd') {
    throw new InputFileError(file, 'not a Standard MIDI File (no MThd header)');
  }
  let data: MidiData;
  try {
    data = parseMidi(bytes);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new InputFileError(file, `unreadable or truncated MIDI data (${why})`);
  }
  const declared = new DataView(bytes.buffer, bytes.byteOffset).getUint16(10);
  if (data.tracks.length < declared) {
    throw new InputFileError(
      file,
      `truncated: header declares ${declared} tracks, found ${data.tracks.length}`,
    );
  }
  const tpq = data.header.ticksPerBeat;
  if (!tpq) throw new InputFileError(file, 'SMPTE time division is not supported; ticks per quarter needed');
  let meter = { numerator: 4, denominator: 4 };
  let usPerQuarter = 500000;
  let sawMeter = false;
  let sawTempo = false;
  for (const track of data.tracks) {
    for (const e of track) {
      if (e.type === 'timeSignature' && !sawMeter) {
        meter = { numerator: e.numerator, denominator: e.denominator };
        sawMeter = true;
      }
      if (e.type === 'setTempo' && !sawTempo) {
        usPerQuarter = e.microsecondsPerBeat;
        sawTempo = true;
      }
    }
  }
  const tracks = data.tracks.map((events, index) => {
    const { notes, name } = pairNotes(events);
    return { index, name, notes, channels: new Set(notes.map((n) => n.channel)) };
  });
  if (tracks.every((t) => t.notes.length === 0)) throw new InputFileError(file, 'no notes in any track');
  return { file, ticksPerQuarter: tpq, tracks, meter, microsecondsPerQuarter: usPerQuarter };
}

/** Reads and parses a MIDI file from disk. */
export function readSmf(file: string): SmfSong {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new InputFileError(file, `cannot read file (${ioReason(err)})`);
  }
  return parseSmf(bytes, file);
}
