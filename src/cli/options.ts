/** Option parsers for commander that name the option in their error. */
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { InputFileError } from '../music/errors.ts';
import { readText } from '../music/files.ts';
import { SETUP_LIMITS } from '../live/limits.ts';
import { METER } from '../live/setup.ts';
import { DEFAULT_CC_MAP } from '../live/engine.ts';
import { UsageError } from './errors.ts';
import { FEATURE_GROUPS, type FeatureGroup } from '../music/conditioning.ts';
import { parseKeyName, type MusicalKey } from '../music/musicalKey.ts';

export const int =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };

export const float =
  (min: number, max = Number.POSITIVE_INFINITY) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    return n;
  };

export const oneOf =
  <T extends string>(allowed: readonly T[]) =>
  (value: string): T => {
    if (!(allowed as readonly string[]).includes(value))
      throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
    return value as T;
  };

/**
 * `--max-copy`: "default" (the bundle's own bound), "off" (0) or a number of tokens. Commander stores a
 * parser's null as '', so "default" stays a word here and `maxCopyOf` turns it into the setup's null.
 * @example maxCopyOption('off') // => 0
 */
export function maxCopyOption(value: string): number | 'default' {
  if (value === 'default') return 'default';
  if (value === 'off') return 0;
  const [min, max] = SETUP_LIMITS.maxCopy;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`expected default, off or a whole number from ${min} to ${max}`);
  return n;
}

/** The parsed --max-copy as the setup and the generators take it: null for the bundle's default. */
export const maxCopyOf = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/** The help text of --max-copy, shared by generate, eval and live. */
export const MAX_COPY_HELP =
  "the plagiarism bound: at most N consecutive tokens (ABC: characters) of the model's training data, and for grammar models N consecutive lengths of its rhythm; 'default' is the bound the bundle measured, 'off' none";

/**
 * `--features`: the conditioning groups beside chord and place, comma-separated; "none" for neither.
 * @example featureGroups('key,lookback') // => ['key', 'lookback']
 */
export function featureGroups(value: string): FeatureGroup[] {
  if (value.trim() === 'none') return [];
  const groups = value.split(',').map((g) => g.trim());
  const known = Object.keys(FEATURE_GROUPS).filter((g) => g !== 'place');
  for (const g of groups)
    if (!known.includes(g)) throw new InvalidArgumentError(`expected none or some of ${known.join(', ')}`);
  return [...new Set(groups)] as FeatureGroup[];
}

/**
 * `--harmonize`: meters, comma-separated, or "all".
 * @example meterList('3/4,6/8') // => ['3/4', '6/8']
 */
export function meterList(value: string): string[] {
  const meters = value.split(',').map((m) => m.trim());
  for (const m of meters)
    if (m !== 'all' && !METER.test(m))
      throw new InvalidArgumentError('expected meters such as 3/4,6/8, or all');
  return meters;
}

/**
 * `--oversample`: meters and how many times over, comma-separated.
 * @example oversampleList('3/4:3') // => { '3/4': 3 }
 */
export function oversampleList(value: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of value.split(',').map((m) => m.trim())) {
    const [meter, times] = part.split(':');
    const n = Number(times);
    if (meter === undefined || !METER.test(meter) || !Number.isInteger(n) || n < 1 || n > 20)
      throw new InvalidArgumentError(
        'expected a meter and a count from 1 to 20, such as 3/4:3 (comma-separated)',
      );
    out[meter] = n;
  }
  return out;
}

/** `--key`: a key name ('G', 'Em', 'A dorian', 'Dmix'). */
export function keyOption(value: string): MusicalKey {
  const key = parseKeyName(value);
  if (!key) throw new InvalidArgumentError("expected a key such as G, Em, 'A dorian' or Dmix");
  return key;
}

/** "55-84" → { low: 55, high: 84 }. */
export function midiRange(value: string): { low: number; high: number } {
  const m = /^(\d{1,3})-(\d{1,3})$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected LOW-HIGH in MIDI numbers, e.g. 55-84');
  return { low: Number(m[1]), high: Number(m[2]) };
}

