/**
 * The daemon's configuration file (JSON or YAML), validated with zod: an error names the field and
 * what it allows, and nothing starts until the whole file is valid.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_CC_MAP, ENGINE_MODES } from '../runtime/engine.ts';
import { CLOCK_SOURCES } from '../midi/live.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly field: string,
    problem: string,
  ) {
    super(`${file}: ${field}: ${problem}`);
  }
}

const channel = z.number().int().min(1).max(16);
const controls = Object.keys(DEFAULT_CC_MAP) as [
  keyof typeof DEFAULT_CC_MAP,
  ...(keyof typeof DEFAULT_CC_MAP)[],
];

export const configSchema = z
  .object({
    input: z.string().nullable().default(null),
    output: z.string().default('virtual:Improviser'),
    models: z.array(z.string()).min(1).default(['models/jazz']),
    mode: z.enum(ENGINE_MODES as unknown as ['call-response', 'solo', 'follow']).default('call-response'),
    chords: z.string().min(1).default('Dm7 G7 Cmaj7 Cmaj7'),
    bpm: z.number().min(20).max(400).default(120),
    meter: z
      .string()
      .regex(/^\d{1,2}\/(1|2|4|8|16)$/, 'expected a meter such as 4/4, 3/4 or 6/8')
      .default('4/4'),
    clock: z.enum(CLOCK_SOURCES as unknown as ['internal', 'follow', 'lead', 'link']).default('internal'),
    /** With clock: link, play while the Link session plays (start/stop sync); false: play regardless. */
    link: z
      .object({ startStop: z.boolean().default(true) })
      .strict()
      .default({}),
    split: z.number().int().min(0).max(127).default(60),
    silenceBeats: z.number().min(0.25).max(16).default(1.5),
    maxCallBeats: z.number().min(1).max(64).default(16),
    responseBars: z.number().int().min(0).max(64).default(0),
    seed: z.number().int().min(0).default(1),
    temperature: z.number().min(0).max(100).default(1),
    topP: z.number().gt(0).max(1).default(0.95),
    range: z
      .object({ low: z.number().int().min(0).max(127), high: z.number().int().min(0).max(127) })
      .default({ low: 55, high: 84 }),
    channels: z
      .object({
        in: channel.nullable().default(null),
        out: channel.default(1),
        thru: channel.nullable().default(null),
      })
      .strict()
      .default({}),
    cc: z.record(z.enum(controls), z.number().int().min(0).max(127)).default({}),
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
     * (midi/quietCollector.ts; only when node runs with --expose-gc, as the systemd unit does);
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
  .strict();

export type DaemonConfig = z.infer<typeof configSchema>;

export const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;

/** Reads and validates a config file; throws ConfigError naming the field. */
export function loadConfig(file: string): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      file,
      '(file)',
      `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
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
    const issue = parsed.error.issues[0];
    throw new ConfigError(file, issue?.path.join('.') || '(root)', issue?.message ?? 'invalid');
  }
  const config = parsed.data;
  if (config.range.high - config.range.low < 12)
    throw new ConfigError(file, 'range', 'must span at least an octave');
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
