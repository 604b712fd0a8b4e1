import { describe, expect, it } from 'vitest';
import { startServer, type Rejection } from '../src/daemon/server.ts';

describe('the control server tells the operator what it turned away', () => {
  it('a refused request and a /control body it cannot take reach the log, with the reason', async () => {
    const rejected: Rejection[] = [];
    const controls: unknown[] = [];
    const srv = await startServer(
      { host: '127.0.0.1', port: 0, token: 'let-me-in-please', allowRemote: false },
      { status: () => ({}), control: (c) => controls.push(c), rejected: (r) => rejected.push(r) },
    );
    const url = `http://127.0.0.1:${srv.port}/control`;
    const auth = { authorization: 'Bearer let-me-in-please', 'content-type': 'application/json' };
    try {
      expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(401);
      const bad = await fetch(url, { method: 'POST', headers: auth, body: JSON.stringify({ mode: 'jam' }) });
      expect(bad.status).toBe(400);
      const good = await fetch(url, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ mode: 'solo' }),
      });
      expect(good.status).toBe(200);
    } finally {
      await new Promise((r) => srv.server.close(r));
    }
    expect(controls).toEqual([{ mode: 'solo' }]);
    expect(rejected.map((r) => [r.status, r.method, r.path])).toEqual([
      [401, 'POST', '/control'],
      [400, 'POST', '/control'],
    ]);
    expect(rejected[1]?.error).toMatch(/^mode: /);
    expect(rejected[0]?.from).toMatch(/127\.0\.0\.1/);
  });
});
