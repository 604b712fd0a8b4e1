/**
 * `improv live --ui` as a performer starts it: the stage page, /status and /control on a loopback port
 * of the live command's own, the same handlers as the daemon's; a port in use is a clear error.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.ts';
import { until } from './until.ts';
import { statusSchema, type LiveStatus } from '../src/daemon/statusSchema.ts';

const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

describe('improv live --ui', () => {
  it('serves the page, /status and /control for the live session, and stops cleanly on SIGTERM', async () => {
    const out = join(tempDir('live-ui'), 'solo.mid');
    const child = spawn(
      'node_modules/.bin/tsx',
      ['src/cli/main.ts', 'live', '--out', `file:${out}`, '--mode', 'solo', '--no-status', '--ui', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await until(
      'the stage page address',
      () => /stage page: http:\/\/127\.0\.0\.1:\d+\//.test(stderr),
      30_000,
    );
    const base = (/stage page: (http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr) as RegExpExecArray)[1] as string;

    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('stage.js');

    const status = async (): Promise<LiveStatus> =>
      statusSchema.parse(await (await fetch(`${base}/status`)).json());
    expect(await status()).toMatchObject({
      mode: 'solo',
      bpm: 120,
      responseBars: 0,
      ports: { input: null, output: { name: `file:${out}`, state: 'open' } },
      clock: { source: 'internal' },
    });

    const post = (body: unknown): Promise<Response> =>
      fetch(`${base}/control`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ temperature: 0.4, responseBars: 2, bpm: 100 })).status).toBe(200);
    expect(await status()).toMatchObject({ temperature: 0.4, responseBars: 2, bpm: 100 });
    // the setup's limits, through the same door
    const refused = await post({ temperature: 5 });
    expect(refused.status).toBe(400);
    expect(await status()).toMatchObject({ temperature: 0.4 });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/stopped \(SIGTERM\): \d+ notes sent, 0 left sounding/);
  }, 60_000);

  it('names a port in use and exits 2, leaving no process behind', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = spawnSync(
        'node_modules/.bin/tsx',
        ['src/cli/main.ts', 'live', '--out', 'file:/dev/null', '--no-status', '--ui', String(port)],
        { encoding: 'utf8', timeout: 30_000 },
      );
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`--ui ${port}: port in use; choose another, or --ui 0 for any free one`);
    } finally {
      blocker.close();
    }
  }, 40_000);
});
