/**
 * What a hostile or clumsy user found (issue 15): the control server obeyed other web pages, and
 * some inputs crashed the process, grew memory without bound or wrote corrupt files. Each test here
 * failed before its fix.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { parseMidi, writeMidi } from 'midi-file';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../src/daemon/config.ts';
import { startDaemon } from '../src/daemon/daemon.ts';
import { readMidiTimeline } from '../src/midi/filePorts.ts';
import { MAX_SYSEX_BYTES, MidiStreamParser } from '../src/midi/messages.ts';
import { encodeSmf, writeSmf, type SmfDocument } from '../src/music/smfWriter.ts';
import { readAbc } from '../src/music/abc/reader.ts';
import { governingChord } from '../src/music/grammar.ts';
import { readManifest } from '../src/music/bundle.ts';
import { readWithin } from '../src/music/files.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { hanging, liveHarness } from './liveHarness.ts';
import { spawnDaemon, tempDir, tinyTrainArgs, writePhrase } from './helpers.ts';

const tsx = 'node_modules/.bin/tsx';
const cli = (...args: string[]) => {
  const r = spawnSync(tsx, ['src/cli/main.ts', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const writeConfig = (dir: string, config: object, name = 'improv.config.json'): string => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
};

/** A raw HTTP request, with whatever Host, Origin and Content-Type a hostile page would send. */
function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the control server obeys only its own pages and clients', () => {
  it('refuses a foreign Origin, a foreign Host and a non-JSON body; a same-origin JSON request still works', async () => {
    const dir = tempDir('csrf');
    const d = await startDaemon(
      writeConfig(dir, { output: `file:${join(dir, 'o.mid')}`, http: { port: 0 } }),
    );
    const host = `127.0.0.1:${d.port}`;
    const body = JSON.stringify({ temperature: 0.3, mode: 'solo' });
    try {
      // what any web page open on this machine could send: every part of it is refused
      const attack = await raw(
        d.port,
        'POST',
        '/control',
        { host: 'evil.example', origin: 'http://evil.example', 'content-type': 'text/plain' },
        body,
      );
      expect(attack.status).toBe(421);
      const origin = await raw(
        d.port,
        'POST',
        '/control',
        { host, origin: 'http://evil.example', 'content-type': 'application/json' },
        body,
      );
      expect(origin.status).toBe(403);
      expect(origin.body).toContain('http://evil.example');
      const rebinding = await raw(d.port, 'GET', '/status', { host: `evil.example:${d.port}` });
      expect(rebinding.status).toBe(421);
      const plain = await raw(d.port, 'POST', '/control', { host, 'content-type': 'text/plain' }, body);
      expect(plain.status).toBe(415);
      const form = await raw(
        d.port,
        'POST',
        '/control',
        { host, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      );
      expect(form.status).toBe(415);
      expect(d.status()).toMatchObject({ temperature: 1, mode: 'call-response' });
      // the page the server itself serves (same origin), and curl (no Origin), are obeyed
      const own = await raw(
        d.port,
        'POST',
        '/control',
        { host, origin: `http://${host}`, 'content-type': 'application/json; charset=utf-8' },
        body,
      );
      expect(own.status).toBe(200);
      expect(d.status()).toMatchObject({ temperature: 0.3, mode: 'solo' });
      const local = await raw(d.port, 'GET', '/status', { host: `localhost:${d.port}` });
      expect(local.status).toBe(200);
    } finally {
      await d.stop();
    }
  });

  it('refuses http.allowRemote without a token at config validation', () => {
    const dir = tempDir('remote');
    expect(() => loadConfig(writeConfig(dir, { http: { host: '0.0.0.0', allowRemote: true } }))).toThrow(
      ConfigError,
    );
    expect(() => loadConfig(writeConfig(dir, { http: { host: '0.0.0.0', allowRemote: true } }))).toThrow(
      /http\.token: is required when http\.allowRemote is true/,
    );
  });

  it('a reload applies a new token: the new one is let in, the old one is not', async () => {
    const dir = tempDir('rotate');
    const base = { output: `file:${join(dir, 'o.mid')}`, http: { port: 0, token: 'the-old-token' } };
    const file = writeConfig(dir, base);
    const d = await startDaemon(file);
    const status = (token: string): Promise<number> =>
      raw(d.port, 'GET', '/status', { host: `127.0.0.1:${d.port}`, authorization: `Bearer ${token}` }).then(
        (r) => r.status,
      );
    try {
      expect(await status('the-old-token')).toBe(200);
      writeConfig(dir, { ...base, http: { port: 0, token: 'the-new-token' } });
      expect(await d.reload()).toBe(true);
      expect(await status('the-new-token')).toBe(200);
      expect(await status('the-old-token')).toBe(401);
    } finally {
      await d.stop();
    }
  });

  it('SIGHUPs in a row load one set of models at a time, not one each', async () => {
    const dir = tempDir('hups');
    const file = writeConfig(dir, { output: `file:${join(dir, 'o.mid')}`, http: { port: 0 } });
    const d = await startDaemon(file);
    const load = vi.spyOn(LstmSession, 'load');
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => d.reload()));
      expect(results.every(Boolean)).toBe(true);
      expect(load.mock.calls.length).toBeLessThanOrEqual(2); // the one running, and one for all that came meanwhile
    } finally {
      load.mockRestore();
      await d.stop();
    }
  });

  it('refuses a manifest whose model file lies outside the bundle folder', async () => {
    const dir = join(tempDir('escape'), 'bundle');
    cpSync('models/jazz', dir, { recursive: true });
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { model: string };
    m.model = '../../jazz/model.onnx';
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    await expect(LstmSession.load(dir)).rejects.toThrow(
      /manifest\.json: model: must name a file inside the bundle folder/,
    );
  });
});

