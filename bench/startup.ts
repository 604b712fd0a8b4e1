/**
 * Start-up of the command line, as a user waits for it: `improv --help` and a 4-bar `improv generate`,
 * each run `runs` times in a fresh node process, two ways: as a checkout runs it (bin/improv.js, which
 * compiles the TypeScript with tsx as it loads) and as the installed package does (the JavaScript
 * build in dist/, which `npm run build` writes and `npm pack` ships; built here first). Beside them,
 * the floors: node with tsx loading an empty file, and plain node loading one.
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
  const build = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`bench startup: npm run build failed: ${build.stderr}`);
  const emptyTs = join(dir, 'empty.ts');
  const emptyJs = join(dir, 'empty.mjs');
  writeFileSync(emptyTs, '');
  writeFileSync(emptyJs, '');
  const floorTsx = timed(['--import', 'tsx', emptyTs], runs);
  const floorNode = timed([emptyJs], runs);
  const generate = ['generate', '--model', 'models/folk', '--bars', '4', '--out', join(dir, 'x.mid')];
  const help = timed(['bin/improv.js', '--help'], runs);
  const gen = timed(['bin/improv.js', ...generate], runs);
  const helpJs = timed(['dist/cli/main.js', '--help'], runs);
  const genJs = timed(['dist/cli/main.js', ...generate], runs);
  const f = (x: { p50: number; max: number }): string =>
    `p50 ${x.p50.toFixed(0)} ms (max ${x.max.toFixed(0)})`;
  return [
    `start-up (${runs} runs each, a fresh process):`,
    `  floors: node + tsx, an empty file ${f(floorTsx)}; node, an empty file ${f(floorNode)}`,
    `  improv --help, checkout (tsx): ${f(help)}; ${(help.p50 / floorTsx.p50).toFixed(2)}× its floor (before the trainers and models loaded lazily: p50 2,009 ms, 3.80× the floor)`,
    `  improv --help, installed (dist/): ${f(helpJs)}; ${(help.p50 / helpJs.p50).toFixed(2)}× faster than the checkout`,
    `  improv generate --model models/folk --bars 4, checkout: ${f(gen)} (before: p50 2,775 ms); installed: ${f(genJs)}, ${(gen.p50 / genJs.p50).toFixed(2)}× faster`,
  ];
}
