import { describe, expect, it } from 'vitest';
import { analyzeChord, classifyNote } from '../src/music/chord.ts';
import { createRng } from '../src/music/rng.ts';
import { MidiStreamParser } from '../src/midi/messages.ts';
import { buildRig } from '../src/live/rig.ts';
import { parseSetup } from '../src/live/setup.ts';
import { openInput, openOutput, PortError } from '../src/midi/ports.ts';
import { VirtualClock } from '../src/midi/clock.ts';
import { STATE_CC } from '../src/live/engine.ts';
import { JazzImproviser, snapshotOf } from '../src/model/jazzImproviser.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { parseProgression } from '../src/music/chordSymbols.ts';
import { advance, hanging, liveHarness, noteOns } from './liveHarness.ts';

const BEAT = 500; // ms at 120 BPM
const twoBeatCall: [number, number, number][] = [
  [62, 0, 240],
  [65, 250, 240],
  [69, 500, 240],
  [72, 750, 200],
];
const fourBeatCall: [number, number, number][] = [
  [62, 0, 200],
  [64, 250, 200],
  [65, 500, 200],
  [67, 750, 200],
  [69, 1000, 450],
  [71, 1500, 200],
  [72, 1750, 200],
  [74, 1950, 30],
];

describe('call and response', () => {
  it('answers a phrase on the output inside the expected musical window', async () => {
    const h = await liveHarness({ stateCc: STATE_CC });
    await h.play(twoBeatCall);
    const lastOff = h.clock.now();
    await h.run(4000);
    const ons = noteOns(h.out);
    expect(ons.length).toBeGreaterThan(0);
    const first = ons[0]?.time as number;
    const start = h.live.engine.stats.lastResponseStart as number;
    // the call ends after 1.5 beats of silence; the answer starts on one of the next two beats
    expect(start % BEAT).toBe(0);
    expect(start).toBeGreaterThanOrEqual(lastOff + 1.5 * BEAT);
    expect(start).toBeLessThanOrEqual(lastOff + 1.5 * BEAT + 2 * BEAT);
    expect(first).toBeGreaterThanOrEqual(start);
    const states = h.out
      .filter((o) => o.message.type === 'cc' && o.message.controller === STATE_CC)
      .map((o) => (o.message as { value: number }).value);
    expect(states).toEqual([64, 127, 0]); // listening, responding, idle
    await h.close();
    expect(hanging(h.out)).toBe(0);
  });

  it('says the answer is over when its last note ends, not when its window closes', async () => {
    const h = await liveHarness({ stateCc: STATE_CC, responseBars: 4 });
    // an answer of one short note in a four-bar window
    const improviser = h.live.engine.improviser;
    const play = improviser.play.bind(improviser);
    improviser.play = async (...args) => {
      const r = await play(...args);
      return { ...r, notes: r.notes.slice(0, 1).map((n) => ({ ...n, dur: Math.min(n.dur, 6) })) };
    };
    await h.play(twoBeatCall);
    await h.run(8000);
    const ons = noteOns(h.out);
    expect(ons.length).toBe(1);
    const lastOff = h.out.filter((o) => o.message.type === 'noteoff').at(-1)?.time as number;
    const idle = h.out.filter(
      (o) => o.message.type === 'cc' && o.message.controller === STATE_CC && o.message.value === 0,
    );
    expect(idle.length).toBe(1);
    const idleAt = idle[0]?.time as number;
    // within a wake (25 ms) of the note's end, where the window's end is four bars (8 s) on
    expect(idleAt).toBeGreaterThanOrEqual(lastOff - 1);
    expect(idleAt - lastOff).toBeLessThanOrEqual(50);
    await h.close();
  });

  it('sends no state CC unless asked (--state-cc): a DAW take holds only notes', async () => {
    const h = await liveHarness();
    await h.play(twoBeatCall);
    await h.run(4000);
    expect(noteOns(h.out).length).toBeGreaterThan(0);
    // only the All Notes Off (CC 123) every start sends for safety: no state CC
    const ccs = h.out.flatMap((o) => (o.message.type === 'cc' ? [o.message.controller] : []));
    expect(ccs.length).toBeGreaterThan(0);
    expect(new Set(ccs)).toEqual(new Set([123]));
    await h.close();
  });

  it('answers as long as the call: a 2-beat call gets 2 beats, a 4-beat call 4', async () => {
    for (const [call, beats] of [
      [twoBeatCall, 2],
      [fourBeatCall, 4],
    ] as const) {
      const h = await liveHarness();
      await h.play(call);
      await h.run(6000);
      const start = h.live.engine.stats.lastResponseStart as number;
      const ons = noteOns(h.out);
      const offs = h.out.filter((o) => o.message.type === 'noteoff').map((o) => o.time);
      expect(ons.every((o) => o.time >= start && o.time < start + beats * BEAT)).toBe(true);
      expect(Math.max(...offs)).toBeLessThanOrEqual(start + beats * BEAT);
      expect(
        ons.some((o) => o.time >= start + (beats - 1) * BEAT || o.time >= start + beats * BEAT * 0.5),
      ).toBe(true);
      await h.close();
    }
  });

  it('carries the LSTM state from turn to turn: the second answer comes from a different state than a fresh session heard the call', async () => {
    const h = await liveHarness();
    await h.play(twoBeatCall);
    await h.run(3000);
    const firstAnswer = noteOns(h.out).map((o) => o.message.note);
    await h.play(twoBeatCall);
    await h.run(3000);
    const secondAnswer = noteOns(h.out)
      .slice(firstAnswer.length)
      .map((o) => o.message.note);
    const carried = snapshotOf(h.live.engine.improviser.snapshot(), 'grammar').session.h;
    await h.close();
    // a fresh session that hears the same call once
    const fresh = await LstmSession.load('models/jazz');
    const im = new JazzImproviser(
      fresh,
      createRng(10),
      { temperature: 1, topK: 0, topP: 0.95 },
      { low: 55, high: 84 },
    );
    const chords = parseProgression('Dm7 G7 Cmaj7 Cmaj7', 48);
    const chordAt = (): ReturnType<typeof analyzeChord> => analyzeChord(chords[0]?.[0]?.pitches ?? []);
    await im.listen(
      twoBeatCall.map(([midi, s, d]) => ({ start: (s / BEAT) * 12, dur: (d / BEAT) * 12, midi })),
      chordAt,
      48,
    );
    const freshH = snapshotOf(im.snapshot(), 'grammar').session.h;
    await fresh.dispose();
    expect(secondAnswer.length).toBeGreaterThan(0);
    expect(secondAnswer).not.toEqual(firstAnswer);
    expect(Array.from(carried)).not.toEqual(Array.from(freshH));
    expect(h.live.engine.stats.calls).toBe(2);
  });
});

