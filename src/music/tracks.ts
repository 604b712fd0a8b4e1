/**
 * Finding the melody and the chord-carrying accompaniment in any multi-track MIDI file. The original
 * hard-codes part 5; here the melody is the pitched track above the bass register with the most single
 * notes (at least as many as its chords),
 * and the chord source is the non-melody track with the most simultaneous-note chords.
 */
import { InputFileError } from './errors.ts';
import { groupAndQuantize } from './group.ts';
import type { SmfSong, SmfTrack } from './smf.ts';

const DRUM_CHANNEL = 9;

export interface TrackStats {
  readonly index: number;
  readonly name: string;
  readonly notes: number;
  readonly medianPitch: number;
  /** Share of note onsets that coincide with another note's onset. */
  readonly polyphony: number;
  readonly chords: number;
  /** Single notes after grouping simultaneous notes into chords. */
  readonly singles: number;
  readonly drums: boolean;
}

export function trackStats(song: SmfSong, track: SmfTrack): TrackStats {
  const pitches = track.notes.map((n) => n.midi).sort((a, b) => a - b);
  const objects = groupAndQuantize(track.notes, song.ticksPerQuarter);
  const onsets = new Map<number, number>();
  for (const n of track.notes) onsets.set(n.on, (onsets.get(n.on) ?? 0) + 1);
  let shared = 0;
  for (const n of track.notes) if ((onsets.get(n.on) ?? 0) > 1) shared++;
  return {
    index: track.index,
    name: track.name,
    notes: track.notes.length,
    medianPitch: pitches[Math.floor(pitches.length / 2)] ?? 0,
    polyphony: track.notes.length ? shared / track.notes.length : 0,
    chords: objects.filter((o) => o.kind === 'chord').length,
    singles: objects.filter((o) => o.kind === 'note').length,
    drums: track.channels.has(DRUM_CHANNEL) && track.channels.size === 1,
  };
}

function trackByIndex(song: SmfSong, index: number, what: string): SmfTrack {
  const t = song.tracks[index];
  if (!t)
    throw new InputFileError(
      song.file,
      `${what} ${index} does not exist (the file has ${song.tracks.length} tracks)`,
    );
  if (t.notes.length === 0)
    throw new InputFileError(song.file, `${what} ${index} ('${t.name}') has no notes`);
  return t;
}

/** The melody track: `override` if given, else the busiest mostly-monophonic pitched track above the bass. */
export function findMelodyTrack(song: SmfSong, override?: number): SmfTrack {
  if (override !== undefined) return trackByIndex(song, override, 'melody track');
  const stats = song.tracks.filter((t) => t.notes.length > 0).map((t) => trackStats(song, t));
  const candidates = stats.filter(
    (s) => !s.drums && s.medianPitch >= 52 && s.singles >= 8 && s.singles >= s.chords,
  );
  const best = candidates.sort((a, b) => b.singles - a.singles)[0];
  if (!best) {
    throw new InputFileError(
      song.file,
      'no melody: no pitched, mostly single-note track above the bass register (use --melody-track N)',
    );
  }
  return song.tracks[best.index] as SmfTrack;
}

/** The chord track: `override` if given, else the non-melody, non-drum track with the most chords. */
export function findChordTrack(song: SmfSong, melody: SmfTrack, override?: number): SmfTrack {
  if (override !== undefined) return trackByIndex(song, override, 'chord track');
  const stats = song.tracks
    .filter((t) => t.index !== melody.index && t.notes.length > 0)
    .map((t) => trackStats(song, t))
    .filter((s) => !s.drums && s.chords >= 2);
  const best = stats.sort((a, b) => b.chords - a.chords)[0];
  if (!best) {
    throw new InputFileError(
      song.file,
      'no chords: no accompaniment track plays simultaneous notes (use --chord-track N)',
    );
  }
  return song.tracks[best.index] as SmfTrack;
}
