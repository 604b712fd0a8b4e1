/**
 * The limits of every numeric field of a live setup, [min, max]: the setup schema checks them, the
 * CLI's option parsers name them in their errors, and the control surface (CC, HTTP, the page) uses
 * the same ones, and so does the engine's transport. In the runtime layer, which all of them import.
 */
import { z } from 'zod';
export const SETUP_LIMITS = {
  bpm: [20, 400],
  temperature: [0, 2],
  topP: [0.01, 1],
  split: [0, 127],
  silenceBeats: [0.25, 16],
  maxCallBeats: [1, 64],
  responseBars: [0, 64],
  velocity: [1, 127],
  offset: [-1000, 1000],
  lookahead: [1, 1000],
  interval: [1, 1000],
  maxNotesPerSecond: [1, 10_000],
  /** The copy bound in tokens (0: none; see model/copyGuard.ts). */
  maxCopy: [0, 10_000],
} as const satisfies Record<string, readonly [number, number]>;

export type Limited = keyof typeof SETUP_LIMITS;

/** The words every door uses for a limit (CLI, config, /control, the page). */
export const expected = (min: number, max: number, whole: boolean): string =>
  `expected ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`;

/** A number within its field's limits, with the message the CLI's parsers give too (and the controls). */
export function limited(field: Limited, whole = false): z.ZodNumber {
  const [min, max] = SETUP_LIMITS[field];
  const message = expected(min, max, whole);
  const n = z.number({ invalid_type_error: message }).min(min, message).max(max, message);
  return whole ? n.int(message) : n;
}
