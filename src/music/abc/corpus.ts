/**
 * The ABC corpus of the char-LSTM (MIT 6.S191 lab 1): tunes split at their `X:` headers, a sorted
 * character vocabulary stored in the bundle, vectorisation, random training batches, and a held-out
 * share of whole tunes for validation.
 */
import type { Rng } from '../rng.ts';

/** Splits ABC text into tunes, each from its `X:` line up to the next one; text before the first is dropped. */
export function splitTunes(text: string): string[] {
  const normalized = text.replace(/\r\n?/g, '\n');
  const starts: number[] = [];
  const re = /^X:/gm;
  for (let m = re.exec(normalized); m; m = re.exec(normalized)) starts.push(m.index);
  return starts.map((s, i) => normalized.slice(s, starts[i + 1] ?? normalized.length).trim());
}

/** The sorted set of characters (code-point order). */
export function charVocabulary(texts: readonly string[]): string[] {
  const set = new Set<string>();
  for (const t of texts) for (const ch of t) set.add(ch);
  return [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface Vectorized {
  readonly ids: number[];
  /** Characters outside the vocabulary, skipped. */
  readonly unknown: number;
}

/** Characters → ids; characters outside the vocabulary are counted and skipped. */
export function vectorize(text: string, vocab: readonly string[]): Vectorized {
  const index = new Map(vocab.map((c, i) => [c, i]));
  const ids: number[] = [];
  let unknown = 0;
  for (const ch of text) {
    const id = index.get(ch);
    if (id === undefined) unknown++;
    else ids.push(id);
  }
  return { ids, unknown };
}

/** Ids → text. */
export function devectorize(ids: readonly number[], vocab: readonly string[]): string {
  return ids.map((i) => vocab[i] ?? '').join('');
}

/**
 * The lab's batch function: `batchSize` random windows; input = ids[i … i+L−1], target = ids[i+1 … i+L].
 */
export function getBatch(
  ids: readonly number[],
  seqLength: number,
  batchSize: number,
  rng: Rng,
): { inputs: number[][]; targets: number[][] } {
  if (ids.length <= seqLength)
    throw new RangeError(`getBatch: ${ids.length} ids are too few for windows of ${seqLength}`);
  const inputs: number[][] = [];
  const targets: number[][] = [];
  for (let b = 0; b < batchSize; b++) {
    const i = rng.int(ids.length - seqLength);
    inputs.push(ids.slice(i, i + seqLength));
    targets.push(ids.slice(i + 1, i + seqLength + 1));
  }
  return { inputs, targets };
}

/** Holds out `share` of the tunes (at least one when there are two or more), chosen by the seeded RNG. */
export function splitValidation(
  tunes: readonly string[],
  share: number,
  rng: Rng,
): { train: string[]; validation: string[] } {
  const n = tunes.length >= 2 ? Math.max(1, Math.round(tunes.length * share)) : 0;
  const order = tunes.map((_, i) => i);
  rng.shuffle(order);
  const held = new Set(order.slice(0, n));
  return { train: tunes.filter((_, i) => !held.has(i)), validation: tunes.filter((_, i) => held.has(i)) };
}

/** Tunes joined the way the lab does it: separated by a blank line. */
export const joinTunes = (tunes: readonly string[]): string => tunes.map((t) => `${t}\n\n`).join('');
