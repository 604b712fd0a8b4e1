/**
 * ABC tune generation: the char-LSTM session emits characters, and each one goes straight into a
 * streaming ABC reader, which emits note events as notes complete. Generation runs tune by tune: a
 * tune ends where the model starts the next `X:` line, or at the character budget.
 *
 * With `attempts` > 1, each finished tune is linted (no malformed tokens, no abcjs warnings, sound
 * repeat structure). A tune that fails is drawn again from the state at its `X:` line, and the last
 * draw is kept if none passes. Events then reach `onEvents` once a tune is kept; with one attempt they
 * stream character by character.
 */
import { vectorize } from '../music/abc/corpus.ts';
import type { FormSpec } from '../music/abc/form.ts';
import { AbcGuide, corpusTables } from '../music/abc/guide.ts';
import { lintTune } from '../music/abc/lint.ts';
import { AbcStreamReader, type AbcEvent } from '../music/abc/reader.ts';
import { RepeatExpander } from '../music/abc/repeats.ts';
import type { Rng } from '../music/rng.ts';
import { copyGuardFor, copyStatsOf, type CopyGuard } from './copyGuard.ts';
import { sample, sampleMasked, type MaskedDraw, type SamplerOptions } from './sampler.ts';
import type { LstmSession, StepOutput } from './lstmSession.ts';
import { UserError } from '../music/errors.ts';

export class PrimingError extends UserError {
  override readonly name = 'PrimingError';
}

export interface AbcGenerateOptions {
  readonly tunes: number;
  /** Priming text, e.g. "X:1". */
  readonly start: string;
  readonly sampler: SamplerOptions;
  readonly rng: Rng;
  /** Character budget per tune (a model that never ends a tune still stops). */
  readonly maxCharsPerTune: number;
  /** Draws per tune until one passes the lint (1: keep the first, streaming). */
  readonly attempts?: number;
  /** Called with events as they are read (live use). */
  readonly onEvents?: (events: readonly AbcEvent[]) => void;
  /**
   * Keep bars true and the tune in this form (see AbcGuide); null: bars true, form left to the model;
   * undefined or `false`: no mask at all (the model's raw text).
   */
  readonly guide?:
    | {
        readonly form: FormSpec | null;
        readonly tonicBias?: number;
        readonly formBias?: number;
        readonly shortBias?: number;
      }
    | false;
  /** The copy bound (copyGuard.ts): null or undefined the bundle's default, 0 none, N characters. */
  readonly maxCopy?: number | null;
}

/** What the mask did while a tune was drawn. */
export interface GuideReport {
  /** Characters drawn under the mask. */
  readonly steps: number;
  /** Draws where the model's own choice (same random number, no mask) was a masked character. */
  readonly changed: number;
  /** Steps where no character could keep the bar true, so the bar was let go (see GuideStats). */
  readonly gaveUp: number;
  /** Steps where nothing was allowed and the draw went unmasked. */
  readonly unmasked: number;
  /** The text left the form after an unmasked draw. */
  readonly formLost: boolean;
}

export interface GeneratedTune {
  readonly text: string;
  /** Played events (repeats expanded), times from the tune's start. */
  readonly events: readonly AbcEvent[];
  readonly skippedTokens: number;
  /** Draws it took (1 when the first one was kept). */
  readonly attempts: number;
  /** What the lint found in the kept draw (empty when it passed or no lint ran). */
  readonly problems: readonly string[];
  /** The mask's work on the kept draw (null without a guide). */
  readonly guide: GuideReport | null;
}

export interface AbcGeneration {
  readonly text: string;
  readonly tunes: readonly GeneratedTune[];
  /** Characters sampled, every draw counted. */
  readonly characters: number;
  readonly skippedTokens: number;
  /** What the copy bound did over all draws (null: no bound). */
  readonly copies: { readonly binding: number; readonly fallbacks: number } | null;
}

/** Checks priming text against the vocabulary; throws PrimingError naming the characters it lacks. */
export function primeIds(start: string, vocabulary: readonly string[]): number[] {
  const { ids, unknown } = vectorize(start, vocabulary);
  if (unknown > 0) {
    const known = new Set(vocabulary);
    const missing = [...new Set([...start].filter((c) => !known.has(c)))];
    throw new PrimingError(
      `--start has ${unknown} character(s) outside the model's vocabulary: ${missing.map((c) => JSON.stringify(c)).join(', ')}`,
    );
  }
  return ids;
}

/** The priming text with its `X:` number set to `n` (tunes after the first are numbered on). */
export function numbered(start: string, n: number): string {
  return /^X:\s*\d*/.test(start) ? start.replace(/^X:\s*\d*/, `X:${n}`) : start;
}

interface Draw {
  /** The tune's text (without the next tune's X: line). */
  text: string;
  /** The next tune's X: line, already generated, or null at the budget's end. */
  carry: string | null;
  events: AbcEvent[];
  skipped: number;
  characters: number;
  guide: GuideReport | null;
}

/**
 * One character drawn under the guide: its mask and tonic bias on a copy of the logits, then the
 * masked draw (which also says whether the mask changed the model's own choice).
 */
