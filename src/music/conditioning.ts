/**
 * What a conditioned grammar model hears besides the previous token: what a player reading the chart
 * sees at the moment the next note starts. The same code computes it for the trainer (corpus bars) and
 * for the runtime (a solo, an answer, the left hand), so training and play cannot drift apart.
 *
 * Feature by feature (CONDITION_FEATURES names them; the manifest records the list):
 * - the sounding chord as pitch classes relative to its root (12): its quality and extensions,
 *   independent of key, as the grammar's note types are;
 * - the root's motion from the previous, different chord (12, one-hot; none before the first), and
 *   whether the chord changed since the previous token: a ii–V and a I–IV sound different;
 * - the onset's place in the bar and in the beat (sine and cosine of each phase, so the first and last
 *   sixteenth are neighbours), a downbeat and an on-beat flag, the bar's length and its beat count
 *   (6/8 and 3/4 have equal bars and different beats);
 * - where the phrase is: the bar within a four-bar phrase (one-hot) and the half of an eight-bar strain.
 *
 * Root motion needs the chord before the current one, which a `chordAt(t)` lookup cannot tell, so a
 * Conditioner is stateful and must be asked in time order (as the trainer's tokens and a live line are).
 */
import type { ChordAnalysis } from './chord.ts';
import { pitchClass } from './pitch.ts';
import { TWELFTHS_PER_QUARTER, type Twelfths } from './time.ts';

/** Bar and beat length; a pickup bar's notes are placed at the end of their bar (negative times). */
export interface Meter {
  readonly barLength: Twelfths;
  readonly beat: Twelfths;
}

/** The beat of a time signature: a dotted quarter in compound time (6/8, 9/8, 12/8), else 1/denominator. */
export function meterOf(numerator: number, denominator: number): Meter {
  const barLength = Math.round((numerator * 4 * TWELFTHS_PER_QUARTER) / denominator);
  const compound = denominator === 8 && numerator % 3 === 0 && numerator > 3;
  const beat = compound ? (3 * 4 * TWELFTHS_PER_QUARTER) / 8 : (4 * TWELFTHS_PER_QUARTER) / denominator;
  return { barLength, beat: Math.max(1, Math.round(beat)) };
}

const PCS = Array.from({ length: 12 }, (_, i) => i);
export const CONDITION_FEATURES: readonly string[] = [
  ...PCS.map((i) => `chord_pc_${i}`),
  ...PCS.map((i) => `root_motion_${i}`),
  'chord_changed',
  'bar_phase_sin',
  'bar_phase_cos',
  'beat_phase_sin',
  'beat_phase_cos',
  'downbeat',
  'on_beat',
  'bar_quarters_div4',
  'beats_per_bar_div4',
  ...[0, 1, 2, 3].map((i) => `phrase_bar_${i}`),
  'strain_second_half',
];
export const CONDITION_WIDTH = CONDITION_FEATURES.length;

const mod = (a: number, n: number): number => ((a % n) + n) % n;

/** The chord history a Conditioner keeps (for an improviser's snapshot). */
export interface ConditionerState {
  readonly key: string | null;
  readonly root: number | null;
  readonly motion: number | null;
  readonly lastKey: string | null;
}

export class Conditioner {
  private key: string | null = null;
  private root: number | null = null;
  private motion: number | null = null;
  private lastKey: string | null = null;

  state(): ConditionerState {
    return { key: this.key, root: this.root, motion: this.motion, lastKey: this.lastKey };
  }

  setState(s: ConditionerState): void {
    ({ key: this.key, root: this.root, motion: this.motion, lastKey: this.lastKey } = s);
  }

  /** Forgets the chord history (a fresh line). */
  reset(): void {
    this.key = null;
    this.root = null;
    this.motion = null;
    this.lastKey = null;
  }

  /**
   * The features of a token starting at `t` (twelfths from the line's first bar line; bar 0 opens a
   * phrase) over `chord`; written into `out` (CONDITION_WIDTH values) and returned.
   */
  at(
    t: number,
    chord: ChordAnalysis,
    meter: Meter,
    out: Float32Array = new Float32Array(CONDITION_WIDTH),
  ): Float32Array {
    out.fill(0);
    const root = pitchClass(chord.root);
    const key = [...chord.pitchClasses].sort((a, b) => a - b).join(',');
    if (key !== this.key) {
      if (this.root !== null) this.motion = mod(root - this.root, 12);
      this.key = key;
      this.root = root;
    }
    for (const pc of chord.pitchClasses) out[mod(pc - root, 12)] = 1;
    if (this.motion !== null) out[12 + this.motion] = 1;
    let k = 24;
    out[k++] = this.lastKey !== null && this.lastKey !== key ? 1 : 0;
    this.lastKey = key;
    const { barLength, beat } = meter;
    const inBar = mod(t, barLength);
    const inBeat = mod(inBar, beat);
    out[k++] = Math.sin((2 * Math.PI * inBar) / barLength);
    out[k++] = Math.cos((2 * Math.PI * inBar) / barLength);
    out[k++] = Math.sin((2 * Math.PI * inBeat) / beat);
    out[k++] = Math.cos((2 * Math.PI * inBeat) / beat);
    out[k++] = inBar === 0 ? 1 : 0;
    out[k++] = inBeat === 0 ? 1 : 0;
    out[k++] = barLength / TWELFTHS_PER_QUARTER / 4;
    out[k++] = barLength / beat / 4;
    const bar = Math.floor(t / barLength);
    out[k + mod(bar, 4)] = 1;
    out[k + 4] = mod(bar, 8) >= 4 ? 1 : 0;
    return out;
  }
}
