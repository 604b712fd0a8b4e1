import { describe, expect, it } from 'vitest';
import { createRng } from '../src/music/rng.ts';
import { sample, validateSampler } from '../src/model/sampler.ts';

const logits = Float32Array.from([1, 3, 2, 0.5, -1]);
const draw = (opts: { temperature: number; topK: number; topP: number }, n: number, seed = 1): number[] => {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => sample(logits, opts, rng));
};
const counts = (xs: number[]): [number, number, number, number, number] =>
  [0, 1, 2, 3, 4].map((i) => xs.filter((x) => x === i).length) as [number, number, number, number, number];

describe('sampler', () => {
  it('argmax (temperature 0) always takes the likeliest token', () => {
    expect(new Set(draw({ temperature: 0, topK: 0, topP: 1 }, 50))).toEqual(new Set([1]));
  });

  it('top-k 2 only ever draws the two likeliest tokens', () => {
    expect(new Set(draw({ temperature: 1, topK: 2, topP: 1 }, 400))).toEqual(new Set([1, 2]));
  });

  it('top-p keeps the smallest nucleus reaching p', () => {
    // softmax(1,3,2,.5,-1) ≈ [.087,.645,.237,.053,.012]: p = 0.5 keeps only token 1; p = 0.85 keeps 1 and 2
    expect(new Set(draw({ temperature: 1, topK: 0, topP: 0.5 }, 200))).toEqual(new Set([1]));
    expect(new Set(draw({ temperature: 1, topK: 0, topP: 0.85 }, 400))).toEqual(new Set([1, 2]));
  });

  it('temperature 1 draws in proportion to the softmax; high temperature flattens it', () => {
    const c1 = counts(draw({ temperature: 1, topK: 0, topP: 1 }, 20000));
    expect(c1[1] / 20000).toBeCloseTo(0.645, 1);
    expect(c1[2] / 20000).toBeCloseTo(0.237, 1);
    const hot = counts(draw({ temperature: 10, topK: 0, topP: 1 }, 20000));
    expect(hot[4]).toBeGreaterThan(hot[1] / 2);
  });

  it('same seed, same draws; masks are honoured', () => {
    const opts = { temperature: 1, topK: 0, topP: 1 };
    expect(draw(opts, 100, 9)).toEqual(draw(opts, 100, 9));
    expect(draw(opts, 100, 9)).not.toEqual(draw(opts, 100, 10));
    const rng = createRng(1);
    for (let i = 0; i < 100; i++)
      expect(sample(logits, opts, rng, (t) => t === 3 || t === 4)).toBeGreaterThanOrEqual(3);
    expect(() => sample(logits, opts, rng, () => false)).toThrow('every token is masked out');
  });

  it.each([
    [{ temperature: -1, topK: 0, topP: 1 }, /temperature must be ≥ 0/],
    [{ temperature: 1, topK: 1.5, topP: 1 }, /top-k must be a whole number/],
    [{ temperature: 1, topK: 0, topP: 0 }, /top-p must be in \(0, 1\]/],
  ])('refuses %o by name', (opts, message) => {
    expect(() => validateSampler(opts)).toThrow(message);
  });
});
