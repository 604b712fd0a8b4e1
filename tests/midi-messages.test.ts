import { describe, expect, it } from 'vitest';
import { encodeMessage, MidiStreamParser, parseMessage, type MidiMessage } from '../src/midi/messages.ts';
import { NoteTracker } from '../src/midi/noteTracker.ts';

describe('MIDI messages', () => {
  it.each<[number[], MidiMessage]>([
    [[0x90, 60, 100], { type: 'noteon', channel: 0, note: 60, velocity: 100 }],
    [[0x93, 60, 0], { type: 'noteoff', channel: 3, note: 60, velocity: 0 }],
    [[0x85, 61, 64], { type: 'noteoff', channel: 5, note: 61, velocity: 64 }],
    [[0xb1, 74, 127], { type: 'cc', channel: 1, controller: 74, value: 127 }],
    [[0xc9, 32], { type: 'program', channel: 9, program: 32 }],
    [[0xe0, 0, 64], { type: 'pitchbend', channel: 0, value: 0 }],
    [[0xf8], { type: 'clock' }],
    [[0xfa], { type: 'start' }],
    [[0xfb], { type: 'continue' }],
    [[0xfc], { type: 'stop' }],
    [[0xf2, 0x10, 0x01], { type: 'songposition', sixteenths: 144 }],
  ])('%j ↔ %o', (bytes, message) => {
    expect(parseMessage(bytes)).toEqual(message);
    if (!(bytes[0] === 0x93 && bytes[2] === 0)) expect(encodeMessage(message)).toEqual(bytes);
  });

  it.each([[[]], [[60, 100]], [[0x90, 60]], [[0x90, 60, 200]], [[0xf8, 1]], [[0x90, 60, 1.5]]])(
    'refuses %j',
    (bytes) => {
      expect(parseMessage(bytes)).toBeNull();
    },
  );
});

describe('MIDI byte stream parser', () => {
  it('reads running status and real-time bytes inside a message', () => {
    const p = new MidiStreamParser();
    const got = p.push([0x90, 60, 0xf8, 100, 62, 90, 0x80, 60, 0]);
    expect(got).toEqual([
      { type: 'clock' },
      { type: 'noteon', channel: 0, note: 60, velocity: 100 },
      { type: 'noteon', channel: 0, note: 62, velocity: 90 },
      { type: 'noteoff', channel: 0, note: 60, velocity: 0 },
    ]);
    expect(p.dropped).toBe(0);
  });

  it('drops and counts garbage: stray data, cut-off messages, unterminated SysEx, non-bytes', () => {
    const p = new MidiStreamParser();
    const got = p.push([5, 7, 0x90, 60, 0xb0, 7, 100, 0xf0, 1, 2, 0x90, 64, 80, 300]);
    expect(got).toEqual([
      { type: 'cc', channel: 0, controller: 7, value: 100 },
      { type: 'noteon', channel: 0, note: 64, velocity: 80 },
    ]);
    expect(p.dropped).toBe(5); // 5, 7, the cut note-on, the cut SysEx, 300
  });

  it('passes a complete SysEx through as "other"', () => {
    expect(new MidiStreamParser().push([0xf0, 0x7e, 1, 0xf7])).toEqual([
      { type: 'other', bytes: [0xf0, 0x7e, 1, 0xf7] },
    ]);
  });
});

describe('note tracker', () => {
  it('releases every sounding note once per note-on, then All Notes Off on each channel used', () => {
    const t = new NoteTracker();
    const on = (channel: number, note: number): MidiMessage => ({
      type: 'noteon',
      channel,
      note,
      velocity: 90,
    });
    [on(0, 60), on(0, 60), on(1, 64), on(0, 67)].forEach((m) => t.note(m));
    t.note({ type: 'noteoff', channel: 0, note: 67, velocity: 0 });
    expect(t.count).toBe(3);
    expect(t.releaseAll()).toEqual([
      { type: 'noteoff', channel: 0, note: 60, velocity: 0 },
      { type: 'noteoff', channel: 0, note: 60, velocity: 0 },
      { type: 'noteoff', channel: 1, note: 64, velocity: 0 },
      { type: 'cc', channel: 0, controller: 123, value: 0 },
      { type: 'cc', channel: 1, controller: 123, value: 0 },
    ]);
    expect(t.count).toBe(0);
  });
});
