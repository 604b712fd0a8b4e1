/** Option parsers for commander that name the option in their error. */
import { InvalidArgumentError } from 'commander';
import { InputFileError } from '../music/errors.ts';
import { readText } from '../music/files.ts';

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

/** "55-84" → { low: 55, high: 84 }. */
export function midiRange(value: string): { low: number; high: number } {
  const m = /^(\d{1,3})-(\d{1,3})$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected LOW-HIGH in MIDI numbers, e.g. 55-84');
  return { low: Number(m[1]), high: Number(m[2]) };
}

/** "temperature=74,panic=120" → { temperature: 74, panic: 120 }. */
export function ccMapOption(value: string): Record<string, number> {
  const known = ['temperature', 'model', 'length', 'mutate', 'panic', 'mode', 'endCall'];
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

/** "3/4" → { numerator: 3, denominator: 4 }. */
export function meterOption(value: string): { numerator: number; denominator: number } {
  const m = /^(\d{1,2})\/(1|2|4|8|16)$/.exec(value.trim());
  if (!m || Number(m[1]) < 1) throw new InvalidArgumentError('expected a meter such as 4/4, 3/4 or 6/8');
  return { numerator: Number(m[1]), denominator: Number(m[2]) };
}

/** A leadsheet file: chord symbols, bars separated by spaces or '|', '#' starts a comment. */
export function readLeadsheet(file: string): string {
  const text = readText(file, 'leadsheet');
  const chords = text.replace(/#.*$/gm, ' ').trim();
  if (!chords) throw new InputFileError(file, 'the leadsheet has no chords');
  return chords;
}
