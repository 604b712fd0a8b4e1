import { describe, expect, it, vi } from 'vitest';
import { RealClock, VirtualClock } from '../src/runtime/clock.ts';
import { RecentSamples } from '../src/runtime/stats.ts';
import { LookaheadScheduler } from '../src/runtime/scheduler.ts';

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

describe('lookahead scheduler', () => {
  it('a 10 Hz producer from 0 to 0.45 s gives exactly 5 events, each with its exact time, handed over early by at most the lookahead', () => {
    const clock = new VirtualClock();
    const got: { time: number; at: number }[] = [];
    let next = 0;
    const s = new LookaheadScheduler<number>(
      clock,
      { lookahead: 100, interval: 25 },
      (e) => got.push({ time: e.time, at: clock.now() }),
      (end) => {
        while (next < end && next <= 450) {
          s.schedule(next, next);
          next += 100;
        }
      },
    );
    s.start();
    clock.advance(450);
    s.stop();
    expect(got.map((g) => g.time)).toEqual([0, 100, 200, 300, 400]);
    for (const g of got) {
      expect(g.at).toBeLessThanOrEqual(g.time);
      expect(g.time - g.at).toBeLessThanOrEqual(100);
    }
  });

  it('keeps events in time order whatever order they were scheduled in, and stops cleanly', () => {
    const clock = new VirtualClock();
    const got: string[] = [];
    const s = new LookaheadScheduler<string>(clock, { lookahead: 50, interval: 10 }, (e) =>
      got.push(e.payload),
    );
    s.schedule(40, 'c');
    s.schedule(10, 'a');
    s.schedule(40, 'd');
    s.schedule(20, 'b');
    s.schedule(500, 'late');
    s.start();
    clock.advance(100);
    expect(got).toEqual(['a', 'b', 'c', 'd']);
    s.stop();
    clock.advance(1000);
    expect(got).toEqual(['a', 'b', 'c', 'd']);
    expect(s.clear().map((e) => e.payload)).toEqual(['late']);
    expect(clock.pending).toBe(0);
  });

  it('refuses an interval longer than the lookahead', () => {
    expect(
      () => new LookaheadScheduler(new VirtualClock(), { lookahead: 10, interval: 20 }, () => undefined),
    ).toThrow(/need 0 < interval ≤ lookahead/);
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