describe('no hanging notes', () => {
  it('stopping the engine mid-answer releases every note and sends All Notes Off', async () => {
    const h = await liveHarness({ responseBars: 4 });
    await h.play(twoBeatCall);
    await h.run(2500); // the answer has begun
    expect(noteOns(h.out).length).toBeGreaterThan(0);
    expect(h.live.engine.currentState).toBe('responding');
    await h.close();
    expect(hanging(h.out)).toBe(0);
    expect(h.out.some((o) => o.message.type === 'cc' && o.message.controller === 123)).toBe(true);
  });

  it('the panic CC releases everything and stops: no answer until the STOP CC resumes', async () => {
    const h = await liveHarness({ responseBars: 4 });
    await h.play(twoBeatCall);
    await h.run(1200);
    await h.send([0xb0, 24, 127]); // panic
    await h.run(100);
    expect(h.live.sounding).toBe(0);
    expect(hanging(h.out)).toBe(0);
    expect(h.live.controls.values.stopped).toBe(true);
    const before = noteOns(h.out).length;
    await h.play(twoBeatCall); // stopped: the call is not heard, nothing answers
    await h.run(3000);
    expect(noteOns(h.out).length).toBe(before);
    await h.send([0xb0, 29, 0]); // STOP pedal up: resume
    expect(h.live.controls.values.stopped).toBe(false);
    await h.play(twoBeatCall);
    await h.run(3000);
    expect(noteOns(h.out).length).toBeGreaterThan(before);
    await h.close();
    expect(hanging(h.out)).toBe(0);
  });

  it('solo: STOP silences and holds (no new plan a moment later), resume plays on', async () => {
    const h = await liveHarness({ mode: 'solo' });
    await h.run(2000);
    expect(noteOns(h.out).length).toBeGreaterThan(0);
    h.live.controls.apply({ stop: true });
    await h.run(100);
    expect(h.live.sounding).toBe(0);
    const held = noteOns(h.out).length;
    await h.run(3000);
    expect(noteOns(h.out).length).toBe(held);
    h.live.controls.apply({ panic: true }); // a panic while stopped stays stopped
    h.live.controls.apply({ stop: false });
    await h.run(3000);
    expect(noteOns(h.out).length).toBeGreaterThan(held);
    await h.close();
    expect(hanging(h.out)).toBe(0);
  });
});

