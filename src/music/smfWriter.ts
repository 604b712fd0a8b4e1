/**
 * Writes Standard MIDI Files (midi-file's event types, smfBytes.ts's encoder): a conductor track (tempo, meter, name) and one track per
 * part. At equal times note-offs come before note-ons, so repeated pitches never cut each other.
 * The file is written beside its target and renamed, so a failure never leaves half a file.
 */
import { OutputFileError } from './errors.ts';
import { writeFileAtomicSync } from './files.ts';
import type { MidiData, MidiEvent } from 'midi-file';
import { smfBytes } from './smfBytes.ts';
import type { Note } from './note.ts';
import type { Quarters, TimeSignature } from './units.ts';

/** A note as the file gets it: start and length in quarter notes, and its velocity. */
export interface SmfNote extends Note<Quarters> {
  readonly velocity: number;
}

export interface SmfPart {
  readonly name: string;
  readonly channel: number;
  /** General MIDI program, 0-based. */
  readonly program: number;
  readonly notes: readonly SmfNote[];
}

export interface SmfDocument {
  readonly bpm: number;
  readonly meter: TimeSignature;
  readonly title: string;
  readonly parts: readonly SmfPart[];
}

export const TICKS_PER_QUARTER = 480;

/** The largest time a file can hold: a delta is a variable-length quantity of at most 4 bytes. */
const MAX_TICK = 0x0fffffff;

function partTrack(part: SmfPart): MidiEvent[] {
  const timed: { tick: number; order: number; event: MidiEvent }[] = [];
  part.notes.forEach((n, i) => {
    if (!(n.dur > 0)) return;
    const what = `${part.name}: note ${i + 1}`;
    if (!Number.isInteger(n.midi) || n.midi < 0 || n.midi > 127)
      throw new RangeError(`${what} has pitch ${n.midi}, outside MIDI's 0–127`);
    if (!Number.isInteger(n.velocity) || n.velocity < 1 || n.velocity > 127)
      throw new RangeError(`${what} has velocity ${n.velocity}, outside 1–127`);
    const on = Math.round(n.start * TICKS_PER_QUARTER);
    const off = Math.max(on + 1, Math.round((n.start + n.dur) * TICKS_PER_QUARTER));
    if (!(on >= 0) || !(off <= MAX_TICK))
      throw new RangeError(
        `${what} spans quarters ${n.start}–${n.start + n.dur}, beyond what a MIDI file holds (0–${Math.floor(MAX_TICK / TICKS_PER_QUARTER)})`,
      );
    timed.push({
      tick: on,
      order: 1,
      event: {
        deltaTime: 0,
        type: 'noteOn',
        channel: part.channel,
        noteNumber: n.midi,
        velocity: n.velocity,
      },
    });
    timed.push({
      tick: off,
      order: 0,
      event: { deltaTime: 0, type: 'noteOff', channel: part.channel, noteNumber: n.midi, velocity: 0 },
    });
  });
  timed.sort((a, b) => a.tick - b.tick || a.order - b.order);
  const events: MidiEvent[] = [
    { deltaTime: 0, meta: true, type: 'trackName', text: part.name },
    { deltaTime: 0, type: 'programChange', channel: part.channel, programNumber: part.program },
  ];
  let last = 0;
  for (const t of timed) {
    events.push({ ...t.event, deltaTime: t.tick - last });
    last = t.tick;
  }
  events.push({ deltaTime: 0, meta: true, type: 'endOfTrack' });
  return events;
}

/** Encodes a document as SMF format 1 bytes. */
export function encodeSmf(doc: SmfDocument): Uint8Array {
  const conductor: MidiEvent[] = [
    { deltaTime: 0, meta: true, type: 'trackName', text: doc.title },
    { deltaTime: 0, meta: true, type: 'setTempo', microsecondsPerBeat: Math.round(60_000_000 / doc.bpm) },
    {
      deltaTime: 0,
      meta: true,
      type: 'timeSignature',
      numerator: doc.meter.numerator,
      denominator: doc.meter.denominator,
      metronome: 24,
      thirtyseconds: 8,
    },
    { deltaTime: 0, meta: true, type: 'endOfTrack' },
  ];
  const data: MidiData = {
    header: { format: 1, numTracks: doc.parts.length + 1, ticksPerBeat: TICKS_PER_QUARTER },
    tracks: [conductor, ...doc.parts.map(partTrack)],
  };
  return smfBytes(data);
}

/** Writes a document to `file` atomically (temporary file, then rename). */
export function writeSmf(file: string, doc: SmfDocument): void {
  let bytes: Uint8Array;
  try {
    bytes = encodeSmf(doc);
  } catch (err) {
    if (err instanceof RangeError) throw new OutputFileError(file, `not written: ${err.message}`);
    throw err;
  }
  writeFileAtomicSync(file, bytes);
}
