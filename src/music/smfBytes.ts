/**
 * The bytes of a Standard MIDI File for the events this project writes. By hand because midi-file's
 * writer (reading stays on midi-file) copies the whole track for every delta that takes more than one
 * byte: writing a 4,000-bar solo took 58 s. Here a track is one growing byte list, so writing is linear.
 */
import type { MidiData, MidiEvent } from 'midi-file';

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0) & 0x7f);
export const u32 = (n: number): number[] => [
  (n >>> 24) & 0xff,
  (n >>> 16) & 0xff,
  (n >>> 8) & 0xff,
  n & 0xff,
];

/** A MIDI variable-length quantity (delta times, meta lengths): 7 bits a byte, high bit set on all but the last. */
export function vlq(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0x0fffffff)
    throw new RangeError(`delta ${n} is outside 0–0x0FFFFFFF`);
  const out = [n & 0x7f];
  for (let v = n >>> 7; v > 0; v >>>= 7) out.unshift((v & 0x7f) | 0x80);
  return out;
}

const meta = (type: number, data: readonly number[]): number[] => [0xff, type, ...vlq(data.length), ...data];

/** A channel event's bytes (no running status), or null for a meta or system event. */
export function channelEventBytes(e: MidiEvent): number[] | null {
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

/** An event's bytes after its delta time. */
function eventBytes(e: MidiEvent): number[] {
  const channel = channelEventBytes(e);
  if (channel) return channel;
  switch (e.type) {
    case 'trackName':
      return meta(0x03, [...Buffer.from(e.text, 'utf8')]);
    case 'text':
      return meta(0x01, [...Buffer.from(e.text, 'utf8')]);
    case 'setTempo': {
      const us = e.microsecondsPerBeat;
      return meta(0x51, [(us >> 16) & 0xff, (us >> 8) & 0xff, us & 0xff]);
    }
    case 'timeSignature':
      return meta(0x58, [e.numerator, Math.log2(e.denominator), e.metronome, e.thirtyseconds]);
    case 'endOfTrack':
      return [0xff, 0x2f, 0x00];
    default:
      throw new RangeError(`the SMF writer does not write ${e.type} events`);
  }
}

/** A track's data (after its chunk header). */
function trackBytes(events: readonly MidiEvent[]): number[] {
  const out: number[] = [];
  for (const e of events) for (const b of [...vlq(e.deltaTime), ...eventBytes(e)]) out.push(b);
  return out;
}

/** A whole file: header chunk, then one MTrk chunk per track. */
export function smfBytes(data: MidiData): Uint8Array {
  const out: number[] = [
    ...ascii('MThd'),
    ...u32(6),
    0,
    data.header.format,
    0,
    data.tracks.length,
    ((data.header.ticksPerBeat ?? 480) >> 8) & 0xff,
    (data.header.ticksPerBeat ?? 480) & 0xff,
  ];
  for (const track of data.tracks) {
    const body = trackBytes(track);
    for (const b of [...ascii('MTrk'), ...u32(body.length)]) out.push(b);
    for (const b of body) out.push(b);
  }
  return Uint8Array.from(out);
}
