/**
 * The daemon's status and control server (node:http): GET /health, GET /status, POST /control with a
 * JSON body (temperature, model, mode, panic). Optional bearer token; loopback only unless configured.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { ENGINE_MODES } from '../runtime/engine.ts';

export const controlSchema = z
  .object({
    temperature: z.number().min(0).max(100).optional(),
    model: z.number().int().min(0).optional(),
    mode: z.enum(ENGINE_MODES as unknown as ['call-response', 'solo', 'follow']).optional(),
    panic: z.literal(true).optional(),
  })
  .strict();

export type Control = z.infer<typeof controlSchema>;

export interface ServerHandlers {
  status(): unknown;
  control(c: Control): void;
}

const send = (res: ServerResponse, code: number, body: unknown): void => {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
};

async function readBody(req: IncomingMessage, limit = 16_384): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > limit) throw new Error('body too large');
  }
  return body;
}

/** Starts the server; resolves with it and the port it listens on. */
export function startServer(
  opts: { host: string; port: number; token?: string | undefined },
  handlers: ServerHandlers,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    void (async () => {
      if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`)
        return send(res, 401, { error: 'missing or wrong bearer token' });
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'GET' && url.pathname === '/health') return send(res, 200, { ok: true });
      if (req.method === 'GET' && url.pathname === '/status') return send(res, 200, handlers.status());
      if (req.method === 'POST' && url.pathname === '/control') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(await readBody(req));
        } catch (err) {
          return send(res, 400, {
            error: `body is not JSON: ${err instanceof Error ? err.message : String(err)}`,
          });
        }
        const c = controlSchema.safeParse(parsed);
        if (!c.success) {
          const issue = c.error.issues[0];
          return send(res, 400, {
            error: `${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`,
          });
        }
        try {
          handlers.control(c.data);
        } catch (err) {
          return send(res, 400, { error: err instanceof Error ? err.message : String(err) });
        }
        return send(res, 200, { ok: true, status: handlers.status() });
      }
      return send(res, 404, { error: `no route ${req.method ?? ''} ${url.pathname}` });
    })().catch((err: unknown) => send(res, 500, { error: String(err) }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : opts.port });
    });
  });
}
