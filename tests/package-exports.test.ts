import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe("the package's exports", () => {
  it('every entry names a module that exists and loads, with the API it promises', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, string> };
    const entries = Object.entries(pkg.exports);
    expect(entries.length).toBeGreaterThan(0);
    for (const [, target] of entries) expect(existsSync(target), target).toBe(true);
    const load = async (entry: string): Promise<Record<string, unknown>> =>
      (await import(new URL(`../${pkg.exports[entry] as string}`, import.meta.url).href)) as Record<
        string,
        unknown
      >;
    const music = await load('./music');
    expect(typeof music.readAbc).toBe('function');
    expect(typeof music.readManifest).toBe('function');
    const model = await load('./model');
    expect(typeof model.LstmSession).toBe('function');
    expect(typeof model.generateAbc).toBe('function');
  });
});
