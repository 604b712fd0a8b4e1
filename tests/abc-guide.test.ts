import { readFileSync } from 'node:fs';
import { charVocabulary } from '../src/music/abc/corpus.ts';
import { describe, expect, it } from 'vitest';
import { parseForm } from '../src/music/abc/form.ts';
import { AbcGuide } from '../src/music/abc/guide.ts';
import { createRng } from '../src/music/rng.ts';
import { sampleMasked } from '../src/model/sampler.ts';
import { readManifest } from '../src/music/bundle.ts';

// the rules are the guide's, not a model's: the lab corpus's characters, whatever models/abc learnt
const VOCAB = charVocabulary([readFileSync('data/irish.abc', 'utf8')]);

/** A guide that has read `text`; `next(chars)` says which of `chars` it allows next. */
function after(text: string, form: string | null = null, bars?: number) {
  const guide = new AbcGuide(VOCAB, { form: form === null ? null : parseForm(form, bars) });
  for (const ch of text) {
    if (!guide.allows(ch))
      throw new Error(
        `the guide refused ${JSON.stringify(ch)} after ${JSON.stringify(text.slice(0, text.indexOf(ch)))}`,
      );
    guide.push(ch);
  }
  return {
    guide,
    next: (chars: string): string => [...chars].filter((c) => guide.allows(c)).join(''),
    all: (): string => VOCAB.filter((c) => guide.allows(c)).join(''),
  };
}

const head = (meter: string, unit = '1/8', key = 'G'): string =>
  `X:1\nT:t\nM:${meter}\nL:${unit}\nK:${key}\n`;

describe('the bar-true mask', () => {
  it('4/4: a note may not overfill the bar, a bar line may not close it early', () => {
    const g = after(`${head('4/4')}GABc dBAG|GABc dBA`);
    // A is the 7th eighth: A2 fills the bar, A4 overfills, A3 only as A3/2; the bar is one short for |
    expect(g.next('234/|B ')).toBe('23/B ');
    const full = after(`${head('4/4')}GABc dBAG|GABc dBA2`);
    expect(full.next('GAB|: z')).toBe('|: '); // ':' opens ':|'
  });

  it('6/8 and L:1/16', () => {
    expect(after(`${head('6/8', '1/8', 'D')}FED EFG|AdB cA`).next('G24|')).toBe('G2');
    expect(after(`${head('2/4', '1/16', 'C')}CDEF GABc|C4 D2E`).next('24|/')).toBe('2/');
  });

  it('triplets: the whole tuplet must fit, its notes take no length, no bar line inside it', () => {
    expect(after(`${head('2/4', '1/8', 'C')}CDEF|C`).next('(')).toBe('(');
    expect(after(`${head('2/4', '1/8', 'C')}CDEF|C(`).next('3')).toBe('3');
    expect(after(`${head('2/4', '1/8', 'C')}CDEF|CDE`).next('(')).toBe(''); // 1 eighth left, a triplet needs 2
    const t = after(`${head('2/4', '1/8', 'C')}CDEF|C(3DE`);
    expect(t.next('2|F')).toBe('F');
    expect(after(`${head('2/4', '1/8', 'C')}CDEF|C(3D`).next('|(')).toBe('');
  });

  it('broken rhythm: room for the second note, which is written as long as the first', () => {
    expect(after(`${head('2/4', '1/8', 'C')}CDEF|CDE`).next('>')).toBe('>');
    expect(after(`${head('2/4', '1/8', 'C')}CDEF|CDEF`).next('>')).toBe('');
    expect(after(`${head('2/4', '1/8', 'C')}CDEF|C2D>E`).next('2/|')).toBe('|');
    expect(after(`${head('2/4', '1/8', 'C')}CDEF|C2D/>E`).next('2/|')).toBe('/');
  });

  it('pickups: at most half a bar at the start; a tie holds the same note in the bar', () => {
    expect(after(`${head('4/4')}GA`).next('|')).toBe('|');
    expect(after(`${head('4/4')}GABcd`).next('|')).toBe('');
    expect(after(`${head('4/4')}GABc dBAG|G2-`).next('GAg^')).toBe('G');
    expect(after(`${head('4/4')}GABc dBAG|^c2-`).next('^cC_')).toBe('^');
  });

  it('endings and the form: the part closes at its last bar, a later part opens with |:', () => {
    const a = `${head('4/4')}GA|B2c2 d2e2|B2c2 d2e2|B2c2 d2e2|`;
    // 3 of 4 bars: the last bar leaves room for the pickup (6 eighths), then must close with :|
    expect(after(`${a}c2B2 A2`, 'AABB', 8).next('|:G')).toBe(':');
    expect(after(`${a}c2B2 A2:`, 'AABB', 8).next('|')).toBe('|');
    // an ending may start one or two bars before the end, not at the first bar
    expect(after(`${head('4/4')}GA|B2c2 d2e2|B2c2 d2e2|`, 'AABB', 8).next('1[')).toBe('1[');
    expect(after(`${head('4/4')}GA|B2c2 d2e2|`, 'AABB', 8).next('1[')).toBe('');
    // part B: nothing before its |:, then the tune's pickup
    const b = after(`${a}c2B2 A2:|!\n`, 'AABB', 8);
    expect(b.next('GA|')).toBe('|');
    expect(after(`${a}c2B2 A2:|!\n|:GA`, 'AABB', 8).next('|B')).toBe('|');
    // after the last part: only the end of the line, a blank line, then the next tune's X:
    const done = after(`${a}c2B2 A2:|!\n|:GA|B2c2 d2e2|B2c2 d2e2|B2c2 d2e2|c2B2 A2:|`, 'AABB', 8);
    expect(done.guide.done).toBe(true);
    expect(done.all()).toBe('\n!');
    const blank = after(`${a}c2B2 A2:|!\n|:GA|B2c2 d2e2|B2c2 d2e2|B2c2 d2e2|c2B2 A2:|!\n`, 'AABB', 8);
    expect(blank.all()).toBe('\n');
    blank.guide.push('\n');
    expect(blank.all()).toBe('X');
  });

  it('the header: known fields once, meters and keys that parse, K: ends it', () => {
    expect(after('X:1\nT:t\nM:').next('C24691578')).toBe('C24691');
    expect(after('X:1\nT:t\nM:6/').next('8416')).toBe('8');
    expect(after('X:1\nT:t\nM:6/8\n').next('TMLKZXPC')).toBe('LKZ');
    expect(after('X:1\nT:t\nM:6/8\nK:').next('DHa')).toBe('D');
    expect(after('X:1\nT:t\nM:6/8\nK:D').next(' m\n')).toBe(' m\n');
    expect(after('X:1\nT:t\nM:6/8\nK:D Mi').next('xna\n')).toBe('xn');
  });

  it('the body keeps to folk notation: no quotes, grace notes, slurs or stray letters', () => {
    expect(after(`${head('4/4')}GABc `).next('"{}()HTK%B')).toBe('(B');
  });
});

