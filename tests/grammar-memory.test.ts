import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLeadSheets } from '../src/music/abc/leadsheet.ts';
import { analyzeChord, classifyNote } from '../src/music/chord.ts';
import { voiceChord } from '../src/music/chordSymbols.ts';
import {
  Conditioner,
  CONDITION_FEATURES,
  featuresOf,
  KEY_FEATURES,
  LOOKBACK_FEATURES,
  meterOf,
  PLACE_FEATURES,
} from '../src/music/conditioning.ts';
import { corpusConditions, soundingKey } from '../src/music/corpus.ts';
import { decodeToken } from '../src/music/decode.ts';
import { inferKey, inKey, keyName, parseKeyName } from '../src/music/musicalKey.ts';
import { createRng } from '../src/music/rng.ts';
import { intervalPatterns, motifShare, pairedTest, pitchClassCloseness } from '../src/eval/callResponse.ts';
import { bundleMeter } from '../src/music/conditioning.ts';
import { featureGroups, meterList, readLeadsheet } from '../src/cli/options.ts';
import { chordSegments, harmonize } from '../src/music/harmonize.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { JazzImproviser } from '../src/model/jazzImproviser.ts';
import { improviserFor } from '../src/model/improviserFor.ts';
import { selectBackend } from '../src/train/backend.ts';
import { trainJazz } from '../src/train/jazz.ts';
import { tempDir } from './helpers.ts';

describe('the key', () => {
  it('reads key names and K: values, modes included', () => {
    const table: [string, string | null][] = [
      ['G', 'G'],
      ['Em', 'Em'],
      ['Ador', 'A dorian'],
      ['D mix', 'D mixolydian'],
      ['F# minor', 'F#m'],
      ['Bb', 'Bb'],
      ['G ^c', 'G'], // explicit accidentals after the key name
      ['H', null],
      ['Gxyz', null],
    ];
    for (const [value, name] of table) {
      const key = parseKeyName(value);
      expect(key === null ? null : keyName(key), value).toBe(name);
    }
  });

  it('knows which pitches are in the key', () => {
    const g = parseKeyName('G')!;
    expect([67, 69, 71, 72, 74, 76, 78].every((p) => inKey(p, g))).toBe(true);
    expect(inKey(68, g)).toBe(false); // G#
    expect(inKey(77, g)).toBe(false); // F natural
    const dorian = parseKeyName('Ador')!;
    expect(inKey(66, dorian)).toBe(true); // F# in A dorian
    expect(inKey(65, dorian)).toBe(false);
  });

  it('infers the key from what sounds, and from a tune’s bars as well as its K: names it', () => {
    const weights = new Array<number>(12).fill(0);
    for (const pc of [7, 11, 2, 7, 11, 2, 0, 4, 7, 2, 6, 9, 7]) weights[pc] = (weights[pc] as number) + 1;
    expect(keyName(inferKey(weights)!)).toBe('G');
    expect(inferKey(new Array(12).fill(0))).toBeNull();
    // Nottingham's tunes name their key; inferred from the bars alone, most tunes agree
    const { corpora } = readLeadSheets(readFileSync('data/nottingham/jigs.abc', 'utf8'), 'jigs.abc');
    const agree = corpora.filter((c) => {
      const k = soundingKey(c.bars, c.barLength);
      return k.tonic === c.key.tonic;
    }).length;
    expect(agree / corpora.length).toBeGreaterThan(0.7);
  });

  it('decodes a scale or approach tone in the key where the bracket allows, and keeps chord tones', () => {
    const em = analyzeChord(voiceChord('Em'));
    const g = parseKeyName('G')!;
    const range = { low: 55, high: 84 };
    // from E (64), an approach tone between a tone below and a tone above: D# (63) or F (65) are
    // approach tones of Em; in G only D# would be outside the key — both fit the chord's approach rule
    let outside = 0;
    let outsideNoKey = 0;
    for (let s = 0; s < 200; s++) {
      for (const type of ['S', 'A', 'X'] as const) {
        const token = { type, dur: 6, bracket: { up: 'M3', lo: 'M-3' } };
        const withKey = decodeToken(token, { prev: 67, chord: em, range, rng: createRng(s), key: g })!;
        const without = decodeToken(token, { prev: 67, chord: em, range, rng: createRng(s) })!;
        if (!inKey(withKey.midi, g) && !em.pitchClasses.has(withKey.midi % 12)) outside++;
        if (!inKey(without.midi, g) && !em.pitchClasses.has(without.midi % 12)) outsideNoKey++;
      }
      const chordTone = decodeToken(
        { type: 'C', dur: 6, bracket: { up: 'P5', lo: 'P-5' } },
        { prev: 67, chord: em, range, rng: createRng(s), key: g },
      )!;
      expect(classifyNote(chordTone.midi, em)).toBe('C');
    }
    expect(outsideNoKey).toBeGreaterThan(0); // without a key, G#, C# and the like come up
    expect(outside).toBe(0);
  });

  it('takes a leadsheet’s K: line and refuses one that names no key, with the line', () => {
    const dir = tempDir('leadsheet-key');
    const ok = join(dir, 'waltz.txt');
    writeFileSync(ok, '# a waltz\nK: Em\nEm | Am | B7 | Em\n');
    expect(readLeadsheet(ok)).toEqual({ chords: 'Em | Am | B7 | Em', key: 'Em' });
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, 'G C\nK: Q\n');
    expect(() => readLeadsheet(bad)).toThrow(/bad\.txt: line 2: K: Q is not a key/);
  });
});

