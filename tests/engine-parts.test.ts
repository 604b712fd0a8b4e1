import { describe, expect, it } from 'vitest';
import { answerSpan, CallCapture, clipTo } from '../src/live/callCapture.ts';
import { CcMap, DEFAULT_CC_MAP, TEMPO_CC_BASE } from '../src/live/ccMap.ts';
import { VirtualClock } from '../src/midi/clock.ts';
import { ENGINE_MODES } from '../src/live/engine.ts';
import { LeftHand } from '../src/live/leftHand.ts';
import { Timeline } from '../src/live/timeline.ts';

describe('the transport (Timeline)', () => {
  it('maps clock time to twelfths and back at the tempo', () => {
    const clock = new VirtualClock(1000);
    const t = new Timeline(clock, 120);
    expect(t.twelfthsAt(1000)).toBe(0);
    expect(t.twelfthsAt(1500)).toBeCloseTo(12, 9); // a quarter at 120 BPM is 500 ms
    expect(t.msAt(24)).toBeCloseTo(2000, 9);
    expect(t.beatsIn(1500)).toBeCloseTo(3, 9);
  });

  it('a tempo change keeps the position now; a follow re-anchors; a jump moves the position', () => {
    const clock = new VirtualClock(0);
    const t = new Timeline(clock, 120);
    clock.advance(1000); // two beats in
    t.setTempo(60);
    expect(t.twelfthsAt(1000)).toBeCloseTo(24, 9);
    expect(t.twelfthsAt(2000)).toBeCloseTo(36, 9); // one beat a second now
    t.follow(100, 48, 1200); // an outside clock: beat 4 fell at 1.2 s, at 100 BPM
    expect(t.tempo).toBe(100);
    expect(t.twelfthsAt(1200)).toBeCloseTo(48, 9);
    expect(t.twelfthsAt(1800)).toBeCloseTo(60, 9);
    t.jump(0);
    expect(t.twelfthsAt(clock.now())).toBeCloseTo(0, 9);
  });

  it('is set only within 20–400, follows an outside clock anywhere Link goes (20–999), and ignores a stray reading', () => {
    const clock = new VirtualClock(0);
    const t = new Timeline(clock, 120);
    t.setTempo(500);
    t.follow(10, 0, 0);
    t.follow(1500, 0, 0);
    expect(t.tempo).toBe(120);
    expect(t.twelfthsAt(500)).toBeCloseTo(12, 9);
    expect(() => new Timeline(clock, 0)).toThrow(RangeError);
    // a Link session at 450 BPM: beat 8 fell at 2 s; the rig is on its beat and phase
    t.follow(450, 96, 2000);
    expect(t.tempo).toBe(450);
    expect(t.twelfthsAt(2000)).toBeCloseTo(96, 9);
    expect(t.twelfthsAt(2000 + 60_000 / 450)).toBeCloseTo(108, 9);
  });
});

describe("the player's call (CallCapture)", () => {
  const beats = (ms: number): number => ms / 500; // 120 BPM

  it('ends after a silence with nothing held, not while a key is down', () => {
    const c = new CallCapture();
    expect(c.over(0, beats, 1.5, 16)).toBe(false); // nothing played yet
    c.press(60, 0);
    c.release(60, 200);
    c.press(64, 250);
    expect(c.over(2000, beats, 1.5, 16)).toBe(false); // 64 is still held
    c.release(64, 2000);
    expect(c.over(2700, beats, 1.5, 16)).toBe(false); // 0.7 s of silence: 1.4 beats
    expect(c.over(2750, beats, 1.5, 16)).toBe(true);
  });

  it('ends at the longest call even with a key held, and a take closes the held notes at its time', () => {
    const c = new CallCapture();
    c.press(60, 0);
    expect(c.over(3999, beats, 1.5, 8)).toBe(false);
    expect(c.over(4000, beats, 1.5, 8)).toBe(true);
    expect(c.take(4000)).toEqual([{ start: 0, dur: 4000, midi: 60, role: 'call' }]);
    expect(c.empty).toBe(true);
  });

  it('ignores a release of a key it never saw pressed', () => {
    const c = new CallCapture();
    c.release(62, 100);
    expect(c.empty).toBe(true);
    c.press(62, 200);
    c.release(62, 300);
    c.release(62, 400);
    expect(c.take(500)).toEqual([{ start: 200, dur: 100, midi: 62, role: 'call' }]);
  });
});

