/**
 * The one door to a live session's controls. A CC (through the engine), HTTP `/control` and the stage
 * page all come here, with one schema and one set of limits (the live setup's, limits.ts): before, the CC handler and the HTTP
 * handler each reached into the engine with their own clamps. A change is checked whole before any
 * of it is applied (a bad chord symbol leaves the temperature that came with it unapplied too).
 */
import { z } from 'zod';
import { parseProgression } from '../music/chordSymbols.ts';
import { firstIssue } from '../music/errors.ts';
import { ENGINE_MODES, type Engine, type EngineControl } from './engine.ts';
import { limited } from './limits.ts';

export const controlSchema = z
  .object({
    temperature: limited('temperature').optional(),
    topP: limited('topP').optional(),
    model: z.number().int().min(0).optional(),
    mode: z.enum(ENGINE_MODES as unknown as ['call-response', 'solo', 'follow']).optional(),
    /** Sets the tempo, or proposes it to the Link session (refused while following MIDI clock). */
    bpm: limited('bpm').optional(),
    /** Answer length in bars; 0 answers as long as the call. */
    responseBars: limited('responseBars', true).optional(),
    /** The looping progression: chord symbols, one bar each (spaces or |). */
    chords: z.string().min(1).max(4000).optional(),
    /** The copy bound in tokens (0: none; null: each model's own default). */
    maxCopy: limited('maxCopy', true).nullable().optional(),
    panic: z.literal(true).optional(),
    /** true: silence and hold until resumed; false: resume. */
    stop: z.boolean().optional(),
  })
  .strict();

export type Control = z.infer<typeof controlSchema>;

/**
 * The engine's plain EngineControl (the runtime layer does not import zod schemas) and this schema
 * describe the same change: these two lines stop compiling if one gains a field the other lacks.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape: Same<Required<Control>, Required<EngineControl>> = true;
void sameShape;

/** A change that cannot be applied (a model index out of range, a chord symbol not understood). */
export class ControlError extends Error {
  override readonly name = 'ControlError';
}

/** What the controls are now, for /status and the page. */
export interface ControlValues {
  readonly temperature: number;
  readonly topP: number;
  readonly model: number;
  readonly models: number;
  readonly mode: (typeof ENGINE_MODES)[number];
  readonly bpm: number;
  readonly responseBars: number;
  readonly chords: string;
  /** The copy bound asked for (null: each model's own default, 0: none). */
  readonly maxCopy: number | null;
  /** Stopped (STOP or PANIC): silent until resumed. */
  readonly stopped: boolean;
}

/**
 * What the controls reach: the engine that plays now (a reload replaces it) and whoever owns the
 * tempo (the live session: it sets the tempo, proposes it to Link, or refuses it while following
 * MIDI clock). The surface needs no more of the live session than this.
 */
export interface ControlTarget {
  readonly engine: Engine;
  proposeTempo(bpm: number): void;
}

export class ControlSurface {
  private chordsText: string;

  constructor(
    private readonly live: ControlTarget,
    chords: string,
  ) {
    this.chordsText = chords;
  }

  /** Checks and applies a change; throws ControlError (nothing applied) when it cannot be taken. */
  apply(input: EngineControl): void {
    const parsed = controlSchema.safeParse(input);
    if (!parsed.success) {
      const { field, problem } = firstIssue(parsed.error, '(control)');
      throw new ControlError(`${field}: ${problem}`);
    }
    const c = parsed.data;
    const engine = this.live.engine;
    if (c.model !== undefined && c.model >= engine.models)
      throw new ControlError(`model: ${c.model} is outside 0..${engine.models - 1}`);
    let progression: ReturnType<typeof parseProgression> | null = null;
    if (c.chords !== undefined) {
      try {
        progression = parseProgression(c.chords, engine.barLength);
      } catch (err) {
        throw new ControlError(`chords: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (progression) {
      engine.setProgression(progression);
      this.chordsText = (c.chords as string).trim();
    }
    if (c.temperature !== undefined) engine.setTemperature(c.temperature);
    if (c.topP !== undefined) engine.setTopP(c.topP);
    if (c.model !== undefined) engine.selectModel(c.model);
    if (c.mode !== undefined) engine.setMode(c.mode);
    if (c.responseBars !== undefined) engine.setResponseBars(c.responseBars);
    if (c.maxCopy !== undefined) {
      try {
        engine.setMaxCopy(c.maxCopy);
      } catch (err) {
        throw new ControlError(`maxCopy: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (c.bpm !== undefined) this.live.proposeTempo(c.bpm);
    if (c.stop !== undefined) engine.setStopped(c.stop);
    if (c.panic) engine.panic();
  }

  /** After a reload: the new engine's progression, as written. */
  reset(chords: string): void {
    this.chordsText = chords;
  }

  get values(): ControlValues {
    const engine = this.live.engine;
    return {
      temperature: engine.improviser.sampler.temperature,
      topP: engine.improviser.sampler.topP,
      model: engine.model,
      models: engine.models,
      mode: engine.currentMode,
      bpm: Math.round(engine.tempo * 100) / 100,
      responseBars: engine.answerBars,
      chords: this.chordsText,
      maxCopy: engine.maxCopy,
      stopped: engine.isStopped,
    };
  }
}
