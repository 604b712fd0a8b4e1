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
  return pick(logits, opts, rng.next(), allowed);
}

export interface MaskedDraw {
  readonly id: number;
  /** The model's own draw (the same random number, no mask) was a character the mask forbade. */
  readonly changed: boolean;
}

/**
 * Samples under a mask (`allowed[i]` 0 excludes token i; temperature, top-k and top-p apply after
 * the mask), and says whether the mask changed the model's own choice: the unmasked draw with the same
 * random number fell on a masked token.
 */
export function sampleMasked(
  logits: Float32Array,
  opts: SamplerOptions,
  rng: Rng,
  allowed: Uint8Array,
): MaskedDraw {
  const u = rng.next();
  const id = pick(logits, opts, u, (i) => allowed[i] === 1);
  const own = pick(logits, opts, u);
  return { id, changed: allowed[own] !== 1 };
}

/**
 * Scratch for pick: the candidates in order and their weights, grown to the largest vocabulary seen.
 * A live char step draws hundreds of times a second; arrays built per draw (and a sort's) were most of
 * the step's garbage, and the collections of it most of its worst case.
 */
let order = new Int32Array(0);
let weights = new Float64Array(0);

/** The draw for the uniform number `u` in [0, 1). */
function pick(
  logits: Float32Array,
  opts: SamplerOptions,
  u: number,
  allowed?: (i: number) => boolean,
): number {
  if (order.length < logits.length) {
    order = new Int32Array(logits.length);
    weights = new Float64Array(logits.length);
  }
  // the allowed ids by logit, highest first, ties in id order (an insertion sort: stable, in place)
  let n = 0;
  for (let i = 0; i < logits.length; i++) {
    if (allowed && !allowed(i)) continue;
    const v = logits[i] as number;
    let j = n++;
    while (j > 0 && (logits[order[j - 1] as number] as number) < v) {
      order[j] = order[j - 1] as number;
      j--;
    }
    order[j] = i;
  }
  if (n === 0) throw new RangeError('sample: every token is masked out');
  if (opts.temperature === 0) return order[0] as number;
  let kept = opts.topK > 0 ? Math.min(opts.topK, n) : n;
  const max = logits[order[0] as number] as number;
  let total = 0;
  for (let j = 0; j < kept; j++) {
    const w = Math.exp(((logits[order[j] as number] as number) - max) / opts.temperature);
    weights[j] = w;
    total += w;
  }
  if (opts.topP < 1) {
    let acc = 0;
    let m = 0;
    while (m < kept && acc < opts.topP * total) acc += weights[m++] as number;
    kept = Math.max(m, 1);
    total = 0;
    for (let j = 0; j < kept; j++) total += weights[j] as number;
  }
  let r = u * total;
  for (let j = 0; j < kept; j++) {
    r -= weights[j] as number;
    if (r < 0) return order[j] as number;
  }
  return order[kept - 1] as number;
}