describe('follow the left hand', () => {
  it('notes below the split point become the chord the decoder plays against', async () => {
    const h = await liveHarness({ mode: 'follow', split: 60 });
    const cMajor = analyzeChord([48, 52, 55]);
    const fSharpMajor = analyzeChord([42, 46, 49]);
    // share of notes that have, against `chord`, the type their token asked for
    const fits = (notes: { midi: number; type: string }[], chord: ReturnType<typeof analyzeChord>): number =>
      notes.filter((n) => classifyNote(n.midi, chord) === n.type).length / Math.max(notes.length, 1);
    // play on under each chord until five notes have come (bounded by events, not by how fast the
    // model's lines happen to move: a line of long notes takes longer to reach five)
    const playUntil = async (count: () => number, from: number): Promise<void> => {
      await h.run(from);
      for (let i = 0; i < 60 && count() <= 4; i++) await h.run(500);
    };
    for (const n of [48, 52, 55]) await h.send([0x90, n, 80]);
    await playUntil(() => h.live.played.filter((p) => p.start > 1500).length, 4000);
    for (const n of [48, 52, 55]) await h.send([0x80, n, 0]);
    for (const n of [42, 46, 49]) await h.send([0x90, n, 80]);
    const switched = h.clock.now();
    // what was generated after the change
    await playUntil(() => h.live.played.filter((p) => p.start > switched + 2000).length, 4000);
    const played = h.live.played;
    const underC = played.filter((p) => p.start > 1500 && p.start < switched);
    const underFs = played.filter((p) => p.start > switched + 2000);
    await h.close();
    expect(underC.length).toBeGreaterThan(4);
    expect(underFs.length).toBeGreaterThan(4);
    expect(fits(underC, cMajor)).toBe(1);
    expect(fits(underFs, fSharpMajor)).toBe(1);
    expect(fits(underFs, cMajor)).toBeLessThan(0.6);
    expect(hanging(h.out)).toBe(0);
  });
});

describe('MIDI clock', () => {
  it('following incoming clock sets the tempo; Start/Stop start and stop output; SPP moves the position', async () => {
    const h = await liveHarness({ mode: 'solo', clock: 'follow' });
    await h.run(1000);
    expect(noteOns(h.out)).toHaveLength(0); // nothing before Start
    await h.send([0xfa]); // Start
    const period = 60_000 / 100 / 24; // 100 BPM
    for (let i = 0; i < 48; i++) {
      await h.send([0xf8]);
      h.clock.advance(period);
    }
    await h.run(50);
    expect(h.live.engine.tempo).toBeCloseTo(100, 0);
    await h.run(2000);
    expect(noteOns(h.out).length).toBeGreaterThan(0);
    await h.send([0xfc]); // Stop
    await h.run(50);
    const afterStop = noteOns(h.out).length;
    expect(h.live.sounding).toBe(0);
    await h.run(2000);
    expect(noteOns(h.out)).toHaveLength(afterStop);
    await h.send([0xf2, 32, 0]); // Song Position Pointer: 32 sixteenths = bar 3
    expect(h.live.engine.twelfthsAt(h.clock.now())).toBeCloseTo(96, 5);
    await h.close();
    expect(hanging(h.out)).toBe(0);
  });

  it('follows the beat, not only the tempo: locked to jittered ticks, and on after Stop, SPP and Continue', async () => {
    const h = await liveHarness({ mode: 'call-response', clock: 'follow' });
    const rng = createRng(5);
    const period = 60_000 / 123.4 / 24; // a tempo the engine does not start at
    let daw = 0; // the DAW's position in ticks
    const ticks = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const jitter = (rng.next() * 2 - 1) * 1; // ±1 ms, as a DAW's clock arrives
        h.clock.advance(period / 2 + jitter);
        await h.send([0xf8]);
        h.clock.advance(period / 2 - jitter);
        daw++;
      }
    };
    /** How far the engine's beat is from the DAW's, in ms, half a tick after the last one. */
    const phaseError = (): number =>
      Math.abs(h.live.engine.twelfthsAt(h.clock.now()) / 12 - (daw - 0.5) / 24) * ((24 * period) / 1);
    await h.send([0xfa]); // Start: the next tick is position 0
    await ticks(96); // four beats
    expect(h.live.engine.tempo).toBeCloseTo(123.4, 0);
    expect(phaseError()).toBeLessThan(2);
    await h.send([0xfc]); // Stop
    h.clock.advance(1500);
    await h.send([0xf2, 64, 0]); // Song Position Pointer: 64 sixteenths, bar 5
    daw = 64 * 6;
    h.clock.advance(700);
    await h.send([0xfb]); // Continue
    await ticks(48);
    expect(phaseError()).toBeLessThan(2); // was the time stopped, 2.2 s, before the beat followed the ticks
    await h.close();
  });

  it('leads: sends Start, 24 clocks per beat, and Stop', async () => {
    const h = await liveHarness({ mode: 'solo', clock: 'lead' });
    await h.run(1000);
    await h.close();
    const clocks = h.out.filter((o) => o.message.type === 'clock').length;
    expect(h.out.some((o) => o.message.type === 'start')).toBe(true);
    expect(h.out.some((o) => o.message.type === 'stop')).toBe(true);
    expect(clocks).toBeGreaterThanOrEqual(47);
    expect(clocks).toBeLessThanOrEqual(53); // 2 beats at 120 BPM, plus the lookahead
  });
});

