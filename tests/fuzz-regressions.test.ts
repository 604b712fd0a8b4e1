/**
 * Every input the fuzzer ever crashed a target with (fuzz/regressions/<target>/*.bin), and each
 * target's seeds, run through the targets: none may crash again. A short fuzz run here checks the
 * harness itself: coverage grows the corpus, and a planted defect is found.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Coverage, fuzz, runOne, type FuzzTarget } from '../fuzz/engine.ts';
import { TARGETS } from '../fuzz/targets.ts';

describe('fuzz regressions', () => {
  it.each(TARGETS.map((t) => [t.name, t] as const))(
    '%s: seeds and kept crash inputs run clean',
    (_, target) => {
      const dir = join('fuzz', 'regressions', target.name);
      const kept = existsSync(dir)
        ? readdirSync(dir).map((f) => Uint8Array.from(readFileSync(join(dir, f))))
        : [];
      for (const input of [...target.seeds(), ...kept]) expect(runOne(target, input)).toBeNull();
    },
  );

  it('the fuzzer follows coverage to a defect hidden behind three bytes', () => {
    // a defect only an input starting "MID" reaches: random bytes alone would need ~16 M tries
    const planted: FuzzTarget = {
      name: 'planted',
      run(data) {
        if (data[0] === 0x4d) if (data[1] === 0x49) if (data[2] === 0x44) throw new TypeError('planted');
      },
      expected: () => false,
      seeds: () => [Uint8Array.from([0x41])],
      covers: ['/tests/'],
      dictionary: [],
    };
    // bounded by executions, not seconds: the same work, and the same outcome, on any machine
    const r = fuzz(planted, {
      seconds: Infinity,
      executions: 20_000, // it takes 6,054 with this seed
      seed: 3,
      coverage: new Coverage(),
      stopAtFirstCrash: true,
    });
    expect(r.crashes.map((c) => c.error)).toEqual([expect.stringContaining('TypeError: planted')]);
    expect(r.corpus).toBeGreaterThan(1);
  }, 120_000);
});
