/**
 * `npm run fuzz [-- --seconds N] [--seed S] [target …]`: fuzzes each target for N seconds (60 by
 * default) and prints executions, corpus, coverage and crashes. A crash's input is written to
 * fuzz/regressions/<target>/<id>.bin, where tests/fuzz-regressions.test.ts replays it from then on.
 * Exits 1 when anything crashed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Coverage, fuzz } from './engine.ts';

// block counters go into what is compiled after coverage starts: start it before the code under test loads
const coverage = new Coverage();
const { TARGETS } = await import('./targets.ts');

const args = process.argv.slice(2);
const value = (flag: string, fallback: number): number => {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const seconds = value('--seconds', 60);
const seed = value('--seed', 1);
const names = args.filter(
  (a, i) => !a.startsWith('--') && !['--seconds', '--seed'].includes(args[i - 1] ?? ''),
);
const unknown = names.filter((n) => !TARGETS.some((t) => t.name === n));
if (unknown.length) {
  process.stderr.write(
    `fuzz: unknown target ${unknown.join(', ')}; known: ${TARGETS.map((t) => t.name).join(', ')}\n`,
  );
  process.exit(2);
}
let crashed = 0;
for (const target of TARGETS.filter((t) => names.length === 0 || names.includes(t.name))) {
  const r = fuzz(target, { seconds, seed, coverage });
  process.stdout.write(
    `${r.target.padEnd(12)} ${r.executions} executions in ${r.seconds.toFixed(0)} s (${Math.round(r.executions / r.seconds)}/s), corpus ${r.corpus}, coverage keys ${r.coverageKeys}, crashes ${r.crashes.length}\n`,
  );
  for (const c of r.crashes) {
    const dir = join('fuzz', 'regressions', c.target);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${c.id}.bin`), c.input);
    process.stdout.write(
      `  crash ${c.id}: ${c.error} (input: ${join(dir, `${c.id}.bin`)}, ${c.input.length} bytes)\n`,
    );
    crashed++;
  }
}
process.exit(crashed > 0 ? 1 : 0);
