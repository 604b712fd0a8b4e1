/**
 * What a CC means: the map from controller numbers to the live controls (remappable, and learnable:
 * the next CC received becomes the control being learned), and each control's reading of the value.
 * Pure: it says what to do and the engine does it, so the shared controls (temperature, model,
 * mode, tempo, panic) reach the live session's one control surface with its one set of limits.
 */
import type { EngineControl, EngineMode } from './engineControl.ts';

/** The live controls a CC can drive (`--learn`'s choices). */
export const CONTROL_ACTIONS = [
  'temperature',
  'model',
  'length',
  'mutate',
  'panic',
  'mode',
  'endCall',
  'tempo',
  'stop',
] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

/** Default CC numbers of the live controls. */
export const DEFAULT_CC_MAP: Readonly<Record<ControlAction, number>> = {
  temperature: 20,
  model: 21,
  length: 22,
  mutate: 23,
  panic: 24,
  mode: 25,
  endCall: 27,
  tempo: 28,
  /** A latching switch or pedal: down (≥ 64) stops, up resumes. */
  stop: 29,
};

/** The tempo CC's range: value + 60 BPM, 60–187 in whole BPM. */
export const TEMPO_CC_BASE = 60;

/** What a CC asks for. */
export type CcCommand =
  | { readonly kind: 'control'; readonly control: EngineControl }
  | { readonly kind: 'mutate' }
  | { readonly kind: 'endCall' }
  /** Learn mode took this CC for the control. */
  | { readonly kind: 'learned'; readonly action: ControlAction; readonly controller: number };

const pressed = (value: number): boolean => value >= 64;

export class CcMap {
  readonly map: Record<ControlAction, number>;
  private learning: ControlAction | null = null;

  constructor(
    overrides: Partial<Record<ControlAction, number>> = {},
    private readonly modes: readonly EngineMode[],
  ) {
    this.map = { ...DEFAULT_CC_MAP, ...overrides };
  }

  /** The next CC number received becomes the control for `action`. */
  learn(action: ControlAction): void {
    this.learning = action;
  }

  /** What CC `controller` at `value` asks for, with `models` models loaded; null: nothing. */
  read(controller: number, value: number, models: number): CcCommand | null {
    if (this.learning) {
      const action = this.learning;
      this.map[action] = controller;
      this.learning = null;
      return { kind: 'learned', action, controller };
    }
    const action = (Object.keys(this.map) as ControlAction[]).find((a) => this.map[a] === controller);
    switch (action) {
      case undefined:
        return null;
      case 'temperature':
        return { kind: 'control', control: { temperature: Math.max(0.05, (2 * value) / 127) } };
      case 'model':
        return {
          kind: 'control',
          control: { model: Math.min(models - 1, Math.floor((value * models) / 128)) },
        };
      case 'length':
        return { kind: 'control', control: { responseBars: Math.floor(value / 16) + 1 } };
      case 'mutate':
        return pressed(value) ? { kind: 'mutate' } : null;
      case 'panic':
        return pressed(value) ? { kind: 'control', control: { panic: true } } : null;
      case 'mode': {
        const n = this.modes.length;
        return {
          kind: 'control',
          control: { mode: this.modes[Math.min(n - 1, Math.floor((value * n) / 128))] },
        };
      }
      case 'endCall':
        return pressed(value) ? { kind: 'endCall' } : null;
      case 'tempo':
        return { kind: 'control', control: { bpm: TEMPO_CC_BASE + value } };
      case 'stop':
        return { kind: 'control', control: { stop: pressed(value) } };
    }
  }
}
