import { describe, expect, it } from 'vitest';
import { classifyNote } from '../src/music/chord.ts';
import { buildCorpus } from '../src/music/corpus.ts';
import { LineDecoder } from '../src/music/decode.ts';
import { analyzeChordEvent, formatToken, parseToken, TokenFormatError } from '../src/music/grammar.ts';
import { createRng } from '../src/music/rng.ts';
import { readSmf } from '../src/music/smf.ts';
import { METHENY } from './helpers.ts';

const song = readSmf(METHENY);

describe('token format', () => {
  it.each(['C,0.250,<m2,P-4>', 'C,0.500', 'R,0.083', 'X,0.250,<A4,d-2>', 'S,1.000,<dd5,d1>'])(
    '%s parses and formats back',
    (t) => {
      expect(formatToken(parseToken(t))).toBe(t);
    },
  );

  it.each([
    ['Q,0.250', /malformed/],
    ['C,0.25', /malformed/],
    ['C,0.251', /1\/12-quarter grid/],
    ['R,0.250,<m2,P-4>', /rest has no interval/],
    ['C,0.250,<m2>', /malformed/],
  ])('%s is refused by name', (t, message) => {
    expect(() => parseToken(t)).toThrow(TokenFormatError);
    expect(() => parseToken(t)).toThrow(message);
  });
});

describe.each(['faithful', 'full'] as const)('encode → decode on the %s corpus', (profile) => {
  const corpus = buildCorpus(song, { profile });

  it('decodes every bar against its own chords to notes of the same types and durations', () => {
    // The full profile keeps the gaps, so each note is decoded at its original time against the chord
    // it was encoded against: types must match exactly. The faithful profile (P78) dropped the gaps,
    // so a decoded note can fall under a later, denser chord; then a different type is allowed only as
    // a flagged fallback where no pitch of the wanted type exists for that chord.
    const range = { low: 40, high: 96 };
    let notes = 0;
    let fallbacks = 0;
    corpus.bars.forEach((bar, k) => {
      const decoder = new LineDecoder(bar.chords.map(analyzeChordEvent), range, createRng(k));
      for (const token of bar.tokens) {
        const at = decoder.time;
        const note = decoder.push(token);
        if (token.type === 'R') {
          expect(note).toBeNull();
          continue;
        }
        const where = `bar ${k + 1} ${formatToken(token)}`;
        expect(note?.dur, where).toBe(token.dur);
        notes++;
        if (note?.type === token.type) continue;
        expect(profile, where).toBe('faithful');
        expect(note?.fallback, where).toBe(true);
        const chord = decoder.chordAt(at);
        const possible = Array.from({ length: 12 }, (_, pc) => 60 + pc).some(
          (p) => classifyNote(p, chord) === token.type,
        );
        expect(possible, where).toBe(false);
        fallbacks++;
      }
    });
    expect(notes).toBeGreaterThan(150);
    expect(fallbacks / notes).toBeLessThan(0.05);
  });

  it('keeps decoded lines inside the pitch range', () => {
    const range = { low: 55, high: 79 };
    for (const bar of corpus.bars) {
      const decoder = new LineDecoder(bar.chords.map(analyzeChordEvent), range, createRng(3));
      for (const token of bar.tokens) {
        const note = decoder.push(token);
        if (note) {
          expect(note.midi).toBeGreaterThanOrEqual(55);
          expect(note.midi).toBeLessThanOrEqual(79);
        }
      }
    }
  });
});

describe('full profile timeline', () => {
  const corpus = buildCorpus(song, { profile: 'full' });

  it('starts notes where the original did: decoded onsets equal the melody onsets within each bar', () => {
    // In the full profile durations include the gaps, so summing them reproduces the onsets.
    for (const bar of corpus.bars.slice(0, 40)) {
      const decoder = new LineDecoder(bar.chords.map(analyzeChordEvent), { low: 40, high: 96 }, createRng(1));
      const starts = bar.tokens.map((t) => {
        const at = decoder.time;
        decoder.push(t);
        return at;
      });
      expect(starts[0]).toBe(0);
      expect(starts.every((s, i) => i === 0 || s > (starts[i - 1] as number))).toBe(true);
    }
  });

  it('keeps rests and brackets every note after the first (the interval chain crosses bar lines)', () => {
    const tokens = corpus.bars.flatMap((b) => b.tokens);
    expect(tokens.some((t) => t.type === 'R')).toBe(true);
    const notes = tokens.filter((t) => t.type !== 'R');
    expect(notes.filter((t) => !t.bracket)).toHaveLength(1);
    expect(corpus.bars.length).toBeGreaterThan(100);
  });
});
