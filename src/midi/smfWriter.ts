/**
 * Writes Standard MIDI Files with midi-file: a conductor track (tempo, meter, name) and one track per
 * part. At equal times note-offs come before note-ons, so repeated pitches never cut each other.
 * The file is written beside its target and renamed, so a failure never leaves half a file.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { writeMidi, type MidiData, type MidiEvent } from 'midi-file';

export interface SmfNote {
  /** Start and length in quarter notes. */
  readonly start: number;
  readonly dur: number;
  readonly midi: number;
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
  readonly meter: { readonly numerator: number; readonly denominator: number };
  readonly title: string;
  readonly parts: readonly SmfPart[];
}

export const TICKS_PER_QUARTER = 480;

function partTrack(part: SmfPart): MidiEvent[] {
  const timed: { tick: number; order: number; event: MidiEvent }[] = [];
  for (const n of part.notes) {
    if (!(n.dur > 0)) continue;
    const on = Math.round(n.start * TICKS_PER_QUARTER);
    const off = Math.max(on + 1, Math.round((n.start + n.dur) * TICKS_PER_QUARTER));
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
  }
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
  return Uint8Array.from(writeMidi(data));
}

/** Writes a document to `file` atomically (temporary file, then rename). */
export function writeSmf(file: string, doc: SmfDocument): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, encodeSmf(doc));
  renameSync(tmp, file);
}
