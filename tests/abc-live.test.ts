import { describe, expect, it } from 'vitest';
import { readAbc } from '../src/music/abc/reader.ts';
import { AbcImproviser, phraseToAbc } from '../src/model/abcImproviser.ts';
import { snapshotOf } from '../src/model/jazzImproviser.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { analyzeChord } from '../src/music/chord.ts';
import { createRng } from '../src/music/rng.ts';
import { hanging, liveHarness, noteOns } from './liveHarness.ts';

describe('a played phrase written as ABC', () => {
  it('writes notes, rests, bar lines and the accidentals a bar needs', () => {
    // twelfths: an eighth is 6; bar of 4/4 is 48
    const abc = phraseToAbc(
      [
        { start: 0, dur: 6, midi: 66 }, // F#4
        { start: 6, dur: 6, midi: 65 }, // F4 after F# in the same bar needs =
        { start: 18, dur: 12, midi: 72 }, // c, after an eighth rest
        { start: 30, dur: 3, midi: 55 }, // G3 sixteenth
        { start: 48, dur: 6, midi: 77 }, // next bar: f
      ],
      48,
    );
    expect(abc).toBe('^F=Fzc2G,/z5/2|f'); // 33 → 48 is a rest of 15 twelfths = 5/2 eighths
  });

  it('reads back as the same pitches and times through the streaming reader', () => {
    const played = [62, 64, 66, 67, 69, 71, 73, 74].map((midi, i) => ({ start: i * 6, dur: 6, midi }));
    const abc = phraseToAbc(played, 48);
    const { events } = readAbc(`X:1\nM:4/4\nL:1/8\nK:C\n${abc}|\n`);
    const notes = events.flatMap((e) => (e.type === 'note' ? [[e.pitch, e.start * 12]] : []));
    expect(notes).toEqual(played.map((p) => [p.midi, p.start]));
  });
});

describe('the tune as notation', () => {
  it('labels the call and the answer, each turn, and still reads as the same music', async () => {
    const session = await LstmSession.load('models/abc');
    try {
      const abc = new AbcImproviser(session, createRng(3), { temperature: 1, topK: 0, topP: 1 });
      const chordAt = () => analyzeChord([60, 64, 67]);
      const call = [62, 64, 66, 67].map((midi, i) => ({ start: i * 6, dur: 6, midi }));
      for (let turn = 0; turn < 2; turn++) {
        await abc.listen(call, chordAt, 48);
        await abc.play(96 * (turn + 1), 96 * (turn + 1) + 48, chordAt);
      }
      const tune = abc.tune;
      const labels = [...tune.matchAll(/"\^(you|improviser)"/g)].map((m) => m[1]);
      expect(labels).toEqual(['you', 'improviser', 'you', 'improviser']);
      // the call's notes follow its label
      expect(tune).toContain(`"^you"${phraseToAbc(call, 48)}|`);
      // annotations are not music: the same notes with and without them
      const plain = tune.replace(/"\^(you|improviser)"/g, '');
      const notes = (text: string) =>
        readAbc(text).events.flatMap((e) => (e.type === 'note' ? [[e.pitch, e.start]] : []));
      expect(notes(tune)).toEqual(notes(plain));
      expect(notes(tune).length).toBeGreaterThan(8);
    } finally {
      await session.dispose();
    }
  });
});

describe('the char model in the live engine', () => {
  const call: [number, number, number][] = [
    [62, 0, 240],
    [66, 250, 240],
    [69, 500, 240],
    [74, 750, 200],
  ];

  it('answers a call inside the answer window, and no note hangs', async () => {
    const h = await liveHarness({ models: ['models/abc'] });
    await h.play(call);
    await h.run(4000);
    const start = h.live.engine.stats.lastResponseStart as number;
    const ons = noteOns(h.out);
    expect(h.live.engine.stats.responses).toBe(1);
    expect(ons.length).toBeGreaterThan(0);
    expect(ons.every((o) => o.time >= start && o.time < h.live.engine.quietAt)).toBe(true);
    await h.close();
    expect(hanging(h.out)).toBe(0);
  });

  it('the model CC switches between a jazz and an ABC bundle', async () => {
    const h = await liveHarness({ models: ['models/jazz', 'models/abc'] });
    await h.send([0xb0, 21, 127]);
    expect(h.live.engine.model).toBe(1);
    await h.play(call);
    await h.run(4000);
    expect(noteOns(h.out).length).toBeGreaterThan(0);
    await h.close();
    expect(hanging(h.out)).toBe(0);
  });

  it('MUTATE after the model CC switched models: the new model answers the call, nothing fails', async () => {
    const h = await liveHarness({ models: ['models/jazz', 'models/abc'] });
    await h.play(call);
    await h.run(4000);
    expect(h.live.engine.stats.responses).toBe(1);
    await h.send([0xb0, 21, 127]); // to the ABC model, which cannot go back to the jazz model's state
    await h.send([0xb0, 23, 127]); // MUTATE
    await h.run(4000);
    expect(h.live.stats.failures).toBe(0);
    expect(h.live.engine.stats.responses).toBe(2);
    await h.close();
    expect(hanging(h.out)).toBe(0);
  });
});

describe('improviser snapshots', () => {
  it('are tagged with their kind, and one of another kind is refused', async () => {
    const session = await LstmSession.load('models/abc');
    try {
      const abc = new AbcImproviser(session, createRng(1), { temperature: 1, topK: 0, topP: 1 });
      const snap = abc.snapshot();
      expect(snap.kind).toBe('abc');
      abc.restore(snap);
      expect(() => snapshotOf(snap, 'grammar')).toThrow(
        'a grammar improviser cannot restore an abc snapshot',
      );
    } finally {
      await session.dispose();
    }
  });
});