describe('inputs that crashed the process or corrupted its output', () => {
  it('a command line too long for onnxruntime is refused with a clear error, not a segfault', () => {
    const chords = Array.from({ length: 6000 }, (_, i) => ['Dm7', 'G7', 'Cmaj7'][i % 3]).join(' ');
    const out = join(tempDir('long'), 'solo.mid');
    const r = cli('generate', '--chords', chords, '--out', out, '--bars', '2');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/UsageError: the command line is \d+ bytes, more than 16384/);
    expect(r.stderr).toContain('--leadsheet');
    expect(existsSync(out)).toBe(false);
    // the same progression from a file plays
    const sheet = join(tempDir('long'), 'long.txt');
    writeFileSync(sheet, chords);
    const ok = cli('generate', '--leadsheet', sheet, '--out', out, '--bars', '2');
    expect(ok.code).toBe(0);
  });

  it('the ABC reader skips lengths and pitches no MIDI file can hold, and the writer refuses them', () => {
    // a malformed token breaks its bar (the reader resyncs at the next bar line): one per bar
    const read = readAbc("X:1\nM:4/4\nL:1/8\nK:C\nC9999999 | D2 | c'''''''' | E2 | z8888888 | F2 |\n");
    const notes = read.events.filter((e) => e.type === 'note');
    expect(notes.map((n) => (n.type === 'note' ? n.pitch : 0))).toEqual([62, 64, 65]);
    expect(notes.every((n) => n.type === 'note' && n.dur <= 64)).toBe(true);
    const skips = read.events.flatMap((e) => (e.type === 'skip' ? [e.reason] : []));
    expect(skips).toEqual(
      expect.arrayContaining([
        'note length out of range',
        'pitch outside MIDI 0–127',
        'rest length out of range',
      ]),
    );
    const dir = tempDir('writer');
    const doc = (midi: number, start: number): SmfDocument => ({
      bpm: 120,
      meter: { numerator: 4, denominator: 4 },
      title: 't',
      parts: [{ name: 'Tune', channel: 0, program: 0, notes: [{ start, dur: 1, midi, velocity: 90 }] }],
    });
    expect(() => writeSmf(join(dir, 'high.mid'), doc(140, 0))).toThrow(
      /high\.mid: not written: Tune: note 1 has pitch 140, outside MIDI's 0–127/,
    );
    expect(() => writeSmf(join(dir, 'long.mid'), doc(60, 10_000_000))).toThrow(
      /long\.mid: not written: Tune: note 1 spans quarters .* beyond what a MIDI file holds/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the SMF encoder writes what midi-file writes, in linear time', () => {
    const notes = Array.from({ length: 400 }, (_, i) => ({
      start: i * 0.75,
      dur: 0.5 + (i % 5),
      midi: 48 + (i % 30),
      velocity: 60 + (i % 40),
    }));
    const doc: SmfDocument = {
      bpm: 137,
      meter: { numerator: 6, denominator: 8 },
      title: 'solo',
      parts: [
        { name: 'Solo', channel: 0, program: 26, notes },
        { name: 'Chords', channel: 1, program: 0, notes: notes.slice(0, 50) },
      ],
    };
    const ours = encodeSmf(doc);
    expect(Buffer.from(ours).equals(Buffer.from(writeMidi(parseMidi(ours))))).toBe(true);
  });

  it('an unterminated SysEx is capped and counted; memory stays bounded and later messages still parse', () => {
    const parser = new MidiStreamParser();
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    parser.push([0xf0]);
    const chunk = new Array<number>(65_536).fill(0x11);
    for (let i = 0; i < 240; i++) parser.push(chunk); // 15.7 M data bytes and no F7
    global.gc?.();
    const grown = process.memoryUsage().heapUsed - before;
    expect(grown).toBeLessThan(30 * 1024 * 1024); // the unbounded buffer held > 120 MB here
    expect(parser.dropped).toBe(1);
    expect(parser.push([0xf7, 0x90, 60, 100])).toEqual([
      { type: 'noteon', channel: 0, note: 60, velocity: 100 },
    ]);
    const small = new MidiStreamParser();
    expect(small.push([0xf0, 0x7e, 0x7f, 0x06, 0x01, 0xf7])).toEqual([
      { type: 'other', bytes: [0xf0, 0x7e, 0x7f, 0x06, 0x01, 0xf7] },
    ]);
    expect(MAX_SYSEX_BYTES).toBeGreaterThanOrEqual(4096);
  });

  it("--thru: cutting an answer short never ends the player's held note", async () => {
    const h = await liveHarness({ channels: { thru: 6 } });
    try {
      await h.play([
        [62, 0, 400],
        [65, 500, 400],
        [69, 1000, 900],
      ]);
      // wait for the answer to sound, then the player comes in again and holds a note
      for (
        let i = 0;
        i < 80 && !h.out.some((o) => o.message.type === 'noteon' && o.message.channel === 0);
        i++
      )
        await h.run(50);
      expect(h.out.some((o) => o.message.type === 'noteon' && o.message.channel === 0)).toBe(true);
      const pressed = h.out.length;
      await h.send([0x90, 50, 100]);
      await h.run(1000);
      const during = h.out.slice(pressed);
      const onThru = (o: (typeof during)[number]): boolean =>
        'channel' in o.message && o.message.channel === 5;
      expect(during.filter(onThru).map((o) => o.message.type)).toEqual(['noteon']); // held: no note-off, no All Notes Off
      await h.send([0x80, 50, 0]);
      await h.run(10);
      expect(
        h.out
          .slice(pressed)
          .filter(onThru)
          .map((o) => o.message.type),
      ).toEqual(['noteon', 'noteoff']);
    } finally {
      await h.close();
    }
    expect(hanging(h.out)).toBe(0);
  });

  it('--thru forwards no note-off whose note-on the flood cap dropped', async () => {
    const h = await liveHarness({ mode: 'solo', channels: { thru: 6 }, maxNotesPerSecond: 20 });
    try {
      for (let i = 0; i < 120; i++) {
        await h.send([0x90, 40 + (i % 20), 100]);
        await h.send([0x80, 40 + (i % 20), 0]);
      }
      await h.run(50);
      const thru = h.out.filter((o) => 'channel' in o.message && o.message.channel === 5);
      const ons = thru.filter((o) => o.message.type === 'noteon').length;
      const offs = thru.filter((o) => o.message.type === 'noteoff').length;
      expect(ons).toBe(20);
      expect(offs).toBe(ons);
      expect(h.live.stats.droppedIn).toBe(100);
    } finally {
      await h.close();
    }
    expect(hanging(h.out)).toBe(0);
  });

  it('governingChord finds what a scan finds (the last onset ≤ t, else the first)', () => {
    const chords = [0, 0, 12, 24, 24, 36, 90].map((onset, i) => ({ onset, i }));
    const scan = (t: number) => {
      let found = chords[0];
      for (const c of chords) if (c.onset <= t) found = c;
      return found;
    };
    for (let t = -5; t < 100; t++) expect(governingChord(chords, t)).toBe(scan(t));
  });
});

