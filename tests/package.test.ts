/**
 * The package as a user gets it: `npm pack` (which builds dist/ first), unpacked into a folder as npm
 * would install it, beside the dependencies it declares (linked from this checkout's node_modules, so
 * nothing is downloaded) but without tsx or TypeScript: the installed CLI runs the JavaScript build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.ts';

describe('the packed package', () => {
  it('installs as built JavaScript: the CLI, the shipped models and the exports work without tsx', () => {
    const dir = tempDir('package');
    const packed = spawnSync('npm', ['pack', '--pack-destination', dir, '--json'], { encoding: 'utf8' });
    expect(packed.status, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
      filename: string;
      files: { path: string }[];
    }[];
    const files = info!.files.map((f) => f.path);
    // what runs is the build; the sources, tests and checkpoints stay home
    expect(files).toContain('dist/cli/main.js');
    expect(files).toEqual(
      expect.arrayContaining(['dist/daemon/page/index.html', 'dist/daemon/page/stage.js']),
    );
    expect(files.filter((f) => /^(src|tests|bench|fuzz)\//.test(f) || f.includes('checkpoint'))).toEqual([]);
    for (const m of ['abc', 'folk', 'jazz']) {
      const manifest = JSON.parse(readFileSync(join('models', m, 'manifest.json'), 'utf8')) as {
        model: string;
      };
      expect(files).toContain(`models/${m}/${manifest.model}`);
    }

    const app = join(dir, 'app');
    const installed = join(app, 'node_modules', 'improv');
    mkdirSync(installed, { recursive: true });
    const untar = spawnSync('tar', [
      'xzf',
      join(dir, info!.filename),
      '-C',
      installed,
      '--strip-components=1',
    ]);
    expect(untar.status).toBe(0);
    for (const dep of readdirSync('node_modules'))
      if (dep !== 'tsx' && dep !== 'typescript' && dep !== '.bin')
        symlinkSync(resolve('node_modules', dep), join(app, 'node_modules', dep));
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false);

    const improv = (...args: string[]) =>
      spawnSync(process.execPath, [join(installed, 'bin', 'improv.js'), ...args], {
        cwd: app,
        encoding: 'utf8',
      });
    const help = improv('--help');
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: improv/);
    const version = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(improv('--version').stdout.trim()).toBe(version.version);
    const gen = improv(
      'generate',
      '--model',
      'node_modules/improv/models/folk',
      '--bars',
      '4',
      '--out',
      'solo.mid',
    );
    expect(gen.status, gen.stderr).toBe(0);
    expect(readFileSync(join(app, 'solo.mid')).subarray(0, 4).toString()).toBe('MThd');

    // the exports map resolves, to modules with the API it promises
    const api = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('improv/music'); const l = await import('improv/model');" +
          'console.log(typeof m.readAbc, typeof m.readManifest, typeof l.LstmSession, typeof l.generateAbc)',
      ],
      { cwd: app, encoding: 'utf8' },
    );
    expect(api.stderr).toBe('');
    expect(api.stdout.trim()).toBe('function function function function');
  }, 180_000);
});