describe('lookback', () => {
  const meter = meterOf(4, 4);
  const c = analyzeChord(voiceChord('C'));
  const at = (cond: Conditioner, t: number): Record<string, number> => {
    const v = cond.at(t, c, meter);
    return Object.fromEntries(cond.features.map((f, i) => [f, v[i] as number]));
  };

  it('hears what was played a bar, two bars and a phrase ago at the same place, and whether the line repeats it', () => {
    const cond = new Conditioner();
    // bar 0: C4 (60) a quarter, E (64) a quarter, G (67) a half
    const bar = [
      [0, 12, 60],
      [12, 12, 64],
      [24, 24, 67],
    ] as const;
    for (const [t, dur, midi] of bar) {
      at(cond, t);
      cond.hear(t, dur, midi, meter);
    }
    const one = at(cond, 48 + 12);
    expect(one.lookback_bar1_onset).toBe(1); // E started at 12
    expect(one.lookback_bar1_interval).toBeCloseTo(4 / 12, 6);
    expect(one.lookback_bar1_length).toBeCloseTo(12 / 12 / 4, 6);
    expect(one.lookback_bar2_onset).toBe(0); // nothing two bars before
    expect(at(cond, 48 + 6).lookback_bar1_onset).toBe(0); // nothing started at 6
    // bar 1 restates bar 0 a fifth down... its first note repeats nothing (the interval from G differs)
    cond.hear(48, 12, 53, meter);
    expect(at(cond, 60).lookback_bar1_repeating).toBe(0);
    cond.hear(60, 12, 57, meter); // F→A: up 4, a quarter, as E was: the line repeats bar 0
    expect(at(cond, 72).lookback_bar1_repeating).toBe(1);
    // a phrase (4 bars) on, bar 0 is heard through the phrase lookback
    for (let t = 72; t < 4 * 48; t += 24) cond.hear(t, 24, 62, meter);
    expect(at(cond, 4 * 48 + 12).lookback_phrase_onset).toBe(1);
    expect(at(cond, 4 * 48 + 12).lookback_phrase_interval).toBeCloseTo(4 / 12, 6);
  });

  it('forgets the line past a phrase and a bar, and keeps the key across a reset', () => {
    const cond = new Conditioner();
    cond.setKey(parseKeyName('G'));
    for (let t = 0; t < 48 * 50; t += 12) cond.hear(t, 12, 60 + ((t / 12) % 5), meter);
    expect((cond.state().heard ?? []).length).toBeLessThanOrEqual(6 * 4);
    cond.reset();
    expect(cond.state().heard).toEqual([]);
    expect(keyName(cond.musicalKey!)).toBe('G');
  });

  it('hears the key relative to the chord root: over C in G, the tonic is a fifth up and F# is in the scale', () => {
    const cond = new Conditioner();
    cond.setKey(parseKeyName('G'));
    const v = at(cond, 0);
    expect(v.key_tonic_7).toBe(1);
    expect(v.key_scale_6).toBe(1); // F# above C
    expect(v.key_scale_5).toBe(0); // F
  });

  it('computes exactly the features a bundle lists, in its order, so older bundles keep their inputs', () => {
    expect(featuresOf([])).toEqual(PLACE_FEATURES);
    expect(featuresOf(['lookback', 'key'])).toEqual(CONDITION_FEATURES);
    expect(featuresOf(['lookback'])).toEqual([...PLACE_FEATURES, ...LOOKBACK_FEATURES]);
    const old = new Conditioner(PLACE_FEATURES);
    const all = new Conditioner();
    all.setKey(parseKeyName('C'));
    const a = old.at(18, c, meter);
    const b = all.at(18, c, meter);
    expect(Array.from(a)).toEqual(Array.from(b.subarray(0, PLACE_FEATURES.length)));
    expect(
      Array.from(b.subarray(PLACE_FEATURES.length, PLACE_FEATURES.length + KEY_FEATURES.length)).some(
        (x) => x,
      ),
    ).toBe(true);
    expect(() => new Conditioner(['chord_pc_0', 'no_such_feature'])).toThrow(
      /unknown conditioning feature 'no_such_feature'/,
    );
    expect(featureGroups('key, lookback')).toEqual(['key', 'lookback']);
    expect(featureGroups('none')).toEqual([]);
    expect(() => featureGroups('key,colour')).toThrow(/expected none or some of key, lookback/);
  });

  it('gives a tune’s restated bar the lookback of the bar it restates (bars taken as written, parts running on)', () => {
    const tune = 'X:1\nM:4/4\nL:1/8\nK:G\n"G"GABc d2B2|"D"A2F2 D4|"G"GABc d2B2|"D"A2F2 G4|\n';
    const [corpus] = readLeadSheets(tune, 't.abc').corpora;
    const rows = corpusConditions(corpus!);
    const W = CONDITION_FEATURES.length;
    const f = (k: number, name: string): number => rows[k * W + CONDITION_FEATURES.indexOf(name)] as number;
    // bar 3's tokens are 11..16 (bars of 6, 3, 6); its second note (A after G) restates bar 1's
    expect(f(0, 'lookback_bar2_onset')).toBe(0);
    expect(f(10, 'lookback_bar2_onset')).toBe(1);
    expect(f(10, 'lookback_bar2_interval')).toBeCloseTo(2 / 12, 6);
    expect(f(11, 'lookback_bar2_repeating')).toBe(1);
    expect(f(0, 'key_tonic_0')).toBe(1); // G over G
  });
});

