/**
 * Does an answer listen to its call? Judged as a player would: the call is a held-out tune's first
 * two bars, played over its own chords; the answer is what the model plays over the next two bars.
 * - motif share: the share of the answer's three-interval pitch patterns (four notes' steps, in
 *   semitones, so a motif moved to another pitch still counts) that the call holds;
 * - pitch classes: how close the answer's pitch-class histogram is to the call's (1 − half the L1
 *   distance of the two distributions: 1 the same, 0 disjoint).
 * Each against the other calls, as a permutation test: the answers are paired with calls at random
 * and the p-value is the share of pairings whose mean is at least the true pairing's (with one added
 * to both counts, so it is never 0). The tune's own second phrase against its first, by the same
 * code, is the corpus's figure.
 */
import type { Midi } from '../music/pitch.ts';
import type { Rng } from '../music/rng.ts';

export const MOTIF_INTERVALS = 3;

/** The three-interval patterns of a line of pitches. */
export function intervalPatterns(pitches: readonly Midi[], n = MOTIF_INTERVALS): string[] {
  const out: string[] = [];
  for (let i = 0; i + n < pitches.length; i++) {
    const steps: number[] = [];
    for (let k = 0; k < n; k++) steps.push((pitches[i + k + 1] as number) - (pitches[i + k] as number));
    out.push(steps.join(','));
  }
  return out;
}

/** Share of the answer's patterns (counted with repeats) that the call holds; 0 when it has none. */
export function motifShare(answer: readonly Midi[], call: readonly Midi[]): number {
  const mine = intervalPatterns(answer);
  if (mine.length === 0) return 0;
  const theirs = new Set(intervalPatterns(call));
  return mine.filter((p) => theirs.has(p)).length / mine.length;
}

/** 1 − half the L1 distance between the two lines' pitch-class distributions (counted by notes). */
export function pitchClassCloseness(a: readonly Midi[], b: readonly Midi[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  const ha = new Array<number>(12).fill(0);
  const hb = new Array<number>(12).fill(0);
  const add = (h: number[], p: Midi, w: number): void => {
    const pc = ((p % 12) + 12) % 12;
    h[pc] = (h[pc] as number) + w;
  };
  for (const p of a) add(ha, p, 1 / a.length);
  for (const p of b) add(hb, p, 1 / b.length);
  let l1 = 0;
  for (let i = 0; i < 12; i++) l1 += Math.abs((ha[i] as number) - (hb[i] as number));
  return 1 - l1 / 2;
}

export interface PairedFigure {
  /** Mean over answers of the figure against their own call. */
  readonly own: number;
  /** Mean over answers of the figure against every other call. */
  readonly others: number;
  /** Permutation test of own > others (one-sided). */
  readonly p: number;
}

/** A figure of each answer against its own call and against the others, with its permutation p. */
export function pairedTest(
  calls: readonly (readonly Midi[])[],
  answers: readonly (readonly Midi[])[],
  figure: (answer: readonly Midi[], call: readonly Midi[]) => number,
  rng: Rng,
  permutations = 2000,
): PairedFigure {
  const n = Math.min(calls.length, answers.length);
  if (n < 2) return { own: n ? figure(answers[0] as Midi[], calls[0] as Midi[]) : 0, others: 0, p: 1 };
  const table = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => figure(answers[i] as Midi[], calls[j] as Midi[])),
  );
  const cell = (i: number, j: number): number => (table[i] as number[])[j] as number;
  let own = 0;
  let others = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i === j) own += cell(i, j);
      else others += cell(i, j);
    }
  own /= n;
  others /= n * (n - 1);
  const order = Array.from({ length: n }, (_, i) => i);
  let atLeast = 0;
  for (let k = 0; k < permutations; k++) {
    rng.shuffle(order);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += cell(i, order[i] as number);
    if (mean / n >= own - 1e-12) atLeast++;
  }
  return { own, others, p: (atLeast + 1) / (permutations + 1) };
}

export interface CallResponse {
  readonly pairs: number;
  readonly motifs: PairedFigure;
  readonly pitchClasses: PairedFigure;
}

/** Both figures for a set of calls and the answers to them (index i answers call i). */
export function callResponse(
  calls: readonly (readonly Midi[])[],
  answers: readonly (readonly Midi[])[],
  rng: Rng,
): CallResponse {
  return {
    pairs: Math.min(calls.length, answers.length),
    motifs: pairedTest(calls, answers, motifShare, rng),
    pitchClasses: pairedTest(calls, answers, pitchClassCloseness, rng),
  };
}
