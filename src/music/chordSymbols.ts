/**
 * A chord progression typed by a user ("Dm7 G7 Cmaj7", or "Dm7,G7 | Cmaj7" for two chords in one bar)
 * → chords per bar, voiced in close position from the root in octave 3. Symbols are read by tonal.
 */
import { Chord, Note } from 'tonal';
import type { ChordEvent } from './grammar.ts';
import type { Twelfths } from './time.ts';
import { UserError } from './errors.ts';

export class ChordSymbolError extends UserError {
  override readonly name = 'ChordSymbolError';
}

/** MIDI pitches of a chord symbol, close voicing above the root in octave 3. @example voiceChord('Dm7') // => [50, 53, 57, 60] */
export function voiceChord(symbol: string): number[] {
  const chord = Chord.get(symbol);
  if (chord.empty || chord.notes.length === 0) throw new ChordSymbolError(`unknown chord symbol '${symbol}'`);
  const rootMidi = Note.midi(`${chord.notes[0] as string}3`);
  if (rootMidi === null) throw new ChordSymbolError(`unknown chord symbol '${symbol}'`);
  const out = [rootMidi];
  for (const name of chord.notes.slice(1)) {
    let m = Note.midi(`${name}3`) as number;
    while (m <= (out[out.length - 1] as number)) m += 12;
    out.push(m);
  }
  return out;
}

/** A progression's bars as written: separated by spaces or '|' (a bar's chords stay joined by ','). */
export const progressionBars = (text: string): string[] => text.split(/[\s|]+/).filter(Boolean);

/** Parses a progression: bars separated by spaces or '|', chords within a bar by ','. */
export function parseProgression(text: string, barLength: Twelfths): ChordEvent[][] {
  const bars = progressionBars(text);
  if (bars.length === 0) throw new ChordSymbolError('the chord progression is empty');
  return bars.map((bar) => {
    const symbols = bar.split(',').filter(Boolean);
    const step = Math.floor(barLength / symbols.length);
    return symbols.map((s, i) => ({ onset: i * step, pitches: voiceChord(s) }));
  });
}
