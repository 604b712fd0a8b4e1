/** ABC K: and M: / L: fields → key-signature accidentals, meter and unit length (tonal for modes and keys). */
import { Key, Mode } from 'tonal';

/** Letter (upper case) → semitone alteration of the key signature. */
export type KeyAccidentals = ReadonlyMap<string, number>;

const SHARP_ORDER = ['F', 'C', 'G', 'D', 'A', 'E', 'B'];
const FLAT_ORDER = ['B', 'E', 'A', 'D', 'G', 'C', 'F'];
const MODES: Record<string, string> = {
  maj: 'ionian',
  ion: 'ionian',
  '': 'ionian',
  m: 'aeolian',
  min: 'aeolian',
  aeo: 'aeolian',
  dor: 'dorian',
  phr: 'phrygian',
  lyd: 'lydian',
  mix: 'mixolydian',
  loc: 'locrian',
};

/** The mode a K: value's word names ('', 'm', 'Min', 'dorian' …: its first three letters), as tonal spells it. */
export function modeOf(word: string): string | undefined {
  const w = word.toLowerCase();
  return MODES[w === 'm' ? 'm' : w.slice(0, 3)];
}

/** ABC's unit length where L: is missing, in quarters: a sixteenth below 3/4, else an eighth. */
export function defaultUnit(meter: { quarters: number; numerator: number; denominator: number }): number {
  return meter.quarters > 0 && meter.numerator / meter.denominator < 0.75 ? 0.25 : 0.5;
}

/** Parses a K: value ('D Major', 'Ador', 'Em', 'none'); null when it is not a key. */
export function parseKey(value: string): KeyAccidentals | null {
  const v = value.trim();
  if (v === '' || /^none\b/i.test(v) || /^(clef|treble|bass|alto)\b/i.test(v)) return new Map();
  if (/^(Hp|HP)$/.test(v))
    return new Map([
      ['F', 1],
      ['C', 1],
    ]);
  const m = /^([A-G])([#b]?)\s*([A-Za-z]*)/.exec(v);
  if (!m) return null;
  const mode = modeOf(m[3] ?? '');
  if (mode === undefined) return null;
  const tonic = `${m[1]}${m[2]}`;
  const major = Mode.relativeTonic('ionian', mode, tonic);
  const sig = Key.majorKey(major).keySignature;
  const map = new Map<string, number>();
  if (sig.startsWith('#')) SHARP_ORDER.slice(0, sig.length).forEach((l) => map.set(l, 1));
  else if (sig.startsWith('b')) FLAT_ORDER.slice(0, sig.length).forEach((l) => map.set(l, -1));
  // Explicit extra accidentals: "K:D ^g =c"
  for (const acc of v.slice(m[0].length).matchAll(/(\^\^|\^|__|_|=)([A-Ga-g])/g)) {
    const alter = { '^^': 2, '^': 1, __: -2, _: -1, '=': 0 }[acc[1] as string] as number;
    map.set((acc[2] as string).toUpperCase(), alter);
  }
  return map;
}

/** Quarter notes per bar from an M: value; null when it is not a meter. 'none' gives 0 (free). */
export function parseMeter(
  value: string,
): { quarters: number; numerator: number; denominator: number } | null {
  const v = value.trim();
  if (v === 'C') return { quarters: 4, numerator: 4, denominator: 4 };
  if (v === 'C|') return { quarters: 4, numerator: 2, denominator: 2 }; // cut time: 2/2
  if (/^none$/i.test(v)) return { quarters: 0, numerator: 0, denominator: 4 };
  const m = /^(\d+(?:\+\d+)*)\/(\d+)$/.exec(v);
  if (!m) return null;
  const num = (m[1] as string).split('+').reduce((a, b) => a + Number(b), 0);
  const den = Number(m[2]);
  if (!num || !den) return null;
  return { quarters: (4 * num) / den, numerator: num, denominator: den };
}

/** An L: value as quarter notes ('1/8' → 0.5); null when it is not a length. */
export function parseUnitLength(value: string): number | null {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!m || !Number(m[1]) || !Number(m[2])) return null;
  return (4 * Number(m[1])) / Number(m[2]);
}
