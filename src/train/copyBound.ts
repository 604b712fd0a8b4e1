/**
 * The default copy bound of a bundle, chosen by measurement (a bound that removes replay, not idiom).
 * Tunes of one tradition share phrases: a held-out human tune copies some run of the training tunes
 * too. With whole tunes held out, the default is the 90th percentile of the held-out tunes' longest
 * copies, token by token, and for rhythm the larger of the two rhythm projections' (lengths, onsets):
 * nine new human tunes in ten stay within it.
 * Held out as a tail of the training material itself (a one-solo corpus), the held-out part is the same
 * player's same solo and copies it nearly whole, so it says nothing of idiom: the default is then
 * TAIL_DEFAULT, two bars of eighths.
 */
import type { BundleManifest } from '../music/bundle.ts';
import { SuffixAutomaton } from '../music/copies.ts';
import { onsetIntervals, rhythmClasses, type RhythmProjection } from '../music/copyIndex.ts';

export const TAIL_DEFAULT = 16;

type Quantiles = { median: number; p90: number; max: number };

function quantiles(values: readonly number[]): Quantiles | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const at = (p: number): number => v[Math.min(v.length - 1, Math.floor(p * v.length))] as number;
  return { median: at(0.5), p90: at(0.9), max: v[v.length - 1] as number };
}

export function chooseCopyBound(
  train: readonly (readonly number[])[],
  heldOut: readonly (readonly number[])[],
  rhythm: RhythmProjection | null,
  validation: 'tunes' | 'tail',
): NonNullable<BundleManifest['copyBound']> {
  const held = heldOut.filter((s) => s.length > 0);
  const longest = (project: (s: readonly number[]) => ArrayLike<number>): Quantiles | null => {
    const automaton = new SuffixAutomaton(train.map(project));
    return quantiles(held.map((s) => automaton.longest(project(s))));
  };
  const tokens = longest((s) => s);
  const rhythms = rhythm ? longest((s) => rhythmClasses(s, rhythm)) : null;
  const onsets = rhythm ? longest((s) => onsetIntervals(s, rhythm)) : null;
  const measured = validation === 'tunes' && tokens !== null;
  const pick = (...q: (Quantiles | null)[]): number =>
    measured ? Math.max(1, ...q.map((x) => x?.p90 ?? 0)) : TAIL_DEFAULT;
  return {
    tokens: pick(tokens),
    rhythm: rhythm ? pick(rhythms, onsets) : null,
    rule: measured
      ? '90th percentile of the held-out tunes’ longest copies of the training tunes'
      : `${TAIL_DEFAULT}: held out as a tail, the held-out part copies its own training part and measures no idiom`,
    heldOut: { sequences: heldOut.length, tokens, rhythm: rhythms, onsets },
  };
}
