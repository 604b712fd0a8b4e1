import { describe, expect, it } from 'vitest';
import { buildCorpus, corpusTokens } from '../src/music/corpus.ts';
import { InputFileError } from '../src/music/errors.ts';
import { parseSmf } from '../src/music/smf.ts';
import { smfBytes, songParts } from './helpers.ts';

describe('any MIDI file with a melody and an accompaniment', () => {
  const { melody, chords, bass } = songParts(8);

  it.each([
    ['melody first', [melody, chords, bass], 1, 2],
    ['melody last', [bass, chords, melody], 3, 2],
    ['chords first', [chords, bass, melody], 3, 1],
  ])('finds melody and chords wherever they are (%s)', (_label, parts, melodyIndex, chordIndex) => {
    const song = parseSmf(smfBytes(parts), 'song.mid');
    const corpus = buildCorpus(song, { profile: 'full' });
    expect(corpus.melodyTrack?.index).toBe(melodyIndex);
    expect(corpus.chordTrack?.index).toBe(chordIndex);
    expect(corpus.bars).toHaveLength(8);
    expect(corpusTokens(corpus).length).toBeGreaterThan(48);
  });

  it('honours --melody-track and --chord-track overrides', () => {
    const song = parseSmf(smfBytes([melody, chords, bass]), 'song.mid');
    const corpus = buildCorpus(song, { profile: 'full', melodyTrack: 3, chordTrack: 2 });
    expect(corpus.melodyTrack?.name).toBe('Bass');
    expect(() => buildCorpus(song, { profile: 'full', melodyTrack: 9 })).toThrow(
      /melody track 9 does not exist/,
    );
  });

  it('reads the whole melody with its rests and rhythm', () => {
    const song = parseSmf(smfBytes([melody, chords]), 'song.mid');
    const tokens = buildCorpus(song, { profile: 'full' }).bars[0]?.tokens ?? [];
    // 6 notes of 0.4 q on a 0.5 q grid (quantized to 0.417 → 5 twelfths) with rests between them
    expect(tokens.filter((t) => t.type !== 'R')).toHaveLength(6);
    expect(tokens.some((t) => t.type === 'R')).toBe(true);
    expect(tokens.reduce((s, t) => s + t.dur, 0)).toBe(48);
  });

  it('refuses a file with no melody and names it', () => {
    const song = parseSmf(smfBytes([chords, bass]), 'pads.mid');
    expect(() => buildCorpus(song, { profile: 'full' })).toThrow(InputFileError);
    expect(() => buildCorpus(song, { profile: 'full' })).toThrow(/^pads\.mid: no melody/);
  });

  it('refuses a file with no chords and names it', () => {
    const song = parseSmf(smfBytes([melody, bass]), 'solo.mid');
    expect(() => buildCorpus(song, { profile: 'full' })).toThrow(/^solo\.mid: no chords/);
  });
});
