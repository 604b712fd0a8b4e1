import { spawn, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/daemon/config.ts';
import { startDaemon } from '../src/daemon/daemon.ts';
import { readMidiTimeline } from '../src/midi/filePorts.ts';
import { jzzSendTo } from '../src/midi/ports.ts';
import { pairsHanging, spawnDaemon, tempDir } from './helpers.ts';
import { midoAvailable, midoCheck } from './judges.ts';
import { until } from './until.ts';
import { statusSchema } from '../src/daemon/statusSchema.ts';

const writeConfig = (dir: string, config: object, name = 'improv.config.json'): string => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
};
const tsx = 'node_modules/.bin/tsx';

describe('daemon configuration', () => {
  it('names the field and the allowed values, and starts nothing', () => {
    const file = writeConfig(tempDir('cfg'), { output: 'file:out.mid', mode: 'jam' });
    const r = spawnSync(tsx, ['src/cli/main.ts', 'daemon', '--config', file, '--foreground'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `improv: ConfigError: ${file}: mode: Invalid enum value. Expected 'call-response' | 'solo' | 'follow', received 'jam'`,
    );
    expect(r.stderr).not.toContain('"started"');
  });

  it('refuses unknown fields, a missing model, and a model whose vocabulary does not match its ONNX', () => {
    const dir = tempDir('cfg');
    expect(() => loadConfig(writeConfig(dir, { tempo: 120 }))).toThrow(
      /: \(root\): Unrecognized key\(s\) in object: 'tempo'/,
    );
    const missing = spawnSync(
      tsx,
      [
        'src/cli/main.ts',
        'daemon',
        '--foreground',
        '--config',
        writeConfig(dir, { output: `file:${join(dir, 'o.mid')}`, models: ['models/nothing'] }),
      ],
      { encoding: 'utf8' },
    );
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(
      'improv: BundleError: models/nothing/manifest.json: (file): cannot read (ENOENT)',
    );
    const bad = join(dir, 'bad-bundle');
    cpSync('models/jazz', bad, { recursive: true });
    const m = JSON.parse(readFileSync(join(bad, 'manifest.json'), 'utf8')) as {
      vocabulary: string[];
      startToken: number;
    };
    const predicts = m.vocabulary.length; // the model's output width
    m.vocabulary = m.vocabulary.slice(0, -1);
    m.startToken = m.vocabulary.length;
    writeFileSync(join(bad, 'manifest.json'), JSON.stringify(m));
    const mismatch = spawnSync(
      tsx,
      [
        'src/cli/main.ts',
        'daemon',
        '--foreground',
        '--config',
        writeConfig(dir, { output: `file:${join(dir, 'o.mid')}`, models: [bad] }),
      ],
      { encoding: 'utf8' },
    );
    expect(mismatch.status).toBe(2);
    expect(mismatch.stderr).toContain(
      `vocabulary: the manifest lists ${predicts - 1} tokens but the model predicts ${predicts}`,
    );
  });

  it('refuses a non-loopback bind unless it is allowed', () => {
    const dir = tempDir('cfg');
    expect(() => loadConfig(writeConfig(dir, { http: { host: '0.0.0.0' } }))).toThrow(ConfigError);
    expect(() => loadConfig(writeConfig(dir, { http: { host: '0.0.0.0' } }))).toThrow(
      /http\.host: 0\.0\.0\.0 is not a loopback address/,
    );
    expect(
      loadConfig(writeConfig(dir, { http: { host: '0.0.0.0', allowRemote: true, token: 'secret-token' } }))
        .http.host,
    ).toBe('0.0.0.0');
  });

  it('reads YAML too', () => {
    const dir = tempDir('cfg');
    const file = join(dir, 'improv.config.yaml');
    writeFileSync(file, 'mode: solo\nbpm: 96\nchannels:\n  out: 3\n');
    expect(loadConfig(file)).toMatchObject({ mode: 'solo', bpm: 96, channels: { out: 3 } });
  });
});

describe('daemon at run time', () => {
  it('SIGTERM mid-phrase: exit 0, and every note-on recorded has its note-off', async () => {
    const dir = tempDir('term');
    const out = join(dir, 'take.mid');
    const file = writeConfig(dir, {
      output: `file:${out}`,
      mode: 'solo',
      bpm: 150,
      responseBars: 0,
      http: { port: 0 },
    });
    const { child, port } = await spawnDaemon(file);
    // mid-phrase: once notes have gone out and one is sounding (an event, not a time)
    await until(
      'three notes sent, one sounding',
      async () => {
        const s = statusSchema.parse(await (await fetch(`http://127.0.0.1:${port}/status`)).json());
        return s.notesSent > 2 && s.sounding > 0;
      },
      30_000,
    );
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(0);
    const events = readMidiTimeline(out);
    expect(events.filter((e) => (e.bytes[0] ?? 0) >> 4 === 9).length).toBeGreaterThan(2);
    expect(pairsHanging(out)).toBe(0);
    expect(events.some((e) => e.bytes[0] === 0xb0 && e.bytes[1] === 123)).toBe(true);
    if (midoAvailable()) expect(midoCheck(out).hanging).toBe(0);
  });

  it('SIGHUP with a broken config keeps the old model playing and says why; SIGTERM still exits 0', async () => {
    const dir = tempDir('hup');
    const base = { output: `file:${join(dir, 'o.mid')}`, mode: 'solo', http: { port: 0 } };
    const file = writeConfig(dir, base);
    // through the real entry point (what systemd runs), so signals arrive as they do in production
    const child = spawn(
      process.execPath,
      ['bin/improv.js', 'daemon', '--config', file, '--foreground', '--log-level', 'info'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const waitFor = (text: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const t = setInterval(() => {
          if (stderr.includes(text)) {
            clearInterval(t);
            resolve();
          }
        }, 50);
        setTimeout(() => reject(new Error(`no '${text}' in: ${stderr}`)), 30_000);
      });
    await waitFor('"started"');
    writeConfig(dir, { ...base, models: ['models/nothing'] });
    child.kill('SIGHUP');
    await waitFor('reload failed; the old configuration keeps playing');
    expect(stderr).toContain('models/nothing/manifest.json');
    child.kill('SIGTERM');
    expect(await new Promise<number | null>((r) => child.on('exit', r))).toBe(0);
    expect(pairsHanging(join(dir, 'o.mid'))).toBe(0);
  });

  it('serves /health and /status, and /control changes temperature and mode; a token is required when set', async () => {
    const dir = tempDir('http');
    const file = writeConfig(dir, {
      output: `file:${join(dir, 'o.mid')}`,
      http: { port: 0, token: 'let-me-in-please' },
    });
    const d = await startDaemon(file);
    const url = (p: string): string => `http://127.0.0.1:${d.port}${p}`;
    const auth = { authorization: 'Bearer let-me-in-please', 'content-type': 'application/json' };
    try {
      expect((await fetch(url('/health'))).status).toBe(401);
      expect(await (await fetch(url('/health'), { headers: auth })).json()).toEqual({ ok: true });
      // the public contract: every field, and no other (statusSchema is strict)
      const status = statusSchema.parse(await (await fetch(url('/status'), { headers: auth })).json());
      expect(status).toMatchObject({
        mode: 'call-response',
        temperature: 1,
        ports: { output: { state: 'open' } },
        failures: 0,
      });
      const post = await fetch(url('/control'), {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ temperature: 0.4, mode: 'solo' }),
      });
      expect(post.status).toBe(200);
      expect(d.status()).toMatchObject({ mode: 'solo', temperature: 0.4 });
      const bad = await fetch(url('/control'), {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ mode: 'jam' }),
      });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toMatch(/^mode: Invalid enum value/);
    } finally {
      await d.stop();
    }
  });

  it('a reload that fails keeps the old model playing; a good one swaps it without closing ports', async () => {
    const dir = tempDir('reload');
    const base = { output: `file:${join(dir, 'o.mid')}`, mode: 'solo', http: { port: 0 } };
    const file = writeConfig(dir, { ...base, models: ['models/jazz'] });
    const d = await startDaemon(file);
    try {
      writeConfig(dir, { ...base, models: ['models/nothing'] });
      expect(await d.reload()).toBe(false);
      expect(d.status()).toMatchObject({ model: { bundles: ['models/jazz'] } });
      await until('notes from the old model', () => d.live.stats.notesSent > 0, 20_000); // still playing
      const before = d.live.stats.notesSent;
      writeConfig(dir, { ...base, models: ['models/jazz', 'models/abc'] });
      expect(await d.reload()).toBe(true);
      expect(d.status()).toMatchObject({ model: { bundles: ['models/jazz', 'models/abc'] } });
      await until('notes from the new models', () => d.live.stats.notesSent > before, 20_000);
    } finally {
      await d.stop();
    }
    expect(d.live.sounding).toBe(0);
  });

  it('an exception in generation is counted, the generator restarts, notes are released, and play goes on', async () => {
    const dir = tempDir('crash');
    const file = writeConfig(dir, {
      output: `file:${join(dir, 'o.mid')}`,
      mode: 'solo',
      bpm: 180,
      http: { port: 0 },
    });
    const d = await startDaemon(file);
    try {
      const improviser = d.live.engine.improviser;
      const play = improviser.play.bind(improviser);
      let calls = 0;
      improviser.play = async (...args) => {
        if (++calls === 2) throw new Error('injected decoder failure');
        return play(...args);
      };
      for (let i = 0; i < 100 && d.live.stats.failures === 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(d.status()).toMatchObject({ failures: 1 });
      const after = d.live.stats.notesSent;
      await until('notes after the restart', () => d.live.stats.notesSent > after, 20_000);
    } finally {
      await d.stop();
    }
    expect(d.live.sounding).toBe(0);
    expect(pairsHanging(join(dir, 'o.mid'))).toBe(0);
  });

  it('10 000 input messages a second for 5 s: no crash, drops counted in /status, memory bounded', async () => {
    const dir = tempDir('flood');
    const file = writeConfig(dir, {
      input: `jzz:Flood ${process.pid}`,
      output: `file:${join(dir, 'o.mid')}`,
      http: { port: 0 },
    });
    const d = await startDaemon(file);
    const send = jzzSendTo(`Flood ${process.pid}`);
    const rss0 = process.memoryUsage().rss;
    try {
      for (let s = 0; s < 50; s++) {
        for (let i = 0; i < 1000; i++) send(i % 2 ? [0x80, 40 + (i % 40), 0] : [0x90, 40 + (i % 40), 100]);
        await new Promise((r) => setTimeout(r, 100));
      }
      const status = d.status();
      expect(status.droppedInput).toBeGreaterThan(20_000);
      expect(process.memoryUsage().rss - rss0).toBeLessThan(200 * 1024 * 1024);
    } finally {
      await d.stop();
    }
    expect(d.live.sounding).toBe(0);
  });
});
