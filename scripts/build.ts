/**
 * `npm run build` (and `npm pack`, through prepack): compiles src/ to plain JavaScript in dist/, so an
 * installed package starts without compiling TypeScript (bin/improv.js runs dist/ where there is no
 * src/ beside it). tsc rewrites the `.ts` of relative imports to `.js`; the stage page's files, which
 * the daemon serves from beside its own module, are copied as they are.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

rmSync('dist', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('build: tsc failed; dist/ is left out');
  rmSync('dist', { recursive: true, force: true });
  process.exit(r.status ?? 1);
}
cpSync('src/daemon/page', 'dist/daemon/page', { recursive: true });
console.log('built dist/ from src/');
