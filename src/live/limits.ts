/**
 * The limits of every numeric field of a live setup, [min, max]: the setup schema checks them, the
 * CLI's option parsers name them in their errors, and the control surface (CC, HTTP, the page) uses
 * the same ones, and so does the engine's transport. In the runtime layer, which all of them import.
 */
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
} as const satisfies Record<string, readonly [number, number]>;