describe('live controls over CC', () => {
  it('change temperature, model, mode and answer length; learn mode maps a new CC', async () => {
    const h = await liveHarness({ models: ['models/jazz', 'models/jazz'] });
    await h.send([0xb0, 20, 127]);
    expect(h.live.engine.improviser.sampler.temperature).toBeCloseTo(2, 5);
    await h.send([0xb0, 21, 127]);
    expect(h.live.engine.model).toBe(1);
    await h.send([0xb0, 21, 0]);
    expect(h.live.engine.model).toBe(0);
    h.live.engine.learn('temperature');
    await h.send([0xb0, 70, 64]); // the learnt CC
    expect(h.live.engine.ccMap.temperature).toBe(70);
    await h.send([0xb0, 70, 0]);
    expect(h.live.engine.improviser.sampler.temperature).toBeCloseTo(0.05, 5);
    await h.send([0xb0, 25, 127]); // mode → follow
    expect(h.live.engine.currentMode).toBe('follow');
    await h.send([0xb0, 22, 40]); // length → 3 bars, through the control surface like the others
    expect(h.live.controls.values.responseBars).toBe(3);
    await h.close();
  });
});

describe('a model that fails under a control', () => {
  it('MUTATE whose model call fails is counted and recovered from, not left to end the process', async () => {
    const h = await liveHarness({ mode: 'call-response' });
    await h.play(twoBeatCall);
    await h.run(4000);
    expect(h.live.engine.stats.responses).toBe(1);
    const [session] = h.sessions;
    if (!session) throw new Error('no model loaded');
    const broken = (): Promise<never> => Promise.reject(new Error('the model went away'));
    Object.assign(session, { step: broken, run: broken, prime: broken });
    await h.send([0xb0, 23, 127]); // MUTATE: answer the last call again, which needs the model
    await h.run(500);
    expect(h.live.stats.failures).toBe(1);
    expect(h.live.engine.currentState).toBe('idle');
    await h.close();
    expect(hanging(h.out)).toBe(0);
  });
});

describe('bad input', () => {
  it('an unknown port name is a clear error', () => {
    const clock = new VirtualClock();
    expect(() => openOutput('midi:Nowhere', { clock })).toThrow(PortError);
    expect(() => openInput('easymidi:No Such Keyboard', { clock })).toThrow(PortError);
  });

  it('garbage bytes are dropped and counted; a note-on flood is throttled and counted; nothing crashes', async () => {
    const clock = new VirtualClock();
    const listeners: ((m: import('../src/midi/messages.ts').MidiMessage) => void)[] = [];
    const parser = new MidiStreamParser();
    const fakeIn = {
      name: 'garbage',
      onMessage: (cb: (typeof listeners)[number]) => void listeners.push(cb),
      get dropped() {
        return parser.dropped;
      },
      close: () => Promise.resolve(),
    };
    const sent: unknown[] = [];
    const fakeOut = { name: 'out', send: (m: unknown) => void sent.push(m), close: () => Promise.resolve() };
    const rig = await buildRig(parseSetup({ chords: 'C7', topP: 1, maxNotesPerSecond: 100 }), {
      clock,
      input: fakeIn,
      output: fakeOut,
      log: () => undefined,
    });
    const live = rig.live;
    live.start();
    const rng = createRng(3);
    const deliver = (bytes: number[]): void =>
      parser.push(bytes).forEach((m) => listeners.forEach((cb) => cb(m)));
    deliver(Array.from({ length: 5000 }, () => rng.int(256)));
    for (let i = 0; i < 1000; i++) deliver([0x90, 40 + (i % 40), 100, 0x80, 40 + (i % 40), 0]);
    await advance(clock, 4000, () => live.engine.whenSettled());
    await rig.close();
    expect(parser.dropped).toBeGreaterThan(0);
    expect(live.stats.droppedIn).toBeGreaterThan(800);
    expect(live.sounding).toBe(0);
  });
});
