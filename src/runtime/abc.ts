/**
 * ABC tune generation: the char-LSTM session emits characters, each one goes straight into the
 * streaming ABC reader, and note events come out as notes complete. Generation stops after the
 * requested number of tunes (the text is cut before the next tune's X: line) or a character budget.
 */
import { vectorize } from '../music/abc/corpus.ts';
import { AbcStreamReader, type AbcEvent } from '../music/abc/reader.ts';
import { RepeatExpander } from '../music/abc/repeats.ts';
import type { Rng } from '../music/rng.ts';
import { sample, type SamplerOptions } from './sampler.ts';
import type { LstmSession } from './session.ts';

export class PrimingError extends Error {
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
  /** Called with the events of each character as it is generated (live use). */
  readonly onEvents?: (events: readonly AbcEvent[]) => void;
}

export interface GeneratedTune {
  readonly text: string;
  /** Played events (repeats expanded), times from the tune's start. */
  readonly events: readonly AbcEvent[];
  readonly skippedTokens: number;
}

export interface AbcGeneration {
  readonly text: string;
  readonly tunes: readonly GeneratedTune[];
  readonly characters: number;
  readonly skippedTokens: number;
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

export async function generateAbc(session: LstmSession, opts: AbcGenerateOptions): Promise<AbcGeneration> {
  const vocab = session.vocabulary;
  const ids = primeIds(opts.start, vocab);
  const reader = new AbcStreamReader();
  const perTune: { start: number; events: AbcEvent[]; expander: RepeatExpander; skipped: number }[] = [];
  let text = '';
  let cutAt: number | null = null;
  let lineStart = 0;
  const take = (events: readonly AbcEvent[]): void => {
    opts.onEvents?.(events);
    for (const e of events) {
      if (e.type === 'tune') {
        if (perTune.length === opts.tunes) {
          cutAt = lineStart;
          return;
        }
        perTune.push({ start: lineStart, events: [], expander: new RepeatExpander(), skipped: 0 });
      }
      const tune = perTune[perTune.length - 1];
      if (!tune) continue;
      if (e.type === 'skip') tune.skipped++;
      tune.events.push(...tune.expander.push(e));
    }
  };
  const feed = (chunk: string): void => {
    for (const ch of chunk) {
      text += ch;
      take(reader.push(ch));
      if (cutAt !== null) return;
      if (ch === '\n') lineStart = text.length;
    }
  };
  session.reset();
  let step = await session.prime([session.startToken, ...ids]);
  feed(opts.start);
  const budget = opts.tunes * opts.maxCharsPerTune;
  let generated = 0;
  while (cutAt === null && generated < budget) {
    const id = sample(step.logits, opts.sampler, opts.rng);
    feed(vocab[id] as string);
    generated++;
    if (cutAt === null) step = await session.step(id);
  }
  if (cutAt !== null) {
    text = text.slice(0, cutAt);
  } else {
    take(reader.end());
  }
  const finalText = text.replace(/\s+$/, '\n');
  const tunes = perTune.map((t, i) => ({
    text: finalText.slice(t.start, perTune[i + 1]?.start ?? finalText.length).trim(),
    events: t.events,
    skippedTokens: t.skipped,
  }));
  return { text: finalText, tunes, characters: generated, skippedTokens: reader.stats.skippedTokens };
}
