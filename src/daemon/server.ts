/**
 * The daemon's status and control server (node:http): GET /health, GET /status, POST /control with a
 * JSON body (the control surface's fields: temperature, topP, model, mode, bpm, chords, panic), and
 * the stage page (GET /, /events). Optional bearer token; loopback only unless configured.
 *
 * A browser on the same machine can reach a loopback server too, so every request passes a guard
 * first: the `Host` header must name this server (a DNS-rebinding page arrives under its own name),
 * an `Origin` must be this server's own (a foreign page's fetch carries its origin), and a POST must
 * say `application/json` (the content type a cross-site form or a "simple" fetch cannot send without
 * a CORS preflight, which this server never grants).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlSchema, type Control } from '../live/controls.ts';
import { firstIssue } from '../music/errors.ts';
import type { StageFeed } from '../live/stageFeed.ts';
import { LOOPBACK } from './config.ts';

/** A /control body that cannot be taken: the message says which field and why (HTTP 400). */
export class ControlBodyError extends Error {
  override readonly name = 'ControlBodyError';
}

/** Parses and validates a /control body; throws ControlBodyError naming the field. */
export function parseControl(body: string): Control {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new ControlBodyError(`body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const c = controlSchema.safeParse(parsed);
  if (!c.success) {
    const { field, problem } = firstIssue(c.error, '(body)');
    throw new ControlBodyError(`${field}: ${problem}`);
  }
  return c.data;
}

/** A request the server turned away (refused, or a /control body it could not take), for the log. */
export interface Rejection {
  readonly status: number;
  readonly method: string;
  readonly path: string;
  readonly error: string;
  readonly from: string | null;
}

export interface ServerHandlers {
  status(): unknown;
  control(c: Control): void;
  /** Told of each refused request and each /control body that was not taken (an operator's log). */
  rejected?(r: Rejection): void;
  /** The stage page: its event feed, and the status frame sent to it four times a second. */
  stage?: { readonly feed: StageFeed; frame(): { now: number; [key: string]: unknown } };
}

/** The stage page's files, read once: no build step, nothing fetched from the internet. */
const PAGE_FILES: Record<string, { type: string; path: string }> = {
  '/': { type: 'text/html; charset=utf-8', path: fileURLToPath(new URL('page/index.html', import.meta.url)) },
  '/stage.js': {
    type: 'text/javascript; charset=utf-8',
    path: fileURLToPath(new URL('page/stage.js', import.meta.url)),
  },
  // abcjs, from the installed package, renders an ABC model's tune as notation
  '/abcjs.js': {
    type: 'text/javascript; charset=utf-8',
    path: join(dirname(createRequire(import.meta.url).resolve('abcjs')), 'dist', 'abcjs-basic-min.js'),
  },
};
const pageCache = new Map<string, Buffer>();
const pageFile = (route: string): Buffer | null => {
  const f = PAGE_FILES[route];
  if (!f) return null;
  let body = pageCache.get(route);
  if (!body) {
    body = readFileSync(f.path);
    pageCache.set(route, body);
  }
  return body;
};

/** Status frames a second on the stage page (its cursor moves between them on its own). */
const STAGE_FRAMES_PER_SECOND = 4;

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

export interface ServerOptions {
  host: string;
  port: number;
  token?: string | undefined;
  /** Serving other machines (the config requires a token then): any Host header is taken. */
  allowRemote?: boolean | undefined;
}

export interface ControlServer {
  readonly server: Server;
  readonly port: number;
  /** A new token for the next request on (SIGHUP after `http.token` changed). */
  setToken(token: string | undefined): void;
}

const sameSecret = (given: string | undefined, token: string): boolean => {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(`Bearer ${token}`);
  return a.length === b.length && timingSafeEqual(a, b);
};

/** Why a request must be refused before it is read ([status, message]), or null. */
function refusal(
  req: IncomingMessage,
  url: URL,
  opts: ServerOptions,
  port: number,
  token: string | undefined,
): [number, string] | null {
  // a page cannot give EventSource a header: GETs may carry the token in the query instead
  const queryToken = req.method === 'GET' ? url.searchParams.get('token') : null;
  const given = req.headers.authorization ?? (queryToken === null ? undefined : `Bearer ${queryToken}`);
  const host = req.headers.host ?? '';
  const name = host.replace(/:\d+$/, '');
  const hostPort = /:(\d+)$/.exec(host)?.[1];
  if (!opts.allowRemote && !(LOOPBACK.test(name) && (hostPort === undefined || Number(hostPort) === port)))
    return [421, `Host ${JSON.stringify(host)} is not this server (loopback, port ${port})`];
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`)
    return [403, `requests from ${JSON.stringify(origin)} are not accepted (only this server's own pages)`];
  if (req.headers['sec-fetch-site'] === 'cross-site') return [403, 'cross-site requests are not accepted'];
  // the page's own files hold nothing secret: they load without the token, which the page then sends
  const pageAsset = req.method === 'GET' && PAGE_FILES[url.pathname] !== undefined;
  if (token !== undefined && !pageAsset && !sameSecret(given, token))
    return [401, 'missing or wrong bearer token'];
  if (req.method === 'POST' && !/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? ''))
    return [415, 'a POST body must be sent as Content-Type: application/json'];
  return null;
}

