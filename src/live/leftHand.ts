/**
 * Follow mode's chord memory: the keys below the split point are the chord. The chord changes when
 * keys go down (two pitch classes or more make one) and stays when they are let go, as a pianist's
 * left hand comps: it lifts between chords, and the chord still sounds in the player's head.
 */
import { analyzeChord, type ChordAnalysis } from '../music/chord.ts';
import type { Midi } from '../music/pitch.ts';

export class LeftHand {
  private readonly down = new Set<Midi>();
  private current: ChordAnalysis | null = null;

  press(note: Midi): void {
    this.down.add(note);
    const pitches = [...this.down].sort((a, b) => a - b);
    if (new Set(pitches.map((p) => p % 12)).size >= 2) this.current = analyzeChord(pitches);
  }

  release(note: Midi): void {
    this.down.delete(note);
  }

  /** The chord the left hand last made, or null before it has made one. */
  get chord(): ChordAnalysis | null {
    return this.current;
  }
}