describe('call and response figures', () => {
  it('counts three-interval patterns wherever they lie, and pitch-class closeness', () => {
    expect(intervalPatterns([60, 62, 64, 65, 67])).toEqual(['2,2,1', '2,1,2']);
    expect(motifShare([72, 74, 76, 77], [60, 62, 64, 65, 67])).toBe(1); // the motif moved up an octave
    expect(motifShare([60, 59, 57, 55], [60, 62, 64, 65])).toBe(0);
    expect(motifShare([60, 62], [60, 62, 64, 65])).toBe(0);
    expect(pitchClassCloseness([60, 64, 67], [72, 76, 79])).toBeCloseTo(1, 9);
    expect(pitchClassCloseness([60, 64, 67], [61, 63, 66])).toBeCloseTo(0, 9);
  });

  it('finds answers that echo their own call significant, and unrelated ones not', () => {
    const rng = createRng(1);
    const calls = Array.from({ length: 10 }, (_, i) =>
      Array.from({ length: 8 }, (_, k) => 60 + ((i * 3 + k * (i + 1)) % 12)),
    );
    const echoes = calls.map((c) => c.map((p) => p + 12));
    const echoed = pairedTest(calls, echoes, motifShare, rng, 500);
    expect(echoed.own).toBe(1);
    expect(echoed.others).toBeLessThan(0.5);
    expect(echoed.p).toBeLessThan(0.01);
    const shuffled = pairedTest(calls, [...echoes.slice(1), echoes[0]!], motifShare, rng, 500);
    expect(shuffled.p).toBeGreaterThan(0.05);
  });
});

