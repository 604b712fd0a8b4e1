/**
 * Chord analysis as deepjazz's grammar sees it (deepjazz-grammar.md §4.3–4.6): root, quality,
 * the analysis scale, and the note-type tests C / S / A / X. These follow music21's rules exactly,
 * which no Node library reproduces, so they are written here; scale spelling comes from tonal.
 */
import { Scale } from 'tonal';
import {
  diatonicNumber,
  NATURAL,
  pitchClass,
  pitchName,
  pitchSpace,
  spell,
  type Letter,
  type Midi,
  type SpelledPitch,
} from './pitch.ts';

export type ChordQuality = 'major' | 'minor' | 'augmented' | 'diminished' | 'other';

export interface ChordAnalysis {
  readonly pitches: readonly Midi[];
  readonly root: SpelledPitch;
  readonly quality: ChordQuality;
  /** Tonic name (music21 spelling) and mode of the analysis scale. */
  readonly scaleTonic: string;
  readonly scaleMode: 'major' | 'dorian';
  /** The 7 scale note names, music21 spelling, letter by letter from the tonic. */
  readonly scaleNames: readonly string[];
  readonly pitchClasses: ReadonlySet<number>;
  readonly names: ReadonlySet<string>;
}

function stepMod7(from: SpelledPitch, to: SpelledPitch): number {
  return ((((diatonicNumber(to) - diatonicNumber(from)) % 7) + 7) % 7) + 1;
}

/** music21 findRoot (§4.3) on pitches in stored order. */
export function findRoot(pitches: readonly SpelledPitch[]): SpelledPitch {
  const first = pitches[0];
  if (!first) throw new RangeError('findRoot: empty chord');
  const closed: SpelledPitch[] = [];
  for (const p of pitches) if (!closed.some((q) => q.letter === p.letter)) closed.push(p);
  if (closed.length === 1) return first;
  let bass = closed[0] as SpelledPitch;
  for (const p of closed) {
    const dp = diatonicNumber(p);
    const db = diatonicNumber(bass);
    if (dp < db || (dp === db && pitchSpace(p) < pitchSpace(bass))) bass = p;
  }
  const steps = [3, 5, 7, 2, 4, 6];
  const n = closed.length;
  const stacked: SpelledPitch[] = [];
  let best = closed[0] as SpelledPitch;
  let bestScore = -1;
  for (const p of closed) {
    const flags = steps.map((s) => closed.some((q) => stepMod7(p, q) === s));
    if (flags.slice(0, n - 1).every(Boolean)) stacked.push(p);
    const score = flags.reduce((acc, f, i) => acc + (f ? 1 / (i + 6) : 0), 0);
    if (score > bestScore) {
      bestScore = score;
      best = p;
    }
  }
  if (stacked.length === 1) return stacked[0] as SpelledPitch;
  if (stacked.length === n) return bass;
  return best;
}

/** music21 quality (§4.4, P78 rules). */
export function chordQuality(pitches: readonly SpelledPitch[], root: SpelledPitch): ChordQuality {
  const distanceOnStep = (step: number): number[] =>
    pitches
      .filter((p) => stepMod7(root, p) === step)
      .map((p) => (((pitchSpace(p) - pitchSpace(root)) % 12) + 12) % 12);
  const thirds = distanceOnStep(3);
  const fifths = distanceOnStep(5);
  const third = thirds[0];
  if (third === undefined) return 'other';
  if (thirds.some((t) => t !== third)) return 'other';
  const fifth = fifths[0];
  if (fifth === undefined) return third === 4 ? 'major' : third === 3 ? 'minor' : 'other';
  if (fifths.some((f) => f !== fifth)) return 'other';
  if (third === 4 && fifth === 7) return 'major';
  if (third === 3 && fifth === 7) return 'minor';
  if (third === 4 && fifth === 8) return 'augmented';
  if (third === 3 && fifth === 6) return 'diminished';
  return 'other';
}

