/**
 * Start-up of the command line, as a user waits for it: `improv --help` and a 4-bar `improv generate`,
 * each run `runs` times in a fresh node process through the real entry point (bin/improv.js, which
 * compiles TypeScript with tsx as it loads). Beside each, node with tsx loading an empty file: the
 * floor no change to the CLI's own modules can go below.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentiles } from '../src/live/stats.ts';

function timed(args: string[], runs: number): { p50: number; max: number } {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    ms.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`bench startup: ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  const p = percentiles(ms);
  return { p50: p.p50, max: p.max };
}

export function benchStartup(runs = 5): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'improv-startup-'));
  const empty = join(dir, 'empty.ts');
  writeFileSync(empty, '');
  const floor = timed(['--import', 'tsx', empty], runs);
  const help = timed(['bin/improv.js', '--help'], runs);
  const gen = timed(
    ['bin/improv.js', 'generate', '--model', 'models/folk', '--bars', '4', '--out', join(dir, 'x.mid')],
    runs,
  );
  const f = (x: { p50: number; max: number }): string =>
    `p50 ${x.p50.toFixed(0)} ms (max ${x.max.toFixed(0)})`;
  return [
    `start-up (${runs} runs each, a fresh process through bin/improv.js):`,
    `  node + tsx, an empty file (the floor): ${f(floor)}`,
    `  improv --help: ${f(help)}; ${(help.p50 / floor.p50).toFixed(2)}× the floor (before the trainers and models loaded lazily: p50 2,009 ms, 3.80× the floor)`,
    `  improv generate --model models/folk --bars 4: ${f(gen)} (before: p50 2,775 ms)`,
  ];
}
