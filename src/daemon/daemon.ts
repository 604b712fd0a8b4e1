/**
 * `improv daemon`: the live engine for a stage box with no screen. Everything is loaded and checked
 * before anything starts (config, models, ports, server); SIGINT/SIGTERM release every sounding note
 * and send All Notes Off before exiting 0; SIGHUP reloads config and models without closing ports,
 * and keeps the old ones playing when the new ones fail to load. Logs are JSON lines (pino).
 */
import type { LiveStatus } from './statusSchema.ts';
import pino from 'pino';
import type { LiveSession } from '../live/liveSession.ts';
import { QuietCollector } from '../live/quietCollector.ts';
import { buildRig, type Rig } from '../live/rig.ts';
import { RealClock, type Clock } from '../midi/clock.ts';
import { ConfigError, loadConfig, setupOf, type DaemonConfig } from './config.ts';
import { startServer } from './server.ts';
import { liveStatus, rigHandlers, type StatusSource } from './status.ts';
import type { Control } from '../live/controls.ts';
import type { Server } from 'node:http';
import { createServer } from 'node:net';

export interface Daemon {
  readonly live: LiveSession;
  readonly port: number;
  status(): LiveStatus;
  control(c: Control): void;
  reload(): Promise<boolean>;
  stop(): Promise<void>;
}

/** A listen error on the config's HTTP address as a ConfigError naming http.port (others pass through). */
function portError(file: string, config: DaemonConfig, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')
    return new ConfigError(
      file,
      'http.port',
      `cannot listen on ${config.http.host}:${config.http.port} (${code}${code === 'EADDRINUSE' ? ': in use, by another daemon?' : ''}); choose another http.port or http.host`,
    );
  return err;
}

/** Listens on host:port and lets go at once: rejects as listen would (EADDRINUSE …). Port 0 is always free. */
function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

export async function startDaemon(
  file: string,
  opts: { clock?: Clock; logLevel?: string | undefined } = {},
): Promise<Daemon> {
  const started = Date.now();
  const clock = opts.clock ?? new RealClock();
  let config = loadConfig(file);
  const log = pino(
    { level: opts.logLevel ?? config.log.level, base: { service: 'improv' } },
    pino.destination(2),
  );
  const collector =
    config.gc.everyMinutes === null ? null : new QuietCollector(clock, config.gc.everyMinutes * 60_000);
  if (collector && !collector.enabled)
    log.info(
      'gc.everyMinutes has no effect: node was started without --expose-gc (the systemd unit passes it)',
    );
  // a second instance fails here, before it opens (and a file sink truncates) anything the first owns
  await checkPortFree(config.http.host, config.http.port).catch((err: unknown) => {
    throw portError(file, config, err);
  });
  // models, Link and ports, each checked before the next opens; nothing is left open on a failure
  const rig: Rig = await buildRig(setupOf(config), {
    clock,
    log: (l) => log.warn(l),
    collector,
  });
  const live = rig.live;
  let server: Server | null = null;
  try {
    const source: StatusSource = { rig, clock, collector, started };
    const handlers = rigHandlers(
      source,
      (c) => log.info({ control: c }, 'control'),
      (r) => log.warn({ rejected: r }, `refused ${r.method} ${r.path} (${r.status}): ${r.error}`),
    );
    const srv = await startServer(config.http, handlers).catch((err: unknown) => {
      throw portError(file, config, err);
    });
    server = srv.server;
    live.start();
    log.info(
      {
        input: config.input,
        output: config.output,
        models: config.models,
        http: `${config.http.host}:${srv.port}`,
      },
      'started',
    );
    const reloadOnce = async (): Promise<boolean> => {
      try {
        const next = loadConfig(file);
        const unchanged = await rig.reload(setupOf(next));
        if (unchanged.length > 0)
          log.warn(
            `${unchanged.join(', ')}: not changed by a reload (the live session holds them); restart the daemon to change them`,
          );
        const { host, port, allowRemote } = config.http;
        if (next.http.host !== host || next.http.port !== port || next.http.allowRemote !== allowRemote)
          log.warn(
            'http.host, http.port and http.allowRemote are not changed by a reload; restart the daemon',
          );
        // the token is: the old one stops working on the next request
        srv.setToken(next.http.token);
        config = { ...next, http: { ...config.http, token: next.http.token } };
        log.info({ models: next.models }, 'reloaded');
        return true;
      } catch (err) {
        log.error(
          { err: err instanceof Error ? err.message : String(err) },
          'reload failed; the old configuration keeps playing',
        );
        return false;
      }
    };
    let reloading: Promise<boolean> | null = null;
    let queued: Promise<boolean> | null = null;
    let stopping: Promise<void> | null = null;
    const daemon: Daemon = {
      live,
      port: srv.port,
      status: () => liveStatus(source),
      control: handlers.control,
      reload() {
        // SIGHUPs in a row must not load a set of models each at once: one reload runs, and one more
        // follows it if any came meanwhile (it reads the file as it is then)
        if (!reloading) {
          reloading = reloadOnce().finally(() => (reloading = null));
          return reloading;
        }
        queued ??= reloading.then(() => {
          queued = null;
          return daemon.reload();
        });
        return queued;
      },
      stop() {
        stopping ??= (async () => {
          await rig.close(); // every note released, ports closed, Link left, models disposed
          await new Promise<void>((r) => {
            if (!server) return r();
            server.close(() => r());
            server.closeAllConnections(); // open stage pages hold their event streams
          });
          log.info({ notesSent: live.stats.notesSent, sounding: live.sounding }, 'stopped');
          log.flush();
        })();
        return stopping;
      },
    };
    return daemon;
  } catch (err) {
    server?.close();
    await rig.close();
    throw err;
  }
}
