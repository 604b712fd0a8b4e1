/**
 * The one note: a pitch that starts and lasts, on a timeline in twelfths of a quarter unless said
 * otherwise (`Note<Millis>` for the player's call as captured and the engine's answer as scheduled,
 * `Note<Quarters>` for the SMF writer). The live engine, the decoder's lines, the harmonizer's
 * melodies, the judges' lines and the file writer all take it; the formats at the edges (a MIDI
 * file's on/off ticks, the MIDI messages' `note`, the stage page's frames, abc2midi's output) are
 * converted where they are read or written.
 */
import type { NoteType } from './chord.ts';
import type { Midi, Twelfths } from './units.ts';

/** Whose note it is: the player's call, the improviser's answer, or a chord's voice. */
export type NoteRole = 'call' | 'answer' | 'chord';

export interface Note<T extends number = Twelfths> {
  readonly start: T;
  readonly dur: T;
  readonly midi: Midi;
  /** 1–127; absent: the writer's or the port's default. */
  readonly velocity?: number;
  /** 0–15; absent: the part's or the port's own. */
  readonly channel?: number;
  readonly role?: NoteRole;
}

/** A note with the type its grammar token asked for (what it is against the chord at its start). */
export interface TypedNote<T extends number = Twelfths> extends Note<T> {
  readonly type: NoteType;
}

/** The note that starts last (of those starting together, the later in order): where a line ends. */
export function lastNote<N extends Note<number>>(notes: readonly N[]): N | null {
  return notes.reduce<N | null>((a, n) => (!a || n.start >= a.start ? n : a), null);
}
