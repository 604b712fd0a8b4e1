import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MidiMessage } from '../src/midi/messages.ts';
import { FileSink, FileSource, readMidiTimeline } from '../src/midi/filePorts.ts';
import {
  jzzListen,
  jzzSendTo,
  listPorts,
  openInput,
  openOutput,
  parsePortSpec,
  PortError,
} from '../src/midi/ports.ts';
import { VirtualClock } from '../src/midi/clock.ts';
import { playerInput } from '../src/cli/live.ts';
import { tempDir, writePhrase } from './helpers.ts';

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
const clock = new VirtualClock();

describe('port addresses', () => {
  it.each([
    ['virtual:Improviser', { backend: 'virtual', name: 'Improviser' }],
    ['easymidi:Launchkey 49 MIDI 1', { backend: 'easymidi', name: 'Launchkey 49 MIDI 1' }],
    ['jzz:Keys', { backend: 'jzz', name: 'Keys' }],
    ['file:out/take.mid', { backend: 'file', name: 'out/take.mid' }],
  ])('%s', (text, spec) => {
    expect(parsePortSpec(text)).toEqual(spec);
  });

  it('refuses an unknown form and says which forms exist', () => {
    expect(() => parsePortSpec('alsa:14:0')).toThrow(PortError);
    expect(() => parsePortSpec('alsa:14:0')).toThrow(
      "port 'alsa:14:0': expected virtual:Name, easymidi:Name, jzz:Name or file:path.mid",
    );
  });
});