describe('meter of a grammar bundle', () => {
  it('reads a time signature from the bar and the beat', () => {
    expect(bundleMeter(48, 12)).toEqual({ numerator: 4, denominator: 4 });
    expect(bundleMeter(36, 12)).toEqual({ numerator: 3, denominator: 4 });
    expect(bundleMeter(36, 18)).toEqual({ numerator: 6, denominator: 8 });
    expect(bundleMeter(54, 18)).toEqual({ numerator: 9, denominator: 8 });
    expect(bundleMeter(48, 24)).toEqual({ numerator: 2, denominator: 2 });
    expect(bundleMeter(48, undefined)).toEqual({ numerator: 4, denominator: 4 });
  });
});

describe('a grammar model that hears key and lookback', () => {
  it('trains with the features asked for, and its improviser hears a call through lookback and answers in the inferred key', async () => {
    await selectBackend('cpu');
    const dir = tempDir('lookback-train');
    const file = join(dir, 'tunes.abc');
    writeFileSync(file, readFileSync('data/nottingham/slip.abc', 'utf8'));
    const common = {
      data: [file],
      profile: 'full' as const,
      units: 16,
      layers: 1,
      dropout: 0,
      epochs: 1,
      learningRate: 0.01,
      batchSize: 16,
      sequenceLength: 32,
      stride: 8,
      validation: 0.2,
      seed: 3,
      resume: false,
      progress: false,
      log: () => undefined,
    };
    const manifest = await trainJazz({ ...common, out: join(dir, 'all') });
    expect(manifest.conditioning?.features).toEqual(CONDITION_FEATURES);
    const keyOnly = await trainJazz({ ...common, out: join(dir, 'key'), features: ['key'] });
    expect(keyOnly.conditioning?.features).toEqual([...PLACE_FEATURES, ...KEY_FEATURES]);
    const session = await LstmSession.load(join(dir, 'all'));
    expect(session.conditionFeatures).toEqual(CONDITION_FEATURES);
    const chords = [{ onset: 0, analysis: analyzeChord(voiceChord('Em')) }];
    const improviser = new JazzImproviser(
      session,
      createRng(2),
      { temperature: 1, topK: 0, topP: 1 },
      { low: 55, high: 84 },
      meterOf(9, 8),
    );
    improviser.reset();
    // a call in E minor over Em: E G B, F# A ...
    const call = [64, 67, 71, 66, 69, 64, 67, 71, 64].map((midi, i) => ({ start: i * 6, dur: 6, midi }));
    await improviser.listen(call, () => chords[0]!.analysis, 54);
    expect(keyName(improviser.key!)).toMatch(/^(Em|G)$/);
    const played = await improviser.play(2 * 54, 4 * 54, () => chords[0]!.analysis);
    expect(played.notes.length).toBeGreaterThan(0);
    for (const n of played.notes)
      expect(inKey(n.midi, improviser.key!) || chords[0]!.analysis.pitchClasses.has(n.midi % 12)).toBe(true);
    // the snapshot holds the line's past and the key: restored, the argmax draw plays the same tokens
    improviser.sampler = { temperature: 0, topK: 0, topP: 1 };
    const snap = improviser.snapshot();
    const a = await improviser.play(4 * 54, 6 * 54, () => chords[0]!.analysis);
    improviser.restore(snap);
    const b = await improviser.play(4 * 54, 6 * 54, () => chords[0]!.analysis);
    expect(b.tokens).toEqual(a.tokens);
    await session.dispose();
  }, 120_000);
});

