/** Option parsers for commander that name the option in their error. */
import { InvalidArgumentError } from 'commander';

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
