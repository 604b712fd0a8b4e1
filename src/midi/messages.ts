/**
 * MIDI bytes parsed once into typed messages (a union tagged on `type`), and back. The stream parser
 * handles running status and real-time bytes inside other messages, and counts what it has to drop.
 */
export type MidiMessage =
  | { readonly type: 'noteon'; readonly channel: number; readonly note: number; readonly velocity: number }
  | { readonly type: 'noteoff'; readonly channel: number; readonly note: number; readonly velocity: number }
  | { readonly type: 'cc'; readonly channel: number; readonly controller: number; readonly value: number }
  | { readonly type: 'program'; readonly channel: number; readonly program: number }
  | { readonly type: 'pitchbend'; readonly channel: number; readonly value: number }
  | { readonly type: 'clock' }
  | { readonly type: 'start' }
  | { readonly type: 'continue' }
  | { readonly type: 'stop' }
  /** Song Position Pointer, in MIDI beats (sixteenth notes). */
  | { readonly type: 'songposition'; readonly sixteenths: number }
  | { readonly type: 'other'; readonly bytes: readonly number[] };

export type MidiMessageType = MidiMessage['type'];

const DATA_BYTES: Record<number, number> = { 0x80: 2, 0x90: 2, 0xa0: 2, 0xb0: 2, 0xc0: 1, 0xd0: 1, 0xe0: 2 };

/** Parses one complete message; null when the bytes are not a well-formed message. */
export function parseMessage(bytes: readonly number[]): MidiMessage | null {
  const status = bytes[0];
  if (status === undefined || status < 0x80 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255))
    return null;
  if (status >= 0xf0) {
    switch (status) {
      case 0xf8:
        return bytes.length === 1 ? { type: 'clock' } : null;
      case 0xfa:
        return bytes.length === 1 ? { type: 'start' } : null;
      case 0xfb:
        return bytes.length === 1 ? { type: 'continue' } : null;
      case 0xfc:
        return bytes.length === 1 ? { type: 'stop' } : null;
      case 0xf2: {
        const [, lsb, msb] = bytes;
        if (bytes.length !== 3 || lsb === undefined || msb === undefined || lsb > 127 || msb > 127)
          return null;
        return { type: 'songposition', sixteenths: (msb << 7) | lsb };
      }
      default:
        return { type: 'other', bytes: [...bytes] };
    }
  }
  const kind = status & 0xf0;
  const channel = status & 0x0f;
  const data = bytes.slice(1);
  if (data.length !== DATA_BYTES[kind] || data.some((b) => b > 127)) return null;
  const [a = 0, b = 0] = data;
  switch (kind) {
    case 0x90:
      return b === 0
        ? { type: 'noteoff', channel, note: a, velocity: 0 }
        : { type: 'noteon', channel, note: a, velocity: b };
    case 0x80:
      return { type: 'noteoff', channel, note: a, velocity: b };
    case 0xb0:
      return { type: 'cc', channel, controller: a, value: b };
    case 0xc0:
      return { type: 'program', channel, program: a };
    case 0xe0:
      return { type: 'pitchbend', channel, value: ((b << 7) | a) - 8192 };
    default:
      return { type: 'other', bytes: [...bytes] };
  }
}

/** Encodes a message as bytes. */
export function encodeMessage(m: MidiMessage): number[] {
  switch (m.type) {
    case 'noteon':
      return [0x90 | m.channel, m.note, m.velocity];
    case 'noteoff':
      return [0x80 | m.channel, m.note, m.velocity];
    case 'cc':
      return [0xb0 | m.channel, m.controller, m.value];
    case 'program':
      return [0xc0 | m.channel, m.program];
    case 'pitchbend': {
      const v = m.value + 8192;
      return [0xe0 | m.channel, v & 0x7f, (v >> 7) & 0x7f];
    }
    case 'clock':
      return [0xf8];
    case 'start':
      return [0xfa];
    case 'continue':
      return [0xfb];
    case 'stop':
      return [0xfc];
    case 'songposition':
      return [0xf2, m.sixteenths & 0x7f, (m.sixteenths >> 7) & 0x7f];
    case 'other':
      return [...m.bytes];
  }
}

/**
 * The longest SysEx kept (bytes, F0 included). The improviser reads no SysEx; this is room for the
 * usual device messages, and a bound on what an unterminated one can hold.
 */
export const MAX_SYSEX_BYTES = 65_536;

/**
 * Turns an arbitrary byte stream into messages: running status, real-time bytes in the middle of a
 * message, and SysEx are handled; stray data bytes and cut-off messages are dropped and counted.
 */
export class MidiStreamParser {
  dropped = 0;
  private running: number | null = null;
  private pending: number[] = [];
  private sysex = false;
  /** The SysEx under way passed MAX_SYSEX_BYTES: its bytes are skipped until it ends. */
  private oversize = false;

  push(bytes: Iterable<number>): MidiMessage[] {
    const out: MidiMessage[] = [];
    for (const raw of bytes) {
      const byte = raw & 0xff;
      if (raw !== byte || !Number.isInteger(raw)) {
        this.dropped++;
        continue;
      }
      if (byte >= 0xf8) {
        const m = parseMessage([byte]);
        if (m) out.push(m);
        else this.dropped++;
        continue;
      }
      if (this.sysex) {
        if (byte === 0xf7) {
          if (!this.oversize) out.push({ type: 'other', bytes: [...this.pending, byte] });
          this.pending = [];
          this.sysex = this.oversize = false;
        } else if (byte >= 0x80) {
          if (!this.oversize) this.dropped++; // an unterminated SysEx, cut off by a new status byte
          this.sysex = this.oversize = false;
          this.pending = [];
          this.status(byte, out);
        } else if (this.oversize) continue;
        else if (this.pending.length >= MAX_SYSEX_BYTES) {
          // a stream that never ends its SysEx must not grow memory: drop it (counted once), skip the rest
          this.dropped++;
          this.oversize = true;
          this.pending = [];
        } else this.pending.push(byte);
        continue;
      }
      if (byte >= 0x80) {
        this.status(byte, out);
        continue;
      }
      if (this.pending.length === 0) {
        if (this.running === null) {
          this.dropped++; // a data byte with no status
          continue;
        }
        this.pending = [this.running];
      }
      this.pending.push(byte);
      this.complete(out);
    }
    return out;
  }

  private status(byte: number, out: MidiMessage[]): void {
    if (this.pending.length > 0) this.dropped++; // the previous message was cut off
    this.pending = [byte];
    if (byte === 0xf0) {
      this.sysex = true;
      this.running = null;
      return;
    }
    this.running = byte < 0xf0 ? byte : null;
    this.complete(out);
  }

  private complete(out: MidiMessage[]): void {
    const status = this.pending[0] as number;
    const need =
      status < 0xf0
        ? (DATA_BYTES[status & 0xf0] as number)
        : status === 0xf2
          ? 2
          : status === 0xf1 || status === 0xf3
            ? 1
            : 0;
    if (this.pending.length - 1 < need) return;
    const m = parseMessage(this.pending);
    if (m) out.push(m);
    else this.dropped++;
    this.pending = [];
  }
}