const TONICS = ['C', 'C#', 'D-', 'D', 'D#', 'E-', 'E', 'F', 'F#', 'G', 'G#', 'A', 'B-', 'B', 'C-'] as const;
const TONIC_PS = [60, 61, 61, 62, 63, 63, 64, 65, 66, 67, 68, 69, 70, 71, 59] as const;
const MODE_STEPS = { major: [2, 2, 1, 2, 2, 2, 1], dorian: [2, 1, 2, 2, 2, 1, 2] } as const;

/** tonal spelling ('Bb') ↔ music21 spelling ('B-'). */
export const toTonalName = (m21: string): string => m21.replace(/-/g, 'b');
export const fromTonalName = (tonal: string): string => tonal.charAt(0) + tonal.slice(1).replace(/b/g, '-');

function scalePitchClasses(tonicPs: number, mode: 'major' | 'dorian'): Set<number> {
  const pcs = new Set<number>();
  let pc = tonicPs % 12;
  for (const step of MODE_STEPS[mode]) {
    pcs.add(pc);
    pc = (pc + step) % 12;
  }
  return pcs;
}

/** scale.derive (§4.5): the best-fitting tonic, ties to the higher one (and to the later of C#/D♭). */
export function deriveScale(
  pcs: ReadonlySet<number>,
  mode: 'major' | 'dorian',
): { tonic: string; names: string[] } {
  let bestIdx = 0;
  let bestCount = -1;
  TONICS.forEach((_, i) => {
    const scale = scalePitchClasses(TONIC_PS[i] as number, mode);
    let count = 0;
    for (const pc of pcs) if (scale.has(pc)) count++;
    const ps = TONIC_PS[i] as number;
    const bestPs = TONIC_PS[bestIdx] as number;
    if (count > bestCount || (count === bestCount && ps >= bestPs)) {
      bestCount = count;
      bestIdx = i;
    }
  });
  const tonic = TONICS[bestIdx] as string;
  const names = Scale.get(`${toTonalName(tonic)} ${mode}`).notes.map(fromTonalName);
  return { tonic, names };
}

/** Full analysis of a chord given as MIDI pitches in stored order. */
export function analyzeChord(pitches: readonly Midi[]): ChordAnalysis {
  const spelled = pitches.map(spell);
  const root = findRoot(spelled);
  const quality = chordQuality(spelled, root);
  const pcs = new Set(spelled.map(pitchClass));
  const scaleMode = quality === 'major' ? 'major' : 'dorian';
  const { tonic, names } = deriveScale(pcs, scaleMode);
  return {
    pitches,
    root,
    quality,
    scaleTonic: tonic,
    scaleMode,
    scaleNames: names,
    pitchClasses: pcs,
    names: new Set(spelled.map(pitchName)),
  };
}

/** analyzeChord remembered per pitch array (by identity): progressions reuse the same arrays. */
export function chordAnalyzer(): (pitches: readonly Midi[]) => ChordAnalysis {
  const seen = new Map<readonly Midi[], ChordAnalysis>();
  return (pitches) => {
    let a = seen.get(pitches);
    if (!a) seen.set(pitches, (a = analyzeChord(pitches)));
    return a;
  };
}

export type NoteType = 'C' | 'S' | 'A' | 'X';

export function isChordTone(midi: Midi, chord: ChordAnalysis): boolean {
  return chord.names.has(pitchName(spell(midi)));
}

export function isScaleTone(midi: Midi, chord: ChordAnalysis): boolean {
  return chord.scaleNames.includes(pitchName(spell(midi)));
}

export function isApproachTone(midi: Midi, chord: ChordAnalysis): boolean {
  const pc = ((midi % 12) + 12) % 12;
  return chord.pitchClasses.has((pc + 1) % 12) || chord.pitchClasses.has((pc + 11) % 12);
}

/** The note type of a pitch against a chord, first of C / S / A / X that matches (§4.6). */
export function classifyNote(midi: Midi, chord: ChordAnalysis): NoteType {
  if (isChordTone(midi, chord)) return 'C';
  if (isScaleTone(midi, chord)) return 'S';
  if (isApproachTone(midi, chord)) return 'A';
  return 'X';
}

/** Pitch class of a natural letter, for callers building pitches from letters. */
export function naturalPc(letter: Letter): number {
  return NATURAL[letter];
}
