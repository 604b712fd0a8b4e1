/**
 * Chords for a melody that has none: the key's triads, one per segment (a bar, or half a bar where
 * the meter has two strong beats), chosen as a folk accompanist would — the chord that holds the
 * segment's long and strong notes, the tonic, dominant and subdominant first, a chord kept rather
 * than changed on a close call, the tonic at the end. A Viterbi pass over the tune finds the best
 * sequence under those weights. Hand-written: no library harmonizes a melody in Node.
 *
 * Measured on the Nottingham tunes, whose chord symbols are known (docs/models.md):
 * the share of beats whose inferred chord has the written chord's root and third.
 */
import { modeSteps, type MusicalKey } from './musicalKey.ts';
import type { Twelfths } from './time.ts';
import type { TimeSignature } from './units.ts';
import { lastNote, type Note } from './note.ts';

export interface Segment {
  readonly start: Twelfths;
  readonly end: Twelfths;
}

export interface InferredChord {
  readonly at: Twelfths;
  /** A symbol voiceChord reads ('G', 'Em', 'D'). */
  readonly symbol: string;
  /** Root first, then the third and fifth above it (pitch classes). */
  readonly pitchClasses: readonly number[];
}

const NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];
const mod12 = (n: number): number => ((n % 12) + 12) % 12;

interface Candidate {
  readonly symbol: string;
  readonly pcs: readonly number[];
  readonly prior: number;
}

/** How much more a chord's being the tonic, dominant or subdominant weighs (of a segment's 1). */
const PRIOR: Record<number, number> = { 0: 0.15, 4: 0.1, 3: 0.08 };
/** What a note outside the chord costs, against 1 for one inside (per share of the segment). */
const OUTSIDE = 0.35;
/** Keeping the chord of the segment before. */
const STAY = 0.12;
/** The tonic on the tune's last segment. */
const FINAL_TONIC = 0.4;

/** The key's major and minor triads (a minor mode's dominant also as major: the raised leading tone). */
function candidates(key: MusicalKey): Candidate[] {
  const steps = modeSteps(key.mode);
  const out: Candidate[] = [];
  for (let d = 0; d < 7; d++) {
    const root = mod12(key.tonic + (steps[d] as number));
    const third = mod12((steps[(d + 2) % 7] as number) - (steps[d] as number));
    const fifth = mod12((steps[(d + 4) % 7] as number) - (steps[d] as number));
    if (fifth !== 7) continue; // no diminished or augmented triads: rare in these tunes
    const add = (t: number, prior: number): void => {
      out.push({
        symbol: `${NAMES[root] as string}${t === 3 ? 'm' : ''}`,
        pcs: [root, mod12(root + t), mod12(root + 7)],
        prior,
      });
    };
    add(third, PRIOR[d] ?? 0);
    if (d === 4 && third === 3) add(4, PRIOR[4] ?? 0);
  }
  return out;
}

/**
 * The chords of a melody, one per segment (in time order), in `key`. Segments with no note take the
 * chord before them (at a segment's start).
 */
export function harmonize(
  notes: readonly Note[],
  segments: readonly Segment[],
  key: MusicalKey,
): InferredChord[] {
  if (segments.length === 0) return [];
  // a key signature names a major key and its relative minor alike (K:Bb for a tune in G minor):
  // a tune that ends on the relative's tonic is taken in the relative
  const relative = relativeOf(key);
  const last = lastNote(notes);
  const home =
    relative && last && mod12(last.midi) === relative.tonic && relative.tonic !== key.tonic ? relative : key;
  return bestPath(notes, segments, home).chords;
}

/** The relative minor of a major key, the relative major of a minor one; null for other modes. */
function relativeOf(key: MusicalKey): MusicalKey | null {
  if (key.mode === 'ionian') return { tonic: mod12(key.tonic + 9), mode: 'aeolian' };
  if (key.mode === 'aeolian') return { tonic: mod12(key.tonic + 3), mode: 'ionian' };
  return null;
}

function bestPath(
  notes: readonly Note[],
  segments: readonly Segment[],
  key: MusicalKey,
): { chords: InferredChord[]; score: number } {
  const cands = candidates(key);
  // fit[s][c]: how well candidate c holds segment s's notes
  const fit = segments.map((seg) => {
    const len = Math.max(1, seg.end - seg.start);
    const weights = new Array<number>(12).fill(0);
    for (const n of notes) {
      const overlap = Math.min(n.start + n.dur, seg.end) - Math.max(n.start, seg.start);
      if (overlap <= 0) continue;
      // the note on the segment's first beat counts half again
      const w = (overlap / len) * (n.start <= seg.start && n.start + n.dur > seg.start ? 1.5 : 1);
      const pc = mod12(n.midi);
      weights[pc] = (weights[pc] as number) + w;
    }
    return cands.map((c) => {
      let s = c.prior;
      weights.forEach((w, pc) => {
        if (w) s += c.pcs.includes(pc) ? w : -OUTSIDE * w;
      });
      return s;
    });
  });
  const last = segments.length - 1;
  const tonic = cands.findIndex((c) => c.pcs[0] === key.tonic);
  const score: number[][] = [];
  const back: number[][] = [];
  fit.forEach((row, s) => {
    const bonus = (c: number): number => (s === last && c === tonic ? FINAL_TONIC : 0);
    if (s === 0) {
      score.push(row.map((f, c) => f + bonus(c)));
      back.push(row.map(() => -1));
      return;
    }
    const before = score[s - 1] as number[];
    const sRow: number[] = [];
    const bRow: number[] = [];
    row.forEach((f, c) => {
      let best = -Infinity;
      let from = 0;
      before.forEach((p, q) => {
        const v = p + (q === c ? STAY : 0);
        if (v > best) {
          best = v;
          from = q;
        }
      });
      sRow.push(best + f + bonus(c));
      bRow.push(from);
    });
    score.push(sRow);
    back.push(bRow);
  });
  const path: number[] = new Array<number>(segments.length);
  const final = score[last] as number[];
  path[last] = final.indexOf(Math.max(...final));
  for (let s = last; s > 0; s--) path[s - 1] = (back[s] as number[])[path[s] as number] as number;
  const chords = segments.map((seg, s) => {
    const c = cands[path[s] as number] as Candidate;
    return { at: seg.start, symbol: c.symbol, pitchClasses: c.pcs };
  });
  return { chords, score: Math.max(...final) };
}

/**
 * Where a meter's chords change: a bar in triple and compound meters (3/4, 6/8, 9/8), half a bar
 * where it has two strong beats (4/4, 2/2, 2/4 with eighths), for bars from `start` to `end`.
 */
export function chordSegments(bars: readonly Segment[], meter: TimeSignature): Segment[] {
  const halves = meter.numerator % 2 === 0 && !(meter.denominator === 8 && meter.numerator % 3 === 0);
  return bars.flatMap((b) => {
    if (!halves || b.end - b.start < 12) return [b];
    const mid = b.start + Math.round((b.end - b.start) / 2);
    return [
      { start: b.start, end: mid },
      { start: mid, end: b.end },
    ];
  });
}
