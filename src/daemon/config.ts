/**
 * The daemon's configuration file (JSON or YAML), validated with zod: an error names the field and
 * what it allows, and nothing starts until the whole file is valid.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { refineSetup, setupShape, type LiveSetup } from '../live/setup.ts';
import { firstIssue, ioReason, UserError } from '../music/errors.ts';

export class ConfigError extends UserError {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly field: string,
    problem: string,
  ) {
    super(`${file}: ${field}: ${problem}`);
  }
}

/**
 * The config file: a live setup (live/setup.ts, the same schema `improv live`'s flags map onto) and
 * what only the daemon has, its HTTP server, garbage collection and log.
 */
export const configSchema = setupShape
  .extend({
    http: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(7337),
        token: z.string().min(8).optional(),
        allowRemote: z.boolean().default(false),
      })
      .strict()
      .default({}),
    /**
     * The daemon's own full garbage collection, every so many minutes, in a gap with nothing due
     * (live/quietCollector.ts; only when node runs with --expose-gc, as the systemd unit does);
     * null: leave it to V8.
     */
    gc: z
      .object({ everyMinutes: z.number().min(0.5).max(1440).nullable().default(5) })
      .strict()
      .default({}),
    log: z
      .object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info') })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine(refineSetup);

export type DaemonConfig = z.infer<typeof configSchema>;

/** The live setup in a config (everything but the daemon's own http, gc and log). */
export function setupOf(config: DaemonConfig): LiveSetup {
  const setup: Partial<DaemonConfig> = { ...config };
  delete setup.http;
  delete setup.gc;
  delete setup.log;
  return setup as LiveSetup;
}

export const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;

/** Reads and validates a config file; throws ConfigError naming the field. */
export function loadConfig(file: string): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '(file)', `cannot read (${ioReason(err)})`);
  }
  return parseConfig(text, file);
}

/** Validates a config's text (YAML when `file` ends in .yaml or .yml, else JSON); throws ConfigError naming the field. */
export function parseConfig(text: string, file: string): DaemonConfig {
  const yaml = ['.yaml', '.yml'].includes(extname(file).toLowerCase());
  let raw: unknown;
  try {
    raw = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    // the yaml parser's errors carry a `code` too (BAD_INDENT…): they are the file's, not the disk's
    const message = (err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)).replace(
      /:$/,
      '',
    );
    throw new ConfigError(file, '(file)', `not valid ${yaml ? 'YAML' : 'JSON'}: ${message}`);
  }
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const { field, problem } = firstIssue(parsed.error, '(root)');
    throw new ConfigError(file, field, problem);
  }
  const config = parsed.data;
  if (config.http.allowRemote && config.http.token === undefined) {
    // anyone on the network could steer (or silence) the rig: serving other machines needs a token
    throw new ConfigError(file, 'http.token', 'is required when http.allowRemote is true');
  }
  if (!config.http.allowRemote && !LOOPBACK.test(config.http.host)) {
    throw new ConfigError(
      file,
      'http.host',
      `${config.http.host} is not a loopback address; set http.allowRemote: true (and a token) to serve other machines`,
    );
  }
  return config;
}
