/**
 * Choosing the next token from logits: argmax (the assignment's choice), temperature, top-k and top-p
 * (nucleus), with an optional mask of allowed tokens; every draw takes a seeded RNG.
 */
import type { Rng } from '../music/rng.ts';

export interface SamplerOptions {
  /** 0 means argmax. */
  readonly temperature: number;
  /** Keep only the k most likely tokens (0 = all). */
  readonly topK: number;
  /** Keep the smallest set whose probability reaches p (1 = all). */
  readonly topP: number;
}

export const DEFAULT_SAMPLER: SamplerOptions = { temperature: 1, topK: 0, topP: 1 };

export function validateSampler(o: SamplerOptions): SamplerOptions {
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature))
    throw new RangeError(`temperature must be ≥ 0, got ${o.temperature}`);
  if (!Number.isInteger(o.topK) || o.topK < 0)
    throw new RangeError(`top-k must be a whole number ≥ 0, got ${o.topK}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new RangeError(`top-p must be in (0, 1], got ${o.topP}`);
  return o;
}

/** Samples an index from logits. `allowed(i)` false excludes token i; throws if nothing is allowed. */
export function sample(
  logits: Float32Array,
  opts: SamplerOptions,
  rng: Rng,
  allowed?: (i: number) => boolean,
): number {
  const ids: number[] = [];
  for (let i = 0; i < logits.length; i++) if (!allowed || allowed(i)) ids.push(i);
  if (ids.length === 0) throw new RangeError('sample: every token is masked out');
  ids.sort((a, b) => (logits[b] as number) - (logits[a] as number));
  if (opts.temperature === 0) return ids[0] as number;
  let kept = opts.topK > 0 ? ids.slice(0, opts.topK) : ids;
  const max = logits[kept[0] as number] as number;
  let weights = kept.map((i) => Math.exp(((logits[i] as number) - max) / opts.temperature));
  let total = weights.reduce((a, b) => a + b, 0);
  if (opts.topP < 1) {
    let acc = 0;
    let n = 0;
    while (n < weights.length && acc < opts.topP * total) acc += weights[n++] as number;
    kept = kept.slice(0, Math.max(n, 1));
    weights = weights.slice(0, kept.length);
    total = weights.reduce((a, b) => a + b, 0);
  }
  let r = rng.next() * total;
  for (let j = 0; j < kept.length; j++) {
    r -= weights[j] as number;
    if (r < 0) return kept[j] as number;
  }
  return kept[kept.length - 1] as number;
}
