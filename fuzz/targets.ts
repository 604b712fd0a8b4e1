/**
 * What the fuzzer feeds: everything that reads bytes from outside. Each target names the errors that
 * are its clear answer to bad input; anything else it throws, or a broken invariant, is a defect.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { ConfigError, parseConfig } from '../src/daemon/config.ts';
import { ControlBodyError, parseControl } from '../src/daemon/server.ts';
import { midiTimeline } from '../src/midi/filePorts.ts';
import { encodeMessage, MidiStreamParser, parseMessage, type MidiMessage } from '../src/midi/messages.ts';
import { AbcStreamReader, readAbc } from '../src/music/abc/reader.ts';
import { InputFileError } from '../src/music/errors.ts';
import { parseSmf } from '../src/music/smf.ts';
import type { FuzzTarget } from './engine.ts';

class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

const check = (ok: boolean, what: string): void => {
  if (!ok) throw new InvariantError(what);
};
const text = (data: Uint8Array): string => new TextDecoder().decode(data);
const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);
const file = (path: string, max = 4096): Uint8Array => Uint8Array.from(readFileSync(path).subarray(0, max));

/** The live input's byte stream: any bytes, in any pieces, give the same valid messages. */
const midiStream: FuzzTarget = {
  name: 'midi-stream',
  run(data) {
    const whole = new MidiStreamParser().push(data);
    const pieces = new MidiStreamParser();
    const cut = data.length ? (data[0] as number) % (data.length + 1) : 0;
    const split = [...pieces.push(data.subarray(0, cut)), ...pieces.push(data.subarray(cut))];
    check(isDeepStrictEqual(whole, split), 'split input parsed differently');
    for (const m of whole) {
      if (m.type === 'other') continue;
      const back = parseMessage(encodeMessage(m));
      check(isDeepStrictEqual(back, m), `message does not survive a round trip: ${JSON.stringify(m)}`);
    }
  },
  expected: () => false,
  seeds: () => [
    Uint8Array.from([
      0x90, 60, 100, 0x80, 60, 0, 0xb0, 64, 127, 0xf8, 0xf0, 1, 2, 0xf7, 0xf2, 10, 3, 0xe0, 0, 64,
    ]),
    Uint8Array.from([0x90, 60, 100, 62, 100, 0xf8, 64, 100]),
  ],
  maxLength: 1024,
};

const timeOrdered = (events: readonly { time: number }[]): boolean =>
  events.every((e, i) => Number.isFinite(e.time) && (i === 0 || e.time >= (events[i - 1]?.time ?? 0)));

/** Standard MIDI Files: the corpus reader and the file input's timeline. */
const smf: FuzzTarget = {
  name: 'smf',
  run(data) {
    try {
      const song = parseSmf(data, 'fuzz.mid');
      for (const t of song.tracks)
        for (const n of t.notes) check(n.off >= n.on && n.midi >= 0 && n.midi <= 127, 'note out of range');
    } catch (err) {
      if (!(err instanceof InputFileError)) throw err;
    }
    const timeline = midiTimeline(data, 'fuzz.mid');
    check(timeOrdered(timeline), 'timeline out of order or not finite');
  },
  expected: (err) => err instanceof InputFileError,
  seeds: () => [file('data/original_metheny.mid', 2048), file('tests/fixtures/p78-bars.txt', 64)],
  covers: ['/src/', '/node_modules/midi-file/'],
  dictionary: ['MThd', 'MTrk', '\x00\x00\x00\x06', '\xff\x51\x03', '\xff\x2f\x00', '\xff\x58\x04'],
};