describe('errors that name what is wrong, exit 2, and leave nothing behind', () => {
  it('a detached daemon that dies at once says why and exits with its status', () => {
    const dir = tempDir('detach');
    const file = writeConfig(dir, { output: `file:${join(dir, 'o.mid')}`, models: ['models/nothing'] });
    const r = spawnSync(process.execPath, ['bin/improv.js', 'daemon', '--config', file], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stdout).not.toContain('started');
    expect(r.stderr).toContain(
      'DaemonStartError: the daemon failed to start (exit 2): BundleError: models/nothing',
    );
  });

  it('an HTTP port in use is named in the config', async () => {
    const dir = tempDir('inuse');
    const first = await startDaemon(
      writeConfig(dir, { output: `file:${join(dir, 'a.mid')}`, http: { port: 0 } }),
    );
    try {
      const second = writeConfig(
        dir,
        { output: `file:${join(dir, 'b.mid')}`, http: { port: first.port } },
        'b.json',
      );
      await expect(startDaemon(second)).rejects.toThrow(ConfigError);
      await expect(startDaemon(second)).rejects.toThrow(
        /b\.json: http\.port: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE/,
      );
    } finally {
      await first.stop();
    }
  });

  it("a second daemon fails before it touches the first's recording", async () => {
    const dir = tempDir('second');
    const take = join(dir, 'take.mid');
    const first = await startDaemon(
      writeConfig(dir, { output: `file:${take}`, mode: 'solo', http: { port: 0 } }),
    );
    try {
      // the first records until its take holds notes
      for (let i = 0; i < 200 && readMidiTimeline(take).length === 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      const before = readFileSync(take);
      expect(readMidiTimeline(take).length).toBeGreaterThan(0);
      const second = writeConfig(dir, { output: `file:${take}`, http: { port: first.port } }, 'second.json');
      await expect(startDaemon(second)).rejects.toThrow(/second\.json: http\.port: cannot listen/);
      // the take was not truncated: what the first wrote is still there (it may have grown)
      const after = readFileSync(take);
      expect(after.length).toBeGreaterThanOrEqual(before.length);
      expect(after.subarray(22, before.length - 4)).toEqual(before.subarray(22, before.length - 4));
    } finally {
      await first.stop();
    }
  });

  it('broken YAML is reported as YAML, with where it breaks', () => {
    const dir = tempDir('yaml');
    const file = join(dir, 'improv.config.yaml');
    writeFileSync(file, 'mode: solo\n  bpm: 96\n bad\n');
    expect(() => loadConfig(file)).toThrow(/improv\.config\.yaml: \(file\): not valid YAML: .*line \d+/);
  });

  it('--resume with no, a truncated or a mismatched checkpoint: CheckpointError, exit 2, no folder left behind', () => {
    const root = tempDir('resume');
    const train = (out: string, ...more: string[]) => cli(...tinyTrainArgs(out, 4, 1), ...more);
    const none = join(root, 'none');
    const r = train(none, '--resume');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CheckpointError: ');
    expect(r.stderr).toContain('--resume: there is no checkpoint here to resume');
    expect(existsSync(none)).toBe(false);
    const good = join(root, 'good');
    expect(train(good).code).toBe(0);
    const { bin: binName } = JSON.parse(
      readFileSync(join(good, 'checkpoint', 'checkpoint.json'), 'utf8'),
    ) as { bin: string };
    const bin = join(good, 'checkpoint', binName);
    const whole = readFileSync(bin);
    writeFileSync(bin, whole.subarray(0, whole.length - 40));
    const torn = train(good, '--resume', '--epochs', '2');
    expect(torn.code).toBe(2);
    expect(torn.stderr).toMatch(
      /CheckpointError: .*state-1\.bin: holds \d+ bytes, its checkpoint\.json describes \d+/,
    );
    writeFileSync(bin, whole);
    const other = train(good, '--resume', '--epochs', '2', '--units', '8');
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /CheckpointError: .*checkpoint\.json: .*does not fit this model's configuration/,
    );
    expect(train(good, '--resume', '--epochs', '2').code).toBe(0);
  }, 120_000);

  it('--out naming a folder: a named error, exit 2, no temporary file left', () => {
    const dir = tempDir('outdir');
    const folder = join(dir, 'take.mid');
    mkdirSync(folder);
    const r = cli('generate', '--out', folder, '--bars', '2');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`OutputFileError: ${folder}: is a folder; name a file to write`);
    expect(readdirSync(dir)).toEqual(['take.mid']);
    expect(readdirSync(folder)).toEqual([]);
    const file = join(dir, 'model-here');
    writeFileSync(file, 'not a folder');
    const t = cli('train', 'jazz', '--data', 'data/original_metheny.mid', '--out', file, '--no-progress');
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('--out names a file; it must name the bundle folder');
  });

  it('small ones: an empty --chords, ABC into a .mid, an empty file to score', () => {
    const dir = tempDir('small');
    const chords = cli('generate', '--chords', '', '--out', join(dir, 's.mid'));
    expect(chords.code).toBe(2);
    expect(chords.stderr).toContain('the chord progression is empty');
    const abc = cli('generate', '--model', 'models/abc', '--out', join(dir, 'x.mid'), '--tunes', '1');
    expect(abc.code).toBe(2);
    expect(abc.stderr).toContain('an ABC model writes ABC text');
    expect(readdirSync(dir)).toEqual([]);
    writeFileSync(join(dir, 'empty.abc'), '');
    const score = cli('eval', '--model', 'models/abc', '--data', join(dir, 'empty.abc'));
    expect(score.code).toBe(2);
    expect(score.stderr).toContain('empty.abc: holds no characters to score');
    expect(score.stdout).not.toContain('NaN');
  });

  it('an output that cannot open ends the command at once, while the input file would still be playing', () => {
    const dir = tempDir('early');
    const phrase = join(dir, 'phrase.mid');
    writePhrase(phrase, 60, [
      { start: 0, dur: 1, midi: 60, velocity: 90 },
      { start: 30, dur: 1, midi: 62, velocity: 90 },
    ]);
    const started = Date.now();
    const r = cli('live', '--in', `file:${phrase}`, '--out', 'easymidi:Nowhere', '--no-status');
    expect(r.code).toBe(2);
    expect(Date.now() - started).toBeLessThan(20_000); // the file lasts 31 s
  });

  it('a model file from another bundle is refused for its state shape', async () => {
    const dir = join(tempDir('swap'), 'bundle');
    cpSync('tests/fixtures/jazz-by-heart', dir, { recursive: true }); // 64 units; folk's model has 128
    cpSync(join('models/folk', readManifest('models/folk').model), join(dir, readManifest(dir).model));
    await expect(LstmSession.load(dir)).rejects.toThrow(
      /io\.stateShape: the model's state h0 is \[1, batch, 128\], the manifest says 1 layer\(s\) of 64 units/,
    );
  });
});