/** Starts the server; resolves with it and the port it listens on. */
export function startServer(opts: ServerOptions, handlers: ServerHandlers): Promise<ControlServer> {
  let token = opts.token;
  let port = opts.port;
  let ticker: NodeJS.Timeout | null = null;
  const stage = handlers.stage;
  /** Serves the event stream to one page until it closes. */
  const events = (req: IncomingMessage, res: ServerResponse, s: NonNullable<typeof stage>): void => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(': improv stage\n\n');
    const close = s.feed.open(res);
    ticker ??= setInterval(() => {
      if (s.feed.listening) s.feed.publish({ t: 'status', ...s.frame() });
    }, 1000 / STAGE_FRAMES_PER_SECOND).unref();
    s.feed.publish({ t: 'status', ...s.frame() });
    req.on('close', () => {
      close();
      if (!s.feed.listening && ticker) {
        clearInterval(ticker);
        ticker = null;
      }
    });
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const reject = (status: number, error: string): void => {
        handlers.rejected?.({
          status,
          method: req.method ?? '',
          path: url.pathname,
          error,
          from: req.socket.remoteAddress ?? null,
        });
        send(res, status, { error });
      };
      const refused = refusal(req, url, opts, port, token);
      if (refused) {
        // the body is not read: close the connection rather than leave it half-consumed
        res.setHeader('connection', 'close');
        return reject(refused[0], refused[1]);
      }
      if (req.method === 'GET' && url.pathname === '/health') return send(res, 200, { ok: true });
      if (req.method === 'GET' && url.pathname === '/status') return send(res, 200, handlers.status());
      if (req.method === 'GET' && stage && url.pathname === '/events') return events(req, res, stage);
      const page = req.method === 'GET' && stage ? pageFile(url.pathname) : null;
      if (page) {
        res.writeHead(200, {
          'content-type': (PAGE_FILES[url.pathname] as { type: string }).type,
          'cache-control': 'no-store',
          // the page runs only its own scripts and talks only to this server
          'content-security-policy':
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        });
        return res.end(page);
      }
      if (req.method === 'POST' && url.pathname === '/control') {
        let control: Control;
        try {
          control = parseControl(await readBody(req));
          handlers.control(control);
        } catch (err) {
          return reject(400, err instanceof Error ? err.message : String(err));
        }
        return send(res, 200, { ok: true, status: handlers.status() });
      }
      return send(res, 404, { error: `no route ${req.method ?? ''} ${url.pathname}` });
    })().catch((err: unknown) => send(res, 500, { error: String(err) }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      const addr = server.address();
      port = typeof addr === 'object' && addr ? addr.port : opts.port;
      resolve({ server, port, setToken: (t) => (token = t) });
    });
  });
}
