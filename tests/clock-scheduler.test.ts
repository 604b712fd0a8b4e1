import { describe, expect, it, vi } from 'vitest';
import { RealClock, VirtualClock } from '../src/midi/clock.ts';
import { RecentSamples } from '../src/live/stats.ts';
import { EventQueue } from '../src/midi/eventQueue.ts';
import type { EngineOutput } from '../src/live/engine.ts';
import { liveHarness } from './liveHarness.ts';

describe('virtual clock', () => {
  it('fires timers in time order, each at its own time, without sleeping', () => {
    const clock = new VirtualClock();
    const fired: [string, number][] = [];
    clock.setTimer(() => fired.push(['b', clock.now()]), 20);
    clock.setTimer(() => fired.push(['a', clock.now()]), 10);
    const c = clock.setTimer(() => fired.push(['c', clock.now()]), 15);
    clock.clearTimer(c);
    clock.setTimer(() => clock.setTimer(() => fired.push(['nested', clock.now()]), 5), 12);
    clock.advance(30);
    expect(fired).toEqual([
      ['a', 10],
      ['nested', 17],
      ['b', 20],
    ]);
    expect(clock.now()).toBe(30);
  });

  it('repeats a repeating timer at its period until it clears itself, after timers set earlier for the same instant', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimer(() => fired.push(`once@${clock.now()}`), 20);
    let n = 0;
    const r = clock.setRepeatingTimer(() => {
      fired.push(`tick@${clock.now()}`);
      if (++n === 3) clock.clearTimer(r);
    }, 10);
    clock.advance(100);
    expect(fired).toEqual(['tick@10', 'once@20', 'tick@20', 'tick@30']);
    expect(clock.pending).toBe(0);
  });
});

describe('real clock, precise timers', () => {
  it('never fire early, fire in due order (ties in the order set), and a timer can cancel a later one', async () => {
    const clock = new RealClock();
    const fired: { name: string; early: number }[] = [];
    // Time stands still while the timers are set, so their due times are exactly as written (a loaded
    // machine could otherwise pause between two calls and reorder timers 1.5 ms apart) and the two
    // 10.5 ms timers are a true tie. Real time resumes before any of them can fire.
    const t0 = performance.now();
    const frozen = vi.spyOn(performance, 'now').mockReturnValue(t0);
    let lastFired: () => void = () => undefined;
    const allFired = new Promise<void>((r) => (lastFired = r));
    const at = (name: string, delay: number, then?: () => void) =>
      clock.setPreciseTimer(() => {
        fired.push({ name, early: t0 + delay - clock.now() });
        then?.();
      }, delay);
    at('c', 12, () => lastFired());
    const never = at('never', 11);
    at('a', 10, () => clock.clearTimer(never));
    at('b', 10.5);
    at('b2', 10.5);
    const gone = at('gone', 5);
    clock.clearTimer(gone);
    at('first', 2);
    frozen.mockRestore();
    await Promise.race([allFired, new Promise((r) => setTimeout(r, 5000))]);
    expect(fired.map((f) => f.name)).toEqual(['first', 'a', 'b', 'b2', 'c']);
    for (const f of fired) expect(f.early).toBeLessThanOrEqual(0);
  });
});

describe('scheduled sends (the event queue and the live session)', () => {
  it('the queue keeps events in time order whatever order they came in, ties in the order pushed, past its first capacity', () => {
    const q = new EventQueue(2);
    const on = (note: number) => ({ type: 'noteon' as const, channel: 0, note, velocity: 90 });
    q.push(40, on(3));
    q.push(10, on(1));
    q.push(40, on(4));
    q.push(20, on(2));
    q.push(500, { type: 'clock' });
    expect(q.size).toBe(5);
    const got: (number | string)[] = [];
    while (q.firstTime < 100) {
      const m = q.shift();
      got.push(m.type === 'noteon' ? m.note : m.type);
    }
    expect(got).toEqual([1, 2, 3, 4]);
    expect(q.shift()).toEqual({ type: 'clock' });
    q.push(7, on(9));
    q.clear();
    expect(q.size).toBe(0);
    expect(q.firstTime).toBe(Infinity);
  });

  it('a live session sends every event at its exact time, however far ahead it came, and refuses an interval longer than the lookahead', async () => {
    const h = await liveHarness({ mode: 'call-response' });
    try {
      const start = h.clock.now();
      const emit = (h.live as unknown as { onEngine(o: EngineOutput): void }).onEngine.bind(h.live);
      // out of order, some far beyond the lookahead, two at the same instant
      for (const [at, note] of [
        [450, 64],
        [10, 60],
        [205, 62],
        [205, 63],
        [1200, 65],
      ] as const)
        emit({ kind: 'note', start: start + at, dur: 100, midi: note, velocity: 90, type: 'C' });
      await h.run(1500);
      const ons = h.out.filter((o) => o.message.type === 'noteon');
      expect(ons.map((o) => [o.time - start, o.message.type === 'noteon' ? o.message.note : 0])).toEqual([
        [10, 60],
        [205, 62],
        [205, 63],
        [450, 64],
        [1200, 65],
      ]);
      expect(h.live.stats.late).toBe(0);
    } finally {
      await h.close();
    }
    await expect(liveHarness({ lookahead: 10, interval: 20 })).rejects.toThrow(
      /need 0 < interval ≤ lookahead/,
    );
  });
});

describe('recent samples', () => {
  it('keeps the last `capacity` samples, oldest first', () => {
    const r = new RecentSamples(3);
    expect(r.values()).toEqual([]);
    r.push(1);
    r.push(2);
    expect(r.values()).toEqual([1, 2]);
    [3, 4, 5].forEach((x) => r.push(x));
    expect(r.values()).toEqual([3, 4, 5]);
    expect(r.length).toBe(3);
  });
});
