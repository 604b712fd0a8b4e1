import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeChord } from '../src/music/chord.ts';
import { buildCorpus, buildVocabulary, corpusTokens } from '../src/music/corpus.ts';
import { formatToken } from '../src/music/grammar.ts';
import { nameWithOctave, pitchName, spell } from '../src/music/pitch.ts';
import { readSmf } from '../src/music/smf.ts';
import { METHENY } from './helpers.ts';

const fixture = (name: string): string[] => readFileSync(`tests/fixtures/${name}`, 'utf8').trim().split('\n');

describe('faithful profile reproduces the P78 corpus (deepjazz-grammar.md Appendix A/B)', () => {
  const corpus = buildCorpus(readSmf(METHENY), { profile: 'faithful' });
  const tokens = corpusTokens(corpus);

  it('finds the Guitar melody and the Piano chords without being told', () => {
    expect(corpus.melodyTrack).toEqual({ index: 11, name: 'Guitar' });
    expect(corpus.chordTrack).toEqual({ index: 6, name: 'Piano' });
  });

  it('has 18 bars, 193 tokens and 78 values', () => {
    expect(corpus.bars).toHaveLength(18);
    expect(tokens).toHaveLength(193);
    expect(corpus.bars.map((b) => b.tokens.length)).toEqual([
      12, 12, 15, 12, 12, 8, 11, 7, 6, 12, 10, 11, 10, 8, 12, 19, 8, 8,
    ]);
    expect(buildVocabulary(tokens)).toEqual(fixture('p78-vocab.txt'));
  });

  it('produces every bar string exactly', () => {
    const got = corpus.bars.map((b, k) => `${k + 1} ${b.tokens.map(formatToken).join(' ')}`);
    expect(got).toEqual(fixture('p78-bars.txt'));
  });

  it('counts token types and durations as the spec does', () => {
    const count = (re: RegExp): number => tokens.filter((t) => re.test(t)).length;
    expect([count(/^C/), count(/^S/), count(/^A/), count(/^X/)]).toEqual([117, 44, 25, 7]);
    expect([
      count(/,0\.250/),
      count(/,0\.333/),
      count(/,0\.500/),
      count(/,0\.667/),
      count(/,0\.750/),
    ]).toEqual([153, 20, 12, 5, 3]);
  });

  it('analyses every chord as Appendix B lists it (root, quality, scale)', () => {
    const rows = fixture('p78-chords.txt').map((line) => {
      const m =
        /^bar (\d+) beat ([\d.]+):\s*\[([^\]]+)\]\s+root=(\S+)\s+(?:quality=)?(\S+)\s+scale=(\S+) (\S+)/.exec(
          line,
        );
      if (!m) throw new Error(`unparsed fixture line: ${line}`);
      return `${m[1]} ${Number(m[2])} [${m[3]}] ${m[4]} ${m[5]} ${m[6]} ${m[7]}`;
    });
    const got = corpus.bars.flatMap((bar, k) =>
      bar.chords.map((c) => {
        const a = analyzeChord(c.pitches);
        const pitches = c.pitches.map((p) => nameWithOctave(spell(p))).join(' ');
        return `${k + 1} ${c.onset / 12} [${pitches}] ${pitchName(a.root)} ${a.quality} ${a.scaleTonic} ${a.scaleMode}`;
      }),
    );
    expect(got).toEqual(rows);
  });
});