export function drawGuided(
  guide: AbcGuide | null,
  logits: Float32Array,
  sampler: SamplerOptions,
  rng: Rng,
  allowed: Uint8Array,
  copies: CopyGuard | null = null,
): MaskedDraw {
  const biased = Float32Array.from(logits);
  if (guide) guide.guide(biased, allowed);
  else allowed.fill(1);
  copies?.restrict(allowed);
  const draw = sampleMasked(biased, sampler, rng, allowed);
  copies?.push(draw.id);
  return draw;
}

export async function generateAbc(session: LstmSession, opts: AbcGenerateOptions): Promise<AbcGeneration> {
  const vocab = session.vocabulary;
  // a model trained on whole tunes ends a tune with a blank line and begins each one from a fresh state
  const whole = session.manifest.hyperparameters.wholeSequences === true;
  // its X: line is all the priming says of its number: it would write more digits
  const start = whole && /^X:\s*\d+$/.test(opts.start) ? `${opts.start}\n` : opts.start;
  const ids = primeIds(start, vocab);
  const attempts = Math.max(1, opts.attempts ?? 1);
  const streaming = attempts === 1 ? opts.onEvents : undefined;

  const guided = opts.guide ? opts.guide : null;
  const allowed = new Uint8Array(vocab.length);
  const copies = copyGuardFor(session, opts.maxCopy ?? null);
  for (const id of ids) copies?.push(id);
  /** Samples one tune from the current state; `prefix` is its text so far (its X: line). */
  const drawTune = async (prefix: string, first: StepOutput): Promise<{ draw: Draw; next: StepOutput }> => {
    const guide = guided ? new AbcGuide(vocab, { ...guided, ...corpusTables(session.manifest) }) : null;
    // the guide reads the text with its own streaming reader, which then serves here too
    const reader: Pick<AbcStreamReader, 'push' | 'end'> = guide ?? new AbcStreamReader();
    const expander = new RepeatExpander();
    const events: AbcEvent[] = [];
    let text = '';
    let lineStart = 0;
    let tunesSeen = 0;
    let carry: string | null = null;
    const feed = (chunk: string): boolean => {
      for (const ch of chunk) {
        text += ch;
        if (whole && text.endsWith('\n\n')) {
          carry = '';
          return false;
        }
        const got = reader.push(ch);
        for (const e of got) {
          if (e.type === 'tune' && ++tunesSeen > 1) {
            carry = text.slice(lineStart);
            text = text.slice(0, lineStart);
            return false;
          }
          events.push(...expander.push(e));
        }
        streaming?.(got);
        if (ch === '\n') lineStart = text.length;
      }
      return true;
    };
    feed(prefix);
    let step = first;
    let characters = 0;
    let changed = 0;
    while (characters < opts.maxCharsPerTune) {
      let id: number;
      if (guide || copies) {
        const draw = drawGuided(guide, step.logits, opts.sampler, opts.rng, allowed, copies);
        id = draw.id;
        if (draw.changed) changed++;
      } else id = sample(step.logits, opts.sampler, opts.rng);
      characters++;
      step = await session.step(id);
      if (!feed(vocab[id] as string)) break;
    }
    if (carry === null) {
      for (const e of reader.end()) events.push(...expander.push(e));
    }
    const skipped = events.filter((e) => e.type === 'skip').length;
    const report = guide ? { steps: characters, changed, ...guide.stats } : null;
    return {
      draw: { text: text.replace(/\s+$/, ''), carry, events, skipped, characters, guide: report },
      next: step,
    };
  };

  session.reset();
  let step = await session.prime([session.startToken, ...ids]);
  let prefix = start;
  /** A whole-tune model's next tune: the priming text, numbered on, from a fresh state. */
  const freshTune = async (): Promise<StepOutput> => {
    prefix = numbered(start, tunes.length + 1);
    session.reset();
    return session.prime([session.startToken, ...primeIds(prefix, vocab)]);
  };
  const tunes: GeneratedTune[] = [];
  let characters = 0;
  while (tunes.length < opts.tunes) {
    // each draw of a tune starts from here: the model's state and the line's place against the training data
    const at = { state: session.snapshot(), step, copies: copies?.state() };
    let kept: { draw: Draw; next: StepOutput; problems: string[]; attempt: number } | null = null;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        session.restore(at.state);
        copies?.setState(at.copies);
      }
      const { draw, next } = await drawTune(prefix, at.step);
      characters += draw.characters;
      const problems = attempts > 1 ? lintTune(draw.text) : [];
      kept = { draw, next, problems, attempt };
      if (problems.length === 0) break;
    }
    if (!kept) break;
    if (!streaming) opts.onEvents?.(kept.draw.events);
    tunes.push({
      text: kept.draw.text,
      events: kept.draw.events,
      skippedTokens: kept.draw.skipped,
      attempts: kept.attempt,
      problems: kept.problems,
      guide: kept.draw.guide,
    });
    if (kept.draw.carry === null) break; // the budget ran out inside a tune
    if (whole) {
      // the next tune, if one is wanted, from a fresh state
      if (tunes.length < opts.tunes) step = await freshTune();
    } else {
      prefix = kept.draw.carry;
      step = kept.next;
    }
  }
  const text = `${tunes.map((t) => t.text).join('\n\n')}\n`;
  return {
    text,
    tunes,
    characters,
    skippedTokens: tunes.reduce((n, t) => n + t.skippedTokens, 0),
    copies: copyStatsOf(copies),
  };
}