describe('the mask without its probes where the settled text answers', () => {
  it('allows what probing every character class allows, step by step, on tunes and on random walks under the mask', () => {
    const lengths = readManifest('models/abc').abcLengths;
    const pair = (form: string | null) => [
      new AbcGuide(VOCAB, { form: form === null ? null : parseForm(form), ...(lengths ? { lengths } : {}) }),
      new AbcGuide(VOCAB, {
        form: form === null ? null : parseForm(form),
        ...(lengths ? { lengths } : {}),
        probeAll: true,
      }),
    ];
    const a = new Uint8Array(VOCAB.length);
    const b = new Uint8Array(VOCAB.length);
    const logits = new Float32Array(VOCAB.length);
    let steps = 0;
    const compare = (fast: AbcGuide, full: AbcGuide): void => {
      fast.guide(logits, a);
      full.guide(logits, b);
      steps++;
      if (a.join() !== b.join())
        throw new Error(`step ${steps}: ${VOCAB.filter((_, i) => a[i] !== b[i]).join('')} differ`);
    };
    // the corpus's own text (the guide refuses some of it; both read on alike)
    const tunes = readFileSync('data/abc-folk/irish.abc', 'utf8').split('\n\n').slice(0, 25);
    const [fast, full] = pair(null) as [AbcGuide, AbcGuide];
    for (const ch of `${tunes.join('\n\n')}\n\n`) {
      compare(fast, full);
      fast.push(ch);
      full.push(ch);
    }
    // random walks: any allowed character, so spaces and ties come where no fiddler writes them
    const rng = createRng(12);
    for (const form of [null, 'AABB']) {
      const [f, g] = pair(form) as [AbcGuide, AbcGuide];
      for (let i = 0; i < 2500; i++) {
        compare(f, g);
        const ok = VOCAB.filter((_, k) => a[k] === 1);
        const ch = ok[rng.int(ok.length)] as string;
        f.push(ch);
        g.push(ch);
      }
    }
    expect(steps).toBeGreaterThan(5000);
  });
});

describe('sampling under the mask', () => {
  it('never draws a masked token, applies temperature after the mask, and says when it changed the draw', () => {
    const logits = new Float32Array([5, 0, 0, 1]);
    const allowed = Uint8Array.from([0, 1, 1, 1]);
    const rng = createRng(1);
    let changed = 0;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 2000; i++) {
      const d = sampleMasked(logits, { temperature: 1, topK: 0, topP: 1 }, rng, allowed);
      counts[d.id] = (counts[d.id] ?? 0) + 1;
      if (d.changed) changed++;
    }
    expect(counts[0]).toBe(0);
    // token 3 is e¹ times likelier than 1 or 2 once token 0 is masked out
    expect((counts[3] as number) / 2000).toBeCloseTo(Math.E / (2 + Math.E), 1);
    // the model's own draw is token 0 with probability e⁵ / (e⁵ + 2 + e) ≈ 0.97
    expect(changed / 2000).toBeGreaterThan(0.9);
    expect(sampleMasked(logits, { temperature: 0, topK: 0, topP: 1 }, rng, allowed)).toEqual({
      id: 3,
      changed: true,
    });
    expect(
      sampleMasked(logits, { temperature: 0, topK: 0, topP: 1 }, rng, Uint8Array.from([1, 1, 1, 1])),
    ).toEqual({
      id: 0,
      changed: false,
    });
  });

  it('same seed, same draws', () => {
    const logits = Float32Array.from({ length: 10 }, (_, i) => Math.sin(i));
    const allowed = Uint8Array.from({ length: 10 }, (_, i) => (i % 3 ? 1 : 0));
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from(
        { length: 50 },
        () => sampleMasked(logits, { temperature: 1, topK: 0, topP: 0.9 }, rng, allowed).id,
      );
    };
    expect(draw(4)).toEqual(draw(4));
    expect(draw(4)).not.toEqual(draw(5));
  });
});
