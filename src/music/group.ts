/** Grouping simultaneous notes into chords and quantizing them (deepjazz-grammar.md §2.2–2.3). */
import type { Midi } from './pitch.ts';
import type { RawNote } from './smf.ts';
import { quantizeTicks, type Twelfths } from './time.ts';

export interface TimedObject {
  readonly kind: 'note' | 'chord';
  readonly onset: Twelfths;
  readonly dur: Twelfths;
  /** One pitch for a note; a chord's pitches in collection (note-on) order, duplicates kept. */
  readonly pitches: readonly Midi[];
  /** Creation order, the tie-breaker at equal onsets. */
  readonly order: number;
}

/** Groups notes that start and end within tpq/16 ticks of each other, then quantizes onsets and durations. */
export function groupAndQuantize(notes: readonly RawNote[], tpq: number): TimedObject[] {
  const tol = tpq / 16;
  const taken = new Uint8Array(notes.length);
  const out: TimedObject[] = [];
  for (let i = 0; i < notes.length; i++) {
    if (taken[i]) continue;
    const a = notes[i] as RawNote;
    const members: RawNote[] = [a];
    for (let j = i + 1; j < notes.length; j++) {
      const b = notes[j] as RawNote;
      if (Math.abs(b.on - a.on) > tol) break;
      if (Math.abs(b.off - a.off) > tol) continue; // a note already in a group may join another one (music21 does)
      members.push(b);
      taken[j] = 1;
    }
    taken[i] = 1;
    const last = members[members.length - 1] as RawNote;
    const rawDur = members.length > 1 ? a.off - last.on : a.off - a.on;
    out.push({
      kind: members.length > 1 ? 'chord' : 'note',
      onset: quantizeTicks(a.on, tpq),
      dur: quantizeTicks(rawDur === 0 ? tpq : rawDur, tpq),
      pitches: members.map((m) => m.midi),
      order: out.length,
    });
  }
  return out.sort((x, y) => x.onset - y.onset || x.order - y.order);
}