describe('where an answer goes (answerSpan, clipTo)', () => {
  const q = 12; // twelfths in a quarter
  it('starts on the next beat with room to schedule, and lasts as long as the call in whole beats', () => {
    const call = [
      { start: 0, dur: 5 },
      { start: 6, dur: 14 }, // ends at 20: a beat and two thirds
    ];
    expect(answerSpan(call, 20, 0, 48)).toEqual({ from: 24, length: 2 * q });
    expect(answerSpan(call, 23.5, 0, 48).from).toBe(36); // less than a twelfth before the beat: the next
    expect(answerSpan([{ start: 0, dur: 1 }], 1, 0, 48).length).toBe(q); // a beat at least
    expect(answerSpan(call, 20, 2, 36)).toEqual({ from: 24, length: 72 }); // two 3/4 bars
  });

  it('clips what the model played to the span', () => {
    const notes = [
      { start: 0, dur: 6, midi: 60 },
      { start: 20, dur: 12, midi: 62 },
      { start: 24, dur: 3, midi: 64 },
    ];
    expect(clipTo(notes, 24)).toEqual([
      { start: 0, dur: 6, midi: 60 },
      { start: 20, dur: 4, midi: 62 },
    ]);
  });
});

describe("follow mode's left hand (LeftHand)", () => {
  it('makes a chord from two pitch classes or more, and keeps it when the keys are let go', () => {
    const h = new LeftHand();
    h.press(48);
    expect(h.chord).toBeNull(); // one pitch class is no chord
    h.press(52);
    h.press(55);
    const c = h.chord;
    expect(c?.pitches).toEqual([48, 52, 55]);
    h.release(48);
    h.release(52);
    h.release(55);
    expect(h.chord).toBe(c);
    h.press(50);
    h.press(53);
    expect(h.chord?.pitches).toEqual([50, 53]);
  });
});

describe('the CC map (CcMap)', () => {
  const cc = (): CcMap => new CcMap({}, ENGINE_MODES);

  it('reads each control from its default CC', () => {
    const m = cc();
    expect(m.read(DEFAULT_CC_MAP.temperature, 127, 2)).toEqual({
      kind: 'control',
      control: { temperature: 2 },
    });
    expect(m.read(DEFAULT_CC_MAP.temperature, 0, 2)).toEqual({
      kind: 'control',
      control: { temperature: 0.05 },
    });
    expect(m.read(DEFAULT_CC_MAP.model, 127, 2)).toEqual({ kind: 'control', control: { model: 1 } });
    expect(m.read(DEFAULT_CC_MAP.model, 0, 2)).toEqual({ kind: 'control', control: { model: 0 } });
    expect(m.read(DEFAULT_CC_MAP.mode, 127, 1)).toEqual({ kind: 'control', control: { mode: 'follow' } });
    expect(m.read(DEFAULT_CC_MAP.mode, 50, 1)).toEqual({ kind: 'control', control: { mode: 'solo' } });
    expect(m.read(DEFAULT_CC_MAP.tempo, 60, 1)).toEqual({
      kind: 'control',
      control: { bpm: TEMPO_CC_BASE + 60 },
    });
    expect(m.read(DEFAULT_CC_MAP.length, 40, 1)).toEqual({ kind: 'control', control: { responseBars: 3 } });
    expect(m.read(99, 127, 1)).toBeNull();
  });

  it('buttons act when pressed (value ≥ 64) and not when released', () => {
    const m = cc();
    expect(m.read(DEFAULT_CC_MAP.panic, 127, 1)).toEqual({ kind: 'control', control: { panic: true } });
    expect(m.read(DEFAULT_CC_MAP.stop, 127, 1)).toEqual({ kind: 'control', control: { stop: true } });
    expect(m.read(DEFAULT_CC_MAP.stop, 0, 1)).toEqual({ kind: 'control', control: { stop: false } });
    expect(m.read(DEFAULT_CC_MAP.panic, 0, 1)).toBeNull();
    expect(m.read(DEFAULT_CC_MAP.mutate, 64, 1)).toEqual({ kind: 'mutate' });
    expect(m.read(DEFAULT_CC_MAP.mutate, 63, 1)).toBeNull();
    expect(m.read(DEFAULT_CC_MAP.endCall, 100, 1)).toEqual({ kind: 'endCall' });
  });

  it('a remap moves a control; learn takes the next CC for the control, once', () => {
    const m = new CcMap({ panic: 120 }, ENGINE_MODES);
    expect(m.read(120, 127, 1)).toEqual({ kind: 'control', control: { panic: true } });
    expect(m.read(DEFAULT_CC_MAP.panic, 127, 1)).toBeNull();
    m.learn('temperature');
    expect(m.read(70, 5, 1)).toEqual({ kind: 'learned', action: 'temperature', controller: 70 });
    expect(m.map.temperature).toBe(70);
    expect(m.read(70, 127, 1)).toEqual({ kind: 'control', control: { temperature: 2 } });
  });
});