describe('chords for a melody that has none', () => {
  it('harmonizes a melody with the key’s triads, keeping a chord over its notes and ending at home', () => {
    const g = parseKeyName('G')!;
    // bar 1 outlines G, bar 2 D (D F# A), bar 3 C (C E G), bar 4 ends on G
    const bars = [
      [67, 71, 74, 71],
      [74, 66, 69, 66],
      [72, 76, 79, 76],
      [71, 69, 67, 67],
    ];
    const notes = bars.flatMap((b, i) => b.map((midi, k) => ({ start: i * 36 + k * 9, dur: 9, midi })));
    const segments = bars.map((_, i) => ({ start: i * 36, end: (i + 1) * 36 }));
    expect(harmonize(notes, segments, g).map((c) => c.symbol)).toEqual(['G', 'D', 'C', 'G']);
    // a G-signature tune that ends on E is in E minor: its chords come from E minor
    const minor = harmonize(
      [64, 67, 71, 67, 62, 66, 69, 66, 64, 67, 64, 64].map((midi, k) => ({ start: k * 12, dur: 12, midi })),
      [0, 48, 96].map((s) => ({ start: s, end: s + 48 })),
      g,
    );
    expect(minor[minor.length - 1]?.symbol).toBe('Em');
    expect(chordSegments([{ start: 0, end: 48 }], { numerator: 4, denominator: 4 })).toHaveLength(2);
    expect(chordSegments([{ start: 0, end: 36 }], { numerator: 6, denominator: 8 })).toHaveLength(1);
  });

  it('gives chordless tunes in the asked meters inferred chords, and leaves the others out', () => {
    const text =
      'X:1\nM:3/4\nL:1/8\nK:G\nG2B2d2|c2e2g2|d2f2a2|g6|\n\nX:2\nM:4/4\nL:1/8\nK:G\nGABc d2B2|g8|\n';
    expect(() => readLeadSheets(text, 'w.abc')).toThrow(/no tune with a meter, notes and chord symbols/);
    const { corpora, stats } = readLeadSheets(text, 'w.abc', { harmonize: ['3/4'] });
    expect(stats.harmonized).toBe(1);
    expect(corpora).toHaveLength(1);
    expect(corpora[0]?.barLength).toBe(36);
    expect(corpora[0]?.bars.map((b) => (b.chords[0]?.pitches[0] ?? 0) % 12)).toEqual([7, 0, 2, 7]); // G C D G
    expect(() => meterList('3/4,waltz')).toThrow(/expected meters such as 3\/4,6\/8, or all/);
  });
});

describe('an answer that says something', () => {
  it('a one-beat answer from the jazz model (which knows rests as long as a bar) always sounds a note; without the rule some are silent', async () => {
    const session = await LstmSession.load('models/jazz');
    try {
      const dm7 = analyzeChord(voiceChord('Dm7'));
      const { melodyRange } = session.manifest.jazz!;
      // a call of four quarters over Dm7 (D F A C), then an answer of one beat (a rest of any length fills it), forty times from a fresh state
      const call = [62, 65, 69, 72].map((midi, i) => ({ start: i * 12, dur: 12, midi }));
      const silent = async (keepsSounding: boolean): Promise<number> => {
        let n = 0;
        for (let seed = 1; seed <= 40; seed++) {
          const improviser = new JazzImproviser(
            session,
            createRng(seed),
            { temperature: 1, topK: 0, topP: 1 },
            { low: melodyRange[0], high: melodyRange[1] },
          );
          improviser.keepsSounding = keepsSounding;
          improviser.reset();
          await improviser.listen(call, () => dm7, 48);
          const played = await improviser.play(48, 60, () => dm7, true);
          if (played.notes.length === 0) n++;
        }
        return n;
      };
      expect(await silent(true)).toBe(0);
      expect(await silent(false)).toBeGreaterThan(0); // the premise: the model alone does answer with silence
    } finally {
      await session.dispose();
    }
  }, 120_000);
});

describe('a new improviser', () => {
  it.each(['models/folk', 'models/abc'])(
    '%s: starts from a fresh state on a session another improviser played (as after a reload)',
    async (bundle) => {
      const session = await LstmSession.load(bundle);
      try {
        const em = analyzeChord(voiceChord('Em'));
        const make = () =>
          improviserFor(
            session,
            createRng(3),
            { temperature: 1, topK: 0, topP: 1 },
            { low: 55, high: 84 },
            { numerator: 4, denominator: 4 },
            null,
          );
        const line = async () =>
          (await make().play(0, 4 * 48, () => em, true)).notes.map((n) => [n.start, n.dur, n.midi]);
        const fresh = await line();
        // another improviser hears a call and answers: the session's state is now its conversation's
        const other = make();
        await other.listen(
          [64, 67, 71, 66].map((midi, i) => ({ start: i * 12, dur: 12, midi })),
          () => em,
          48,
        );
        await other.play(48, 96, () => em, true);
        // a new one on that session plays what a new one on a fresh session played
        expect(await line()).toEqual(fresh);
      } finally {
        await session.dispose();
      }
    },
    120_000,
  );
});
