/**
 * The key a line is in: a tonic pitch class and a mode, as a folk player hears `K:G`, `K:Ador`, `K:Em`.
 * The grammar's note types are chord-relative (C, S, A, X); the key is what says that G♯ over Em in a
 * G tune is wrong. Read from a K: value or a name (`--key`), or inferred from what sounds (chords and
 * notes, weighted by length) with the Krumhansl–Kessler key profiles. Pure helpers: bad input gives
 * null, never a throw (the boundaries name the field).
 */
import { Mode } from 'tonal';
import { modeOf } from './abc/key.ts';

export interface MusicalKey {
  /** Pitch class of the tonic, 0 = C. */
  readonly tonic: number;
  /** tonal's mode name: ionian, dorian, phrygian, lydian, mixolydian, aeolian, locrian. */
  readonly mode: string;
}

const LETTER_PC: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
const NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];
const SEMITONES: Record<string, number> = { '1P': 0, '2m': 1, '2M': 2, '3m': 3, '3M': 4, '4P': 5, '4A': 6 };
const SEMITONES_HIGH: Record<string, number> = { '5d': 6, '5P': 7, '6m': 8, '6M': 9, '7m': 10, '7M': 11 };

const mod12 = (n: number): number => ((n % 12) + 12) % 12;

/**
 * A key from its name or a K: value: 'G', 'Em', 'A dorian', 'Dmix', 'F# minor', 'Bb'.
 * @example parseKeyName('Ador') // => { tonic: 9, mode: 'dorian' }
 */
export function parseKeyName(value: string): MusicalKey | null {
  const m = /^\s*([A-Ga-g])([#b♯♭]?)\s*([A-Za-z]*)\s*$/.exec(value.split(/\s+(?=[=^_])/)[0] ?? '');
  if (!m) return null;
  const mode = modeOf(m[3] ?? '');
  if (mode === undefined) return null;
  const letter = (m[1] as string).toUpperCase();
  const alter = m[2] === '#' || m[2] === '♯' ? 1 : m[2] === 'b' || m[2] === '♭' ? -1 : 0;
  return { tonic: mod12((LETTER_PC[letter] as number) + alter), mode };
}

/** The key's name as a player writes it: 'G', 'Em', 'A dorian'. */
export function keyName(key: MusicalKey): string {
  const tonic = NAMES[key.tonic] as string;
  if (key.mode === 'ionian') return tonic;
  if (key.mode === 'aeolian') return `${tonic}m`;
  return `${tonic} ${key.mode}`;
}

const scales = new Map<string, readonly number[]>();

/** The mode's seven steps above the tonic, in semitones. */
export function modeSteps(mode: string): readonly number[] {
  let s = scales.get(mode);
  if (!s) {
    s = Mode.get(mode).intervals.map((iv) => SEMITONES[iv] ?? SEMITONES_HIGH[iv] ?? 0);
    scales.set(mode, s);
  }
  return s;
}

/** Whether a pitch class (or MIDI pitch) belongs to the key's scale. */
export function inKey(pitch: number, key: MusicalKey): boolean {
  return modeSteps(key.mode).includes(mod12(pitch - key.tonic));
}

/**
 * Whether a pitch fits the key or sounds in the chord (its pitch classes); with no key, every pitch
 * fits: what the decoder keeps to and what the key figure counts.
 */
export const inKeyOrChord = (pitch: number, key: MusicalKey | null, chord: ReadonlySet<number>): boolean =>
  !key || inKey(pitch, key) || chord.has(mod12(pitch));

/** Whether the mode's third is minor (aeolian, dorian, phrygian, locrian). */
export const isMinorMode = (mode: string): boolean => modeSteps(mode)[2] === 3;

// Krumhansl & Kessler (1982) probe-tone ratings, from the tonic up.
const MAJOR_PROFILE = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88];
const MINOR_PROFILE = [6.33, 2.68, 3.52, 5.38, 2.6, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17];

function correlation(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i++) {
    const x = (a[i] as number) - ma;
    const y = (b[i] as number) - mb;
    num += x * y;
    da += x * x;
    db += y * y;
  }
  return da && db ? num / Math.sqrt(da * db) : 0;
}

/**
 * The major or minor key whose profile best matches a pitch-class weight vector (12 values, e.g. the
 * durations of what sounds): null when nothing sounds. Modes beyond major and aeolian are not told
 * apart here (a dorian tune is heard as its minor); a K: or `--key` names them.
 */
export function inferKey(weights: readonly number[]): MusicalKey | null {
  if (weights.length !== 12 || !weights.some((w) => w > 0)) return null;
  let best: MusicalKey | null = null;
  let bestR = -Infinity;
  for (let tonic = 0; tonic < 12; tonic++) {
    const rotated = weights.map((_, i) => weights[mod12(i + tonic)] as number);
    for (const [mode, profile] of [
      ['ionian', MAJOR_PROFILE],
      ['aeolian', MINOR_PROFILE],
    ] as const) {
      const r = correlation(rotated, profile);
      if (r > bestR + 1e-12) {
        bestR = r;
        best = { tonic, mode };
      }
    }
  }
  return best;
}

/** Adds `weight` to a pitch's class in a 12-value weight vector (for inferKey). */
export function addPitchWeight(weights: number[], pitch: number, weight: number): void {
  const pc = mod12(pitch);
  weights[pc] = (weights[pc] as number) + weight;
}