/** The streaming ABC reader: never throws, streams as it reads whole, and what it emits fits MIDI. */
const abc: FuzzTarget = {
  name: 'abc',
  run(data) {
    const s = text(data);
    const whole = readAbc(s).events;
    const reader = new AbcStreamReader();
    const cut = Math.floor(s.length / 2);
    const streamed = [...reader.push(s.slice(0, cut)), ...reader.push(s.slice(cut)), ...reader.end()];
    check(isDeepStrictEqual(streamed, whole), 'streamed in two pieces, the reader gave other events');
    for (const e of whole) {
      if (e.type !== 'note' && e.type !== 'rest') continue;
      check(
        Number.isFinite(e.start) && Number.isFinite(e.dur) && e.dur > 0,
        'a note without a finite length',
      );
      if (e.type === 'note')
        check(Number.isInteger(e.pitch) && e.pitch >= 0 && e.pitch <= 127, 'pitch outside 0–127');
    }
  },
  expected: () => false,
  seeds: () => [
    file('data/irish.abc', 1500),
    bytesOf('X:1\nT:t\nM:6/8\nL:1/8\nK:G\n|:GAB (3cBA dBG|1 c2A :|2 d2B||\n'),
  ],
  dictionary: [
    'X:1\n',
    'K:G\n',
    'M:6/8\n',
    'L:1/8\n',
    'M:C|\n',
    '|:',
    ':|',
    '[1',
    '|]',
    '(3',
    'z',
    '^',
    '_',
    "'",
    ',',
    '>',
    '-',
    '"G"',
    '[CEG]',
    'Z4',
    'C9',
    '/',
    '[K:D]',
    '\n',
  ],
};

/** The daemon's config file, as JSON and as YAML. */
const config: FuzzTarget = {
  name: 'config',
  covers: ['/src/', '/node_modules/yaml/', '/node_modules/zod/'],
  run(data) {
    const s = text(data);
    for (const name of ['fuzz.json', 'fuzz.yaml']) {
      try {
        const c = parseConfig(s, name);
        check(c.bpm >= 20 && c.bpm <= 400 && c.models.length > 0, 'a config outside its schema was accepted');
        check(!c.http.allowRemote || c.http.token !== undefined, 'allowRemote without a token was accepted');
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
      }
    }
  },
  expected: () => false,
  seeds: () => [
    file('examples/improv.config.json'),
    bytesOf('mode: solo\nbpm: 96\nchannels:\n  out: 3\nhttp:\n  port: 0\n'),
  ],
  dictionary: [
    '"input"',
    '"http"',
    '"token"',
    '"allowRemote"',
    'true',
    'null',
    '{',
    '}',
    ':',
    '- ',
    '\n  ',
    '"__proto__"',
    '1e999',
    '&a',
    '*a',
    '!!binary',
    '<<: ',
  ],
};

/** The fields /control takes (README): any other key accepted is a defect. */
const CONTROL_KEYS = new Set([
  'temperature',
  'topP',
  'model',
  'mode',
  'bpm',
  'responseBars',
  'chords',
  'maxCopy',
  'panic',
]);

/** Whether `v` is absent or within [min, max]. */
const within = (v: number | undefined, min: number, max: number): boolean =>
  v === undefined || (v >= min && v <= max);

/** The HTTP /control body. */
const control: FuzzTarget = {
  name: 'control',
  run(data) {
    const c = parseControl(text(data));
    check(
      Object.keys(c).every((k) => CONTROL_KEYS.has(k)),
      'an unknown field was accepted',
    );
    check(Object.getPrototypeOf(c) === Object.prototype, 'the body changed a prototype');
    // the limits the README documents, written out here so that a schema loosened by mistake is caught
    check(within(c.temperature, 0, 2), 'temperature out of range');
    check(within(c.topP, 0.01, 1), 'topP out of range');
    check(within(c.bpm, 20, 400), 'bpm out of range');
    check(within(c.responseBars, 0, 64), 'responseBars out of range');
    check(
      c.maxCopy === undefined ||
        c.maxCopy === null ||
        (Number.isInteger(c.maxCopy) && within(c.maxCopy, 0, 10_000)),
      'maxCopy out of range',
    );
  },
  expected: (err) => err instanceof ControlBodyError,
  covers: ['/src/', '/node_modules/zod/'],
  seeds: () => [bytesOf('{"temperature":0.7,"mode":"solo"}'), bytesOf('{"panic":true,"model":1}')],
  dictionary: [
    '"temperature":',
    '"mode":',
    '"solo"',
    '"follow"',
    '"panic":true',
    '"model":',
    '"topP":',
    '"bpm":',
    '"responseBars":',
    '"chords":',
    '"maxCopy":',
    'null',
    '"Dm7 G7"',
    '1e309',
    '-0',
    '"__proto__":',
    '{',
    '}',
    ',',
  ],
};

export const TARGETS: readonly FuzzTarget[] = [midiStream, smf, abc, config, control];

/** Messages the MIDI stream target compares (exported for the regression test's sake). */
export type { MidiMessage };