describe('a bundle file whose open blocks (a FIFO, a hung mount)', () => {
  const fifoBundle = (what: 'model' | 'manifest'): string => {
    const dir = join(tempDir(`fifo-${what}`), 'bundle');
    cpSync('models/jazz', dir, { recursive: true });
    const file = join(dir, what === 'model' ? readManifest(dir).model : 'manifest.json');
    rmSync(file);
    expect(spawnSync('mkfifo', [file]).status).toBe(0);
    return file;
  };

  it('is refused at once, naming the file, by load, generate and a daemon reload, which plays on', async () => {
    const model = fifoBundle('model');
    const bundle = dirname(model);
    await expect(LstmSession.load(bundle)).rejects.toThrow(
      `${model}: model: is a FIFO (named pipe), not a regular file`,
    );
    const manifest = fifoBundle('manifest');
    await expect(LstmSession.load(dirname(manifest))).rejects.toThrow(`${manifest}: (file): is a FIFO`);
    // the command line: an error, not a hang (a hang would end at the time limit, with no status)
    const r = spawnSync(
      tsx,
      ['src/cli/main.ts', 'generate', '--model', bundle, '--out', join(bundle, 'x.mid')],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status).not.toBeNull();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('is a FIFO (named pipe), not a regular file');
    const dir = tempDir('fifo-daemon');
    const file = writeConfig(dir, { output: `file:${join(dir, 'o.mid')}`, mode: 'solo', http: { port: 0 } });
    const d = await startDaemon(file, { logLevel: 'silent' });
    try {
      writeConfig(dir, {
        output: `file:${join(dir, 'o.mid')}`,
        mode: 'solo',
        http: { port: 0 },
        models: [bundle],
      });
      expect(await d.reload()).toBe(false);
      const health = await fetch(`http://127.0.0.1:${d.port}/health`);
      expect(health.status).toBe(200);
      const sent = d.live.stats.notesSent;
      const until = Date.now() + 20_000;
      while (d.live.stats.notesSent <= sent + 2 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 20));
      expect(d.live.stats.notesSent).toBeGreaterThan(sent + 2); // the old models play on
    } finally {
      await d.stop();
    }
  }, 90_000);

  it('a read that does not open gives up at its time limit, off the caller thread', async () => {
    const fifo = join(tempDir('fifo-read'), 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    try {
      await expect(readWithin(fifo, 300)).rejects.toThrow('did not open within 0.3 s (a hung mount?)');
    } finally {
      clearInterval(ticker);
      // the pool thread still waits in open: a writer lets it go
      closeSync(openSync(fifo, 'w'));
    }
    expect(ticks).toBeGreaterThan(3); // the caller's thread kept running meanwhile
  });
});

