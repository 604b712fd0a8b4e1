/**
 * `improv daemon`: the live engine for a stage box with no screen. Everything is loaded and checked
 * before anything starts (config, models, ports, server); SIGINT/SIGTERM release every sounding note
 * and send All Notes Off before exiting 0; SIGHUP reloads config and models without closing ports,
 * and keeps the old ones playing when the new ones fail to load. Logs are JSON lines (pino).
 */
import pino from 'pino';
import { parseProgression } from '../music/chordSymbols.ts';
import { createRng } from '../music/rng.ts';
import { TWELFTHS_PER_QUARTER } from '../music/time.ts';
import { DEFAULT_LIVE_OPTIONS, LiveSession } from '../midi/live.ts';
import { openInput, openOutput, type MidiInPort } from '../midi/ports.ts';
import { QuietCollector } from '../midi/quietCollector.ts';
import { openLink, type LinkTransport } from '../midi/link.ts';
import { RealClock, type Clock } from '../runtime/clock.ts';
import { DEFAULT_ENGINE_OPTIONS, Engine, type EngineOutput } from '../runtime/engine.ts';
import { improviserFor } from '../runtime/improvisers.ts';
import { LstmSession } from '../runtime/session.ts';
import { ConfigError, loadConfig, type DaemonConfig } from './config.ts';
import { startServer } from './server.ts';
import { liveStatus, stageStatus, type StatusSource } from './status.ts';
import type { Control } from '../midi/controls.ts';
import type { Server } from 'node:http';

export interface Daemon {
  readonly live: LiveSession;
  readonly port: number;
  status(): Record<string, unknown>;
  control(c: Control): void;
  reload(): Promise<boolean>;
  stop(): Promise<void>;
}

interface Loaded {
  readonly config: DaemonConfig;
  readonly sessions: LstmSession[];
  readonly makeEngine: (emit: (o: EngineOutput) => void) => Engine;
  /** The bar, in twelfths of a quarter. */
  readonly barLength: number;
}

/** Loads models and builds the engine factory for a config; throws before anything is started. */
async function load(config: DaemonConfig, clock: Clock): Promise<Loaded> {
  const sessions: LstmSession[] = [];
  try {
    for (const m of config.models) sessions.push(await LstmSession.load(m));
  } catch (err) {
    await Promise.all(sessions.map((s) => s.dispose()));
    throw err;
  }
  const [num, den] = config.meter.split('/').map(Number) as [number, number];
  const barLength = Math.round((num * 4 * TWELFTHS_PER_QUARTER) / den);
  const progression = parseProgression(config.chords, barLength);
  const sampler = { temperature: config.temperature, topK: 0, topP: config.topP };
  const improvisers = sessions.map((s, i) =>
    improviserFor(s, createRng(config.seed + i), sampler, config.range, { numerator: num, denominator: den }),
  );
  const options = {
    ...DEFAULT_ENGINE_OPTIONS,
    bpm: config.bpm,
    barLength,
    progression,
    mode: config.mode,
    split: config.split,
    silenceBeats: config.silenceBeats,
    maxCallBeats: config.maxCallBeats,
    responseBars: config.responseBars,
  };
  return {
    config,
    sessions,
    barLength,
    makeEngine: (emit) => new Engine(improvisers, clock, options, emit, config.cc),
  };
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
  let loaded = await load(config, clock);
  let input: MidiInPort | null = null;
  let server: Server | null = null;
  let link: LinkTransport | null = null;
  try {
    if (config.clock === 'link')
      link = openLink({
        clock,
        barQuarters: loaded.barLength / TWELFTHS_PER_QUARTER,
        startStop: config.link.startStop,
        log: (l) => log.info(l),
      });
    input = config.input ? openInput(config.input, { clock, log: (l) => log.warn(l) }) : null;
    const output = openOutput(config.output, { clock, log: (l) => log.warn(l) });
    const collector =
      config.gc.everyMinutes === null ? null : new QuietCollector(clock, config.gc.everyMinutes * 60_000);
    if (collector && !collector.enabled)
      log.info(
        'gc.everyMinutes has no effect: node was started without --expose-gc (the systemd unit passes it)',
      );
    const live = new LiveSession(
      {
        ...DEFAULT_LIVE_OPTIONS,
        clock,
        input,
        output,
        outChannel: config.channels.out - 1,
        inChannel: config.channels.in === null ? null : config.channels.in - 1,
        noteRange: [0, 127],
        clockSource: config.clock,
        link,
        chords: config.chords,
        thruChannel: config.channels.thru === null ? null : config.channels.thru - 1,
        collector,
        log: (l) => log.warn(l),
      },
      (emit) => loaded.makeEngine(emit),
    );
    const source: StatusSource = {
      live,
      clock,
      get input() {
        return config.input;
      },
      get output() {
        return config.output;
      },
      get models() {
        return loaded.config.models;
      },
      clockSource: config.clock,
      inputDropped: () => input?.dropped ?? 0,
      collector,
      started,
    };
    const status = (): Record<string, unknown> => liveStatus(source);
    const control = (c: Control): void => {
      live.controls.apply(c);
      log.info({ control: c }, 'control');
    };
    const srv = await startServer(config.http, {
      status,
      control,
      stage: { feed: live.feed, frame: () => stageStatus(source) },
    }).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')
        throw new ConfigError(
          file,
          'http.port',
          `cannot listen on ${config.http.host}:${config.http.port} (${code}${code === 'EADDRINUSE' ? ': in use, by another daemon?' : ''}); choose another http.port or http.host`,
        );
      throw err;
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
        const fresh = await load(next, clock);
        if (next.input !== config.input || next.output !== config.output)
          log.warn('ports are not changed by a reload; restart the daemon to change them');
        const { host, port, allowRemote } = config.http;
        if (next.http.host !== host || next.http.port !== port || next.http.allowRemote !== allowRemote)
          log.warn(
            'http.host, http.port and http.allowRemote are not changed by a reload; restart the daemon',
          );
        // the token is: the old one stops working on the next request
        srv.setToken(next.http.token);
        const old = loaded;
        loaded = fresh;
        config = {
          ...next,
          input: config.input,
          output: config.output,
          http: { ...config.http, token: next.http.token },
        };
        live.replaceEngine((emit) => fresh.makeEngine(emit), next.chords);
        await Promise.all(old.sessions.map((s) => s.dispose()));
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
      status,
      control,
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
          await live.stop();
          await new Promise<void>((r) => {
            if (!server) return r();
            server.close(() => r());
            server.closeAllConnections(); // open stage pages hold their event streams
          });
          await Promise.all(loaded.sessions.map((s) => s.dispose()));
          log.info({ notesSent: live.stats.notesSent, sounding: live.sounding }, 'stopped');
          log.flush();
        })();
        return stopping;
      },
    };
    return daemon;
  } catch (err) {
    link?.close();
    await input?.close();
    server?.close();
    await Promise.all(loaded.sessions.map((s) => s.dispose()));
    throw err;
  }
}
