import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  charVocabulary,
  devectorize,
  getBatch,
  joinTunes,
  splitTunes,
  splitValidation,
  vectorize,
} from '../src/music/abc/corpus.ts';
import { createRng } from '../src/music/rng.ts';

const text = readFileSync('data/irish.abc', 'utf8');
const tunes = splitTunes(text);

describe('ABC corpus', () => {
  it('splits the corpus into tunes at their X: lines', () => {
    expect(tunes).toHaveLength(804);
    expect(tunes.every((t) => t.startsWith('X:'))).toBe(true);
    expect(tunes[0]?.split('\n')[1]).toBe("T:Alexander's");
    expect(splitTunes('junk before\nX:1\nT:a\nK:C\nABC|\n\n\nX:2\nT:b\nK:G\nGAB|\n')).toEqual([
      'X:1\nT:a\nK:C\nABC|',
      'X:2\nT:b\nK:G\nGAB|',
    ]);
  });

  it('builds a sorted character vocabulary that round-trips the text', () => {
    const vocab = charVocabulary([text]);
    expect(vocab).toHaveLength(83);
    expect([...vocab].sort()).toEqual(vocab);
    const v = vectorize(text, vocab);
    expect(v.unknown).toBe(0);
    expect(devectorize(v.ids, vocab)).toBe(text);
    expect(vectorize('ABC€', vocab).unknown).toBe(1);
  });

  describe('the lab batch function', () => {
    const vocab = charVocabulary([text]);
    const ids = vectorize(joinTunes(tunes), vocab).ids;
    const { inputs, targets } = getBatch(ids, 100, 32, createRng(4));

    it('returns whole-number ids (types)', () => {
      expect(inputs.flat().every((x) => Number.isInteger(x) && x >= 0 && x < vocab.length)).toBe(true);
      expect(targets.flat().every((x) => Number.isInteger(x) && x >= 0 && x < vocab.length)).toBe(true);
    });

    it('has shapes [batch, seq] for input and target', () => {
      expect(inputs).toHaveLength(32);
      expect(targets).toHaveLength(32);
      expect(inputs.every((r) => r.length === 100) && targets.every((r) => r.length === 100)).toBe(true);
    });

    it('target is the input shifted by one (next-step property)', () => {
      for (let b = 0; b < 32; b++) expect(inputs[b]?.slice(1)).toEqual(targets[b]?.slice(0, -1));
      const joined = joinTunes(tunes);
      const window = devectorize(inputs[0] as number[], vocab);
      expect(joined.includes(window + devectorize([(targets[0] as number[])[99] as number], vocab))).toBe(
        true,
      );
    });
  });

  it('holds out 5 % of the tunes, disjoint from training, the same for the same seed', () => {
    const a = splitValidation(tunes, 0.05, createRng(1));
    const b = splitValidation(tunes, 0.05, createRng(1));
    expect(a.validation).toHaveLength(40);
    expect(a.train).toHaveLength(764);
    const held = new Set(a.validation.map((t) => tunes.indexOf(t)));
    expect(a.train.some((t) => held.has(tunes.indexOf(t)))).toBe(false);
    expect(b).toEqual(a);
  });
});
