/**
 * The folders of src/ and the one direction of their imports (each folder's README says what it may
 * import): every relative import of every source file is checked against this table.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const MAY_IMPORT: Record<string, readonly string[]> = {
  music: [],
  train: ['music'],
  model: ['music'],
  eval: ['music', 'model', 'train'],
  midi: ['music'],
  live: ['music', 'model', 'midi'],
  daemon: ['music', 'model', 'midi', 'live'],
  cli: ['music', 'train', 'model', 'eval', 'midi', 'live', 'daemon'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

const roomOf = (file: string): string => relative('src', file).split(/[\\/]/)[0] as string;

/** Every relative module specifier in a file: static imports and exports, and dynamic imports. */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:from\s*|import\s*\(\s*|import\s+)(['"])(\.\.?\/[^'"]+)\1/g))
    found.push(m[2] as string);
  return found;
}

describe('layering', () => {
  it('finds static, re-exported and dynamic imports', () => {
    expect(
      importsOf(
        `import { a } from '../x.ts';\nexport { b } from './y.ts';\nawait import('../z.ts');\nimport './w.ts';`,
      ),
    ).toEqual(['../x.ts', './y.ts', '../z.ts', './w.ts']);
  });

  it('every folder of src/ is in the table, and each import goes down the table', () => {
    const files = sources('src');
    const rooms = new Set(files.map(roomOf));
    expect([...rooms].sort()).toEqual(Object.keys(MAY_IMPORT).sort());
    const wrong: string[] = [];
    for (const file of files) {
      const from = roomOf(file);
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        const to = roomOf(relative('.', resolve(dirname(file), spec)));
        if (to !== from && !(MAY_IMPORT[from] ?? []).includes(to)) wrong.push(`${file} → ${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