describe('easymidi where no MIDI system exists', () => {
  const easymidiWorks = listPorts().find((p) => p.backend === 'easymidi')?.error === undefined;

  it('fails with a clear message naming the fallback (or, with a MIDI system, names the missing port)', () => {
    if (easymidiWorks) {
      expect(() => openOutput('easymidi:No Such Synth', { clock })).toThrow(/no such output; available:/);
      return;
    }
    expect(() => openOutput('easymidi:Synth', { clock })).toThrow(PortError);
    expect(() => openOutput('easymidi:Synth', { clock })).toThrow(
      /easymidi cannot start \((no ALSA sequencer|no permission to open \/dev\/snd\/seq|Failed to initialise RtMidi).*Use jzz:Name .* or file:out\.mid/,
    );
  });

  it('says so in one line: no raw ALSA lines from RtMidi on stderr', () => {
    if (easymidiWorks) return;
    const r = spawnSync(process.execPath, ['bin/improv.js', 'ports'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/easymidi cannot start \(no ALSA sequencer: \/dev\/snd\/seq does not exist/);
    expect(r.stderr).not.toMatch(/ALSA lib|MidiOutAlsa|MidiInAlsa/);
  });

  it('virtual:Name is refused where it cannot be made, unless a fallback is allowed', () => {
    if (easymidiWorks) return;
    expect(() => openOutput('virtual:Named Out', { clock })).toThrow(PortError);
    expect(() => openOutput('virtual:Named Out', { clock })).toThrow(
      /virtual:Named Out: no virtual port can be made here .*no other program could see.*file:out\.mid/,
    );
    expect(() => openInput('virtual:Named In', { clock })).toThrow(/virtual:Named In: no virtual port/);
  });

  it('--auto listens to a player, not to the kernel loopback', () => {
    expect(playerInput(['Midi Through:Midi Through Port-0 14:0', 'Keystation 49:0 20:0'])).toBe(
      'Keystation 49:0 20:0',
    );
    expect(playerInput(['Midi Through Port-0'])).toBeUndefined();
    expect(playerInput([])).toBeUndefined();
  });

  it('virtual:Name falls back to an in-process port when allowed, and says so', async () => {
    if (easymidiWorks) return;
    const lines: string[] = [];
    const out = openOutput('virtual:Fallback Out', { clock, log: (l) => lines.push(l), fallback: true });
    const got: number[][] = [];
    const stop = jzzListen('Fallback Out', (b) => got.push(b));
    out.send({ type: 'noteon', channel: 0, note: 60, velocity: 99 });
    await settle();
    stop();
    expect(got).toEqual([[0x90, 60, 99]]);
    expect(lines.join('\n')).toMatch(/Falling back to an in-process jzz port 'Fallback Out'/);
  });
});

describe('jzz in-process ports', () => {
  it('an output delivers typed messages as bytes to whoever listens', async () => {
    const out = openOutput('jzz:Improviser Test', { clock });
    const got: number[][] = [];
    const stop = jzzListen('Improviser Test', (b) => got.push(b));
    out.send({ type: 'noteon', channel: 2, note: 64, velocity: 80 });
    out.send({ type: 'cc', channel: 2, controller: 123, value: 0 });
    await settle();
    stop();
    expect(got).toEqual([
      [0x92, 64, 80],
      [0xb2, 123, 0],
    ]);
  });

  it('an input parses incoming bytes once into typed messages (jzz itself refuses malformed bytes)', async () => {
    const input = openInput('jzz:Keys Test', { clock });
    const got: MidiMessage[] = [];
    input.onMessage((m) => got.push(m));
    const send = jzzSendTo('Keys Test');
    send([0x90, 60, 100]);
    send([0x80, 60, 0]);
    send([0x33]);
    await settle();
    expect(got).toEqual([
      { type: 'noteon', channel: 0, note: 60, velocity: 100 },
      { type: 'noteoff', channel: 0, note: 60, velocity: 0 },
    ]);
    expect(input.dropped).toBe(0);
    await input.close();
  });

  it('lists in-process ports', () => {
    openOutput('jzz:Listed Out', { clock });
    const jzz = listPorts().find((p) => p.backend === 'jzz');
    expect(jzz?.inputs).toContain('Listed Out');
  });
});

describe('file ports', () => {
  it('the sink records what was sent, with its times, to a Standard MIDI File', async () => {
    const c = new VirtualClock(1000);
    const file = join(tempDir('sink'), 'take.mid');
    const sink = new FileSink(file, c);
    sink.send({ type: 'noteon', channel: 0, note: 60, velocity: 90 });
    c.advance(250);
    sink.send({ type: 'noteoff', channel: 0, note: 60, velocity: 0 });
    c.advance(500);
    // written as it plays: what was sent is in the file before the sink is closed (or killed)
    await new Promise((r) => setTimeout(r, 250));
    expect(readMidiTimeline(file)).toEqual([
      { time: 0, bytes: [0x90, 60, 90] },
      { time: 250, bytes: [0x80, 60, 0] },
    ]);
    sink.send({ type: 'cc', channel: 0, controller: 123, value: 0 });
    await sink.close();
    expect(readMidiTimeline(file)).toEqual([
      { time: 0, bytes: [0x90, 60, 90] },
      { time: 250, bytes: [0x80, 60, 0] },
      { time: 750, bytes: [0xb0, 123, 0] },
    ]);
  });

  it('the source plays a file in at its own times and says when it has ended', () => {
    const file = join(tempDir('source'), 'phrase.mid');
    writePhrase(file, 120, [
      { start: 0, dur: 1, midi: 62, velocity: 80 },
      { start: 1, dur: 1, midi: 65, velocity: 80 },
    ]);
    const c = new VirtualClock();
    const source = new FileSource(file, c);
    const got: [number, string, number][] = [];
    let ended = -1;
    source.onMessage((m) =>
      got.push([c.now(), m.type, m.type === 'noteon' || m.type === 'noteoff' ? m.note : -1]),
    );
    source.onEnd(() => (ended = c.now()));
    c.advance(2000);
    expect(got.filter((g) => g[1] !== 'program')).toEqual([
      [0, 'noteon', 62],
      [500, 'noteoff', 62],
      [500, 'noteon', 65],
      [1000, 'noteoff', 65],
    ]);
    expect(ended).toBe(1000);
    expect(source.done).toBe(true);
  });

  it('holds one timer however long the file, and waits out a gap longer than a Node timer can in steps', () => {
    const file = join(tempDir('source'), 'long.mid');
    const day = 86_400_000;
    // at 4 BPM a quarter is 15 s: notes at 0, 18 days and 36 days (a timer of 36 days overflows Node's)
    const q = (ms: number): number => ms / 15_000;
    writePhrase(file, 4, [
      ...Array.from({ length: 200 }, (_, i) => ({
        start: i / 4,
        dur: 0.25,
        midi: 60 + (i % 12),
        velocity: 80,
      })),
      { start: q(18 * day), dur: 1, midi: 70, velocity: 80 },
      { start: q(36 * day), dur: 1, midi: 72, velocity: 80 },
    ]);
    const c = new VirtualClock();
    const delays: number[] = [];
    const setTimer = c.setTimer.bind(c);
    c.setTimer = (fn, delay) => {
      delays.push(delay);
      return setTimer(fn, delay);
    };
    const source = new FileSource(file, c);
    const ons: [number, number][] = [];
    source.onMessage((m) => {
      if (m.type === 'noteon') ons.push([c.now(), m.note]);
    });
    expect(c.pending).toBe(1);
    c.advance(200 * 3750); // the 200 quick notes
    expect(ons).toHaveLength(200);
    expect(c.pending).toBe(1);
    c.advance(35 * day);
    expect(ons.map(([, n]) => n).slice(200)).toEqual([70]);
    c.advance(2 * day);
    expect(ons.slice(200)).toEqual([
      [expect.closeTo(18 * day, 0), 70],
      [expect.closeTo(36 * day, 0), 72],
    ]);
    expect(Math.max(...delays)).toBeLessThan(2 ** 31 - 1);
    expect(source.done).toBe(true);
  });
});