describe('a recording survives a kill, and a restart silences what the last run left', () => {
  it("SIGKILL mid-phrase leaves this run's notes in the file; the next run begins with All Notes Off", async () => {
    const dir = tempDir('kill');
    const out = join(dir, 'take.mid');
    writeFileSync(out, 'an older take');
    const file = writeConfig(dir, { output: `file:${out}`, mode: 'solo', bpm: 160, http: { port: 0 } });
    const { child } = await spawnDaemon(file);
    // kill once the recording holds three notes (waiting for them, not for a time)
    const notesIn = (): number => {
      try {
        return readMidiTimeline(out).filter((e) => (e.bytes[0] ?? 0) >> 4 === 9).length;
      } catch {
        return 0; // the older take, not yet replaced
      }
    };
    const until = Date.now() + 30_000;
    while (notesIn() < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const events = readMidiTimeline(out);
    expect(events.filter((e) => (e.bytes[0] ?? 0) >> 4 === 9).length).toBeGreaterThan(2);
    // the run began by silencing every channel, before its first note
    const firstNote = events.findIndex((e) => (e.bytes[0] ?? 0) >> 4 === 9);
    const offs = events
      .slice(0, firstNote)
      .filter((e) => (e.bytes[0] ?? 0) >> 4 === 0xb && e.bytes[1] === 123);
    expect(offs.map((e) => (e.bytes[0] ?? 0) & 0x0f)).toEqual(Array.from({ length: 16 }, (_, i) => i));
  }, 60_000);
});
