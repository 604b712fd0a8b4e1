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
 * - where the phrase is: the bar within a four-bar phrase (one-hot) and the half of an eight-bar strain;
 * - the key (KEY_FEATURES): its tonic and its scale's pitch classes, relative to the chord's root, so
 *   the model can tell the scale tone that belongs to the tune from the one that does not;
 * - lookback (LOOKBACK_FEATURES, as Magenta's Lookback RNN): what the line played one bar, two bars
 *   and one four-bar phrase ago at this very place in the bar (whether a note or a rest started there,
 *   its interval from the note before it, its length), and whether the line's last element repeats the
 *   one a bar, two bars, a phrase before it. Live, the player's call is the line's past, so an answer
 *   hears the call through these inputs: echoing it is what the model learnt from tunes, not a rule.
 *
 * A bundle lists the features it was trained on (manifest `conditioning.features`); a Conditioner
 * computes exactly those, in that order, so bundles trained before a group existed keep their inputs.
 *
 * Root motion needs the chord before the current one, and lookback the line's past, which a
 * `chordAt(t)` lookup cannot tell, so a Conditioner is stateful and must be asked in time order (as the
 * trainer's tokens and a live line are), and told what the line played (`hear`).
 */
import type { ChordAnalysis, NoteType } from './chord.ts';
import { modeSteps, type MusicalKey } from './musicalKey.ts';
import { pitchClass, type Midi } from './pitch.ts';
import { barTwelfths, TWELFTHS_PER_QUARTER, type Twelfths } from './time.ts';
import type { TimeSignature } from './units.ts';

/** Bar and beat length; a pickup bar's notes are placed at the end of their bar (negative times). */
export interface Meter {
  readonly barLength: Twelfths;
  readonly beat: Twelfths;
}

/** The beat of a time signature: a dotted quarter in compound time (6/8, 9/8, 12/8), else 1/denominator. */
export function meterOf(numerator: number, denominator: number): Meter {
  const barLength = barTwelfths(numerator, denominator);
  const compound = denominator === 8 && numerator % 3 === 0 && numerator > 3;
  const beat = compound ? (3 * 4 * TWELFTHS_PER_QUARTER) / 8 : (4 * TWELFTHS_PER_QUARTER) / denominator;
  return { barLength, beat: Math.max(1, Math.round(beat)) };
}

/**
 * A bundle's time signature from its bar and beat (twelfths): a dotted-quarter beat is compound
 * (6/8, 9/8), else the beat is the denominator (a quarter: /4, an eighth: /8, a half: /2).
 * @example bundleMeter(36, 12) // => { numerator: 3, denominator: 4 }
 */
export function bundleMeter(barLength: number, beat: number | undefined): TimeSignature {
  const Q = TWELFTHS_PER_QUARTER;
  if (beat === (3 * Q) / 2 && barLength % (Q / 2) === 0)
    return { numerator: barLength / (Q / 2), denominator: 8 };
  const b = beat && [Q / 2, Q, 2 * Q].includes(beat) && barLength % beat === 0 ? beat : Q;
  const numerator = Math.max(1, Math.round(barLength / b));
  return { numerator, denominator: (4 * Q) / b };
}

/** A meter's name from its bar and beat (bundleMeter's signature, as `--meter` writes it). */
export function meterName(barLength: Twelfths, beat: Twelfths): string {
  const { numerator, denominator } = bundleMeter(barLength, beat);
  return `${numerator}/${denominator}`;
}

const PCS = Array.from({ length: 12 }, (_, i) => i);

/** Chord, its motion, and the place in bar and phrase: what every conditioned bundle hears. */
export const PLACE_FEATURES: readonly string[] = [
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

/** The key's tonic (one-hot) and its scale (flags), as pitch classes above the chord's root. */
export const KEY_FEATURES: readonly string[] = [
  ...PCS.map((i) => `key_tonic_${i}`),
  ...PCS.map((i) => `key_scale_${i}`),
];

/** How far back the line looks, in bars: a bar, two bars (a call of two bars), a four-bar phrase. */
export const LOOKBACK_BARS = { bar1: 1, bar2: 2, phrase: 4 } as const;
const LAGS = Object.entries(LOOKBACK_BARS) as [string, number][];
const LOOKBACK_PARTS = ['onset', 'rest', 'interval', 'length', 'repeating'] as const;
export const LOOKBACK_FEATURES: readonly string[] = LAGS.flatMap(([name]) =>
  LOOKBACK_PARTS.map((part) => `lookback_${name}_${part}`),
);

/**
 * A lookback model's own outputs (Magenta's Lookback RNN has them too): "play what the line played
 * here a phrase / two bars / a bar ago" — the same length, the same interval from the note before
 * (or the same rest). In training, an element that restates one of them is written as the marker
 * (the longest lag first), so restating is one choice the model can learn, not three exact tokens.
 */
export const REPEAT_TOKENS = { phrase: '@phrase', bar2: '@bar2', bar1: '@bar1' } as const;
export type RepeatLag = keyof typeof REPEAT_TOKENS;
const REPEAT_LAGS = Object.keys(REPEAT_TOKENS) as RepeatLag[];
const LAG_OF = new Map(REPEAT_LAGS.map((lag) => [REPEAT_TOKENS[lag] as string, lag]));

/** The lag a vocabulary entry restates, or null for a grammar token. */
export const repeatLagOf = (token: string): RepeatLag | null => LAG_OF.get(token) ?? null;

/** What a repeat marker plays at a place: the element's length and its interval (null: a rest). */
export interface Restatement {
  readonly dur: Twelfths;
  readonly interval: number | null;
  /** What the restated note was against its chord then (absent: not told, or a rest). */
  readonly type?: NoteType;
}

/** The groups a model can be trained to hear (`train jazz --features`). */
export const FEATURE_GROUPS = {
  place: PLACE_FEATURES,
  key: KEY_FEATURES,
  lookback: LOOKBACK_FEATURES,
} as const;
export type FeatureGroup = keyof typeof FEATURE_GROUPS;

/** Every feature this runtime computes, in its own order: what a new bundle hears by default. */
export const CONDITION_FEATURES: readonly string[] = [
  ...PLACE_FEATURES,
  ...KEY_FEATURES,
  ...LOOKBACK_FEATURES,
];
export const CONDITION_WIDTH = CONDITION_FEATURES.length;
const INDEX = new Map(CONDITION_FEATURES.map((f, i) => [f, i]));

/** The features of some groups, in the runtime's order; the place group always comes first. */
export function featuresOf(groups: readonly FeatureGroup[]): string[] {
  const want = new Set<FeatureGroup>(['place', ...groups]);
  return (Object.keys(FEATURE_GROUPS) as FeatureGroup[])
    .filter((g) => want.has(g))
    .flatMap((g) => FEATURE_GROUPS[g]);
}

/** The names in `features` this runtime does not compute (empty: it can condition such a model). */
export const unknownFeatures = (features: readonly string[]): string[] =>
  features.filter((f) => !INDEX.has(f));

/** `a` modulo `n`, never negative (a pickup's times are). */
export const mod = (a: number, n: number): number => ((a % n) + n) % n;

/** One element of the line's past, on the lookback timeline. */
interface Heard {
  readonly t: number;
  readonly dur: Twelfths;
  /** Semitones from the note before (null: a rest, or the line's first note). */
  readonly interval: number | null;
  readonly rest: boolean;
  /** What the note was against the chord it sounded over (absent: not told, or a rest). */
  readonly type?: NoteType;
}

/** The chord and line history a Conditioner keeps (for an improviser's snapshot). */
export interface ConditionerState {
  readonly key: string | null;
  readonly root: number | null;
  readonly motion: number | null;
  readonly lastKey: string | null;
  readonly tonality?: MusicalKey | null;
  readonly heard?: readonly Heard[];
  readonly lastPitch?: Midi | null;
}

export class Conditioner {
  private key: string | null = null;
  private root: number | null = null;
  private motion: number | null = null;
  private lastKey: string | null = null;
  private tonality: MusicalKey | null = null;
  private heard: Heard[] = [];
  private lastPitch: Midi | null = null;
  private readonly pick: readonly number[];
  private readonly full = new Float32Array(CONDITION_WIDTH);
  /** The number of values `at` writes: one per feature. */
  readonly width: number;

  /** `features`: the bundle's list (default: every feature); throws RangeError naming one it does not know. */
  constructor(readonly features: readonly string[] = CONDITION_FEATURES) {
    const unknown = unknownFeatures(features);
    if (unknown.length) throw new RangeError(`unknown conditioning feature '${unknown[0] as string}'`);
    this.pick = features.map((f) => INDEX.get(f) as number);
    this.width = features.length;
  }

  state(): ConditionerState {
    return {
      key: this.key,
      root: this.root,
      motion: this.motion,
      lastKey: this.lastKey,
      tonality: this.tonality,
      heard: [...this.heard],
      lastPitch: this.lastPitch,
    };
  }

  setState(s: ConditionerState): void {
    ({ key: this.key, root: this.root, motion: this.motion, lastKey: this.lastKey } = s);
    this.tonality = s.tonality ?? null;
    this.heard = [...(s.heard ?? [])];
    this.lastPitch = s.lastPitch ?? null;
  }

  /** Forgets the chord history and the line's past (a fresh line); the key stays. */
  reset(): void {
    this.key = null;
    this.root = null;
    this.motion = null;
    this.lastKey = null;
    this.heard = [];
    this.lastPitch = null;
  }

  /** The key the line is in (null: unknown, the key features stay zero). */
  setKey(key: MusicalKey | null): void {
    this.tonality = key;
  }

  get musicalKey(): MusicalKey | null {
    return this.tonality;
  }

  /**
   * What the line played: an element (a note, or a rest when `midi` is null) starting at `t` on the
   * lookback timeline, in time order, and (`type`) what the note was against its chord. Only the
   * last phrase and a bar are kept.
   */
  hear(t: number, dur: Twelfths, midi: Midi | null, meter: Meter, type?: NoteType): void {
    const interval = midi !== null && this.lastPitch !== null ? midi - this.lastPitch : null;
    this.heard.push({ t, dur, interval, rest: midi === null, ...(type && midi !== null ? { type } : {}) });
    if (midi !== null) this.lastPitch = midi;
    const keep = t - (LOOKBACK_BARS.phrase + 1) * meter.barLength;
    let drop = 0;
    while (drop < this.heard.length && (this.heard[drop] as Heard).t < keep) drop++;
    if (drop) this.heard.splice(0, drop);
  }

  /**
   * The features of a token starting at `t` (twelfths from the line's first bar line; bar 0 opens a
   * phrase) over `chord`; written into `out` (one value per feature) and returned. `at` is the token's
   * place on the lookback timeline (default `t`; the trainer's tunes count bars from each part's start
   * for the phrase, but their past runs on).
   */
  at(
    t: number,
    chord: ChordAnalysis,
    meter: Meter,
    out: Float32Array = new Float32Array(this.width),
    at: number = t,
  ): Float32Array {
    const v = this.full;
    v.fill(0);
    const root = pitchClass(chord.root);
    const key = [...chord.pitchClasses].sort((a, b) => a - b).join(',');
    if (key !== this.key) {
      if (this.root !== null) this.motion = mod(root - this.root, 12);
      this.key = key;
      this.root = root;
    }
    for (const pc of chord.pitchClasses) v[mod(pc - root, 12)] = 1;
    if (this.motion !== null) v[12 + this.motion] = 1;
    let k = 24;
    v[k++] = this.lastKey !== null && this.lastKey !== key ? 1 : 0;
    this.lastKey = key;
    const { barLength, beat } = meter;
    const inBar = mod(t, barLength);
    const inBeat = mod(inBar, beat);
    v[k++] = Math.sin((2 * Math.PI * inBar) / barLength);
    v[k++] = Math.cos((2 * Math.PI * inBar) / barLength);
    v[k++] = Math.sin((2 * Math.PI * inBeat) / beat);
    v[k++] = Math.cos((2 * Math.PI * inBeat) / beat);
    v[k++] = inBar === 0 ? 1 : 0;
    v[k++] = inBeat === 0 ? 1 : 0;
    v[k++] = barLength / TWELFTHS_PER_QUARTER / 4;
    v[k++] = barLength / beat / 4;
    const bar = Math.floor(t / barLength);
    v[k + mod(bar, 4)] = 1;
    v[k + 4] = mod(bar, 8) >= 4 ? 1 : 0;
    k += 5;
    if (this.tonality) {
      v[k + mod(this.tonality.tonic - root, 12)] = 1;
      for (const step of modeSteps(this.tonality.mode))
        v[k + 12 + mod(this.tonality.tonic + step - root, 12)] = 1;
    }
    k += 24;
    const last = this.heard[this.heard.length - 1];
    for (const [, bars] of LAGS) {
      const lag = bars * barLength;
      const then = this.startingAt(at - lag);
      if (then) {
        v[k] = 1;
        v[k + 1] = then.rest ? 1 : 0;
        v[k + 2] = then.interval === null ? 0 : Math.max(-1, Math.min(1, then.interval / 12));
        v[k + 3] = Math.min(1, then.dur / TWELFTHS_PER_QUARTER / 4);
      }
      const echoed = last && this.startingAt(last.t - lag);
      v[k + 4] = echoed && sameElement(echoed, last) ? 1 : 0;
      k += LOOKBACK_PARTS.length;
    }
    for (let i = 0; i < this.pick.length; i++) out[i] = v[this.pick[i] as number] as number;
    return out;
  }

  /**
   * The intervals the line's notes played at `at` a phrase, two bars and a bar before (in that order,
   * each once): what a restatement would play now (decode.ts takes one where the token allows it).
   */
  echoes(at: number, meter: Meter): number[] {
    const out: number[] = [];
    for (const bars of [LOOKBACK_BARS.phrase, LOOKBACK_BARS.bar2, LOOKBACK_BARS.bar1]) {
      const then = this.startingAt(at - bars * meter.barLength);
      if (then && then.interval !== null && !out.includes(then.interval)) out.push(then.interval);
    }
    return out;
  }

  /**
   * What the marker of `lag` would play at `at`: the element that started a lag before, if it was a
   * rest or a note with an interval (a line's first note has none); else null (the marker cannot be
   * drawn there).
   */
  restatement(at: number, lag: RepeatLag, meter: Meter): Restatement | null {
    const then = this.startingAt(at - LOOKBACK_BARS[lag] * meter.barLength);
    if (!then || (!then.rest && then.interval === null)) return null;
    if (then.rest) return { dur: then.dur, interval: null };
    return { dur: then.dur, interval: then.interval, ...(then.type ? { type: then.type } : {}) };
  }

  /**
   * The marker for an element about to be heard at `at` (before `hear`), if it restates what was
   * played a phrase, two bars or a bar before (the longest lag first); null if none.
   */
  repeatOf(at: number, dur: Twelfths, midi: Midi | null, meter: Meter): string | null {
    return this.restatedBy(at, dur, midi, meter)[0] ?? null;
  }

  /** Every marker that would play this element (the longest lag first). */
  restatedBy(at: number, dur: Twelfths, midi: Midi | null, meter: Meter): string[] {
    const interval = midi !== null && this.lastPitch !== null ? midi - this.lastPitch : null;
    if (midi !== null && interval === null) return [];
    return REPEAT_LAGS.filter((lag) => {
      const r = this.restatement(at, lag, meter);
      return r !== null && r.dur === dur && r.interval === interval;
    }).map((lag) => REPEAT_TOKENS[lag]);
  }

  /** The element of the line's past that started exactly at `t`, if any. */
  private startingAt(t: number): Heard | undefined {
    for (let i = this.heard.length - 1; i >= 0; i--) {
      const h = this.heard[i] as Heard;
      if (h.t === t) return h;
      if (h.t < t) return undefined;
    }
    return undefined;
  }
}

const sameElement = (a: Heard, b: Heard): boolean =>
  a.rest === b.rest && a.dur === b.dur && (a.rest || a.interval === b.interval);