/** "temperature=74,panic=120" → { temperature: 74, panic: 120 }. */
export function ccMapOption(value: string): Record<string, number> {
  const known = Object.keys(DEFAULT_CC_MAP);
  const out: Record<string, number> = {};
  for (const part of value.split(',').filter(Boolean)) {
    const m = /^(\w+)=(\d{1,3})$/.exec(part.trim());
    if (!m || !known.includes(m[1] as string) || Number(m[2]) > 127) {
      throw new InvalidArgumentError(
        `expected control=CC pairs (controls: ${known.join(', ')}; CC 0–127), got '${part}'`,
      );
    }
    out[m[1] as string] = Number(m[2]);
  }
  return out;
}

/** " 3/4" → "3/4", checked as the live setup's meter field checks it. */
export function meterOption(value: string): string {
  const m = METER.exec(value.trim());
  if (!m || Number(m[1]) < 1) throw new InvalidArgumentError('expected a meter such as 4/4, 3/4 or 6/8');
  return value.trim();
}

/**
 * A leadsheet file: chord symbols, bars separated by spaces or '|', '#' starts a comment; a line
 * `K: G` (as in ABC) names the key the grammar models play in.
 */
export function readLeadsheet(file: string): { chords: string; key: string | null } {
  const text = readText(file, 'leadsheet').replace(/#.*$/gm, ' ');
  let key: string | null = null;
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const m = /^\s*K:\s*(.*?)\s*$/.exec(line);
    if (!m) return;
    if (!parseKeyName(m[1] as string))
      throw new InputFileError(file, `line ${i + 1}: K: ${m[1] as string} is not a key (G, Em, A dorian)`);
    key = m[1] as string;
    lines[i] = '';
  });
  const chords = lines.join('\n').trim();
  if (!chords) throw new InputFileError(file, 'the leadsheet has no chords');
  return { chords, key };
}

/**
 * The longest command line taken (bytes, NUL-separated as /proc/self/cmdline holds it).
 * onnxruntime's start-up runs a recursive pattern match over the process's command line: with the
 * usual 8 MB stack a line of about 29 KB overflows it and the process dies with a segfault (exit 139)
 * before any model loads. Half of that leaves room for smaller stacks; a longer progression belongs
 * in a file (--leadsheet).
 */
export const MAX_COMMAND_LINE_BYTES = 16_384;

/** Refuses a command line onnxruntime could not start under, naming the longest argument. */
export function checkCommandLine(args: readonly string[]): void {
  const bytes = args.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
  if (bytes <= MAX_COMMAND_LINE_BYTES) return;
  const longest = args.reduce((a, b) => (Buffer.byteLength(b) > Buffer.byteLength(a) ? b : a), '');
  const name = longest.length > 40 ? `${longest.slice(0, 40)}…` : longest;
  throw new UsageError(
    `the command line is ${bytes} bytes, more than ${MAX_COMMAND_LINE_BYTES} (onnxruntime crashes at start-up on command lines of about 29 KB); ` +
      `the longest argument (${Buffer.byteLength(longest)} bytes) begins "${name}": put a long progression in a file and pass --leadsheet FILE`,
  );
}

export const ALL_CHANNELS: readonly number[] = Array.from({ length: 16 }, (_, i) => i);

/** `1,2,10` or `all` → 0-based channels. */
export function channelList(value: string): number[] {
  if (value.trim().toLowerCase() === 'all') return [...ALL_CHANNELS];
  const channels = value.split(',').map((v) => Number(v.trim()));
  if (channels.length === 0 || channels.some((c) => !Number.isInteger(c) || c < 1 || c > 16))
    throw new InvalidArgumentError('expected channels 1–16 separated by commas, or all');
  return [...new Set(channels.map((c) => c - 1))].sort((a, b) => a - b);
}
