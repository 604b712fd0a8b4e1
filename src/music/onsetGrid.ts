/**
 * The places in the bar where the training tunes start their notes and rests, meter by meter: the
 * grammar model's rhythm guide. A token is drawn only if the element after it starts at such a place,
 * so a line keeps to the grid its corpus plays on (eighths and triplets in a jig, no note starting a
 * twelfth of a beat late), as the ABC model's length mask keeps bars whole.
 *
 * Hand-written: a table of counts, read from the corpus at training time and kept in the bundle.
 */
import type { Twelfths } from './time.ts';
import { mod, type Meter } from './conditioning.ts';

/** One meter's grid: the places (twelfths from the bar's start) where elements start. */
export interface OnsetGrid {
  readonly barLength: Twelfths;
  readonly beat: Twelfths;
  readonly positions: readonly Twelfths[];
}

/** A place holding less than this share of a meter's onsets is left out (a typo, an ornament). */
export const GRID_MIN_SHARE = 0.01;

/**
 * The grid of each meter in `lines` (each a meter and its elements' onsets, from the bar's start):
 * places with at least `minShare` of that meter's onsets; the bar's start always.
 */
export function onsetGrids(
  lines: Iterable<{
    readonly barLength: Twelfths;
    readonly beat: Twelfths;
    readonly onsets: Iterable<Twelfths>;
  }>,
  minShare = GRID_MIN_SHARE,
): OnsetGrid[] {
  const counts = new Map<string, { meter: Meter; at: Map<number, number>; total: number }>();
  for (const l of lines) {
    const key = `${l.barLength}/${l.beat}`;
    let c = counts.get(key);
    if (!c)
      counts.set(key, (c = { meter: { barLength: l.barLength, beat: l.beat }, at: new Map(), total: 0 }));
    for (const t of l.onsets) {
      const p = mod(t, l.barLength);
      c.at.set(p, (c.at.get(p) ?? 0) + 1);
      c.total++;
    }
  }
  return [...counts.values()]
    .map(({ meter, at, total }) => ({
      ...meter,
      positions: [...at.entries()]
        .filter(([p, n]) => p === 0 || n >= minShare * total)
        .map(([p]) => p)
        .sort((a, b) => a - b),
    }))
    .sort((a, b) => a.barLength - b.barLength || a.beat - b.beat);
}

/**
 * Whether an element may start at `t` in `meter`: at a place of that meter's grid; for a meter the
 * corpus never played, at a place within the beat where some meter with that beat starts elements.
 * Null: the bundle has no grid (older bundles), or none for this beat either, so nothing is guided.
 */
export function gridFor(
  grids: readonly OnsetGrid[] | undefined,
  meter: Meter,
): ((t: Twelfths) => boolean) | null {
  if (!grids?.length) return null;
  const same = grids.find((g) => g.barLength === meter.barLength && g.beat === meter.beat);
  if (same) {
    const at = new Set(same.positions);
    return (t) => at.has(mod(t, meter.barLength));
  }
  const inBeat = new Set(
    grids.filter((g) => g.beat === meter.beat).flatMap((g) => g.positions.map((p) => mod(p, g.beat))),
  );
  if (inBeat.size === 0) return null;
  return (t) => inBeat.has(mod(t, meter.beat));
}
