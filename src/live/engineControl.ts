/**
 * The engine's modes and the plain shape of a control change: what the CC map, the control surface
 * and the engine share. A module of its own so the CC map needs nothing of the engine (the two once
 * imported each other).
 */
export type EngineMode = 'call-response' | 'solo' | 'follow';
export const ENGINE_MODES: readonly EngineMode[] = ['call-response', 'solo', 'follow'];

/** What the shared controls change (CC, HTTP and the stage page all come through these). */
export interface EngineControl {
  readonly temperature?: number;
  readonly topP?: number;
  readonly model?: number;
  readonly mode?: EngineMode;
  readonly bpm?: number;
  /** Answer length in bars; 0 answers as long as the call. */
  readonly responseBars?: number;
  /** The looping progression, as chord symbols (one bar each). */
  readonly chords?: string;
  /** The copy bound (model/copyGuard.ts): null the bundle's default, 0 none, N tokens. */
  readonly maxCopy?: number | null;
  /** All notes off now, and stopped (as `stop: true`). */
  readonly panic?: true;
  /** true: silence and hold (no answers, no solo) until resumed; false: resume. */
  readonly stop?: boolean;
}
