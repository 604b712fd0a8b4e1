import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { METHENY, smfBytes, songParts, tempDir, tinyJazzBundle } from './helpers.ts';
import { readSmf } from '../src/music/smf.ts';

const cli = (...args: string[]) => {
  const r = spawnSync('node_modules/.bin/tsx', ['src/cli/main.ts', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('improv train jazz: bad input gets a clear error, a non-zero exit and nothing written', () => {
  const dir = tempDir('bad');
  const { melody, chords, bass } = songParts(4);
  const files: Record<string, Uint8Array | string> = {
    'notes.txt': 'X:1\nT:not midi\nK:D\nABc|\n',
    'truncated.mid': readFileSync(METHENY).subarray(0, 3000),
    'empty.mid': smfBytes([
      { ...melody, notes: [] },
      { ...chords, notes: [] },
    ]),
    'pads.mid': smfBytes([chords, bass]),
    'lead.mid': smfBytes([melody, bass]),
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);

  it.each([
    ['notes.txt', 'InputFileError', 'not a Standard MIDI File (no MThd header)'],
    ['truncated.mid', 'InputFileError', 'truncated'],
    ['empty.mid', 'InputFileError', 'no notes in any track'],
    ['pads.mid', 'InputFileError', 'no melody'],
    ['lead.mid', 'InputFileError', 'no chords'],
    ['missing.mid', 'InputFileError', 'cannot read file (ENOENT)'],
  ])('%s → %s: %s', (name, errorName, message) => {
    const out = join(dir, `out-${name}`);
    const r = cli('train', 'jazz', '--data', join(dir, name), '--out', out, '--epochs', '1');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`improv: ${errorName}: ${join(dir, name)}: `);
    expect(r.stderr).toContain(message);
    expect(existsSync(out)).toBe(false);
  });

  it('checks every --data file before training anything', () => {
    const out = join(dir, 'out-mixed');
    const r = cli('train', 'jazz', '--data', METHENY, join(dir, 'pads.mid'), '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pads.mid: no melody');
    expect(existsSync(out)).toBe(false);
  });

  it('names a bad option value', () => {
    const r = cli('train', 'jazz', '--data', METHENY, '--epochs', 'many');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("option '--epochs <n>' argument 'many' is invalid");
  });
});

describe('improv generate and eval from the command line', () => {
  let bundle: string;
  beforeAll(async () => {
    bundle = await tinyJazzBundle();
  });

  it('writes the solo and prints a summary', () => {
    const out = join(tempDir('cli'), 'solo.mid');
    const r = cli(
      'generate',
      '--model',
      bundle,
      '--bars',
      '4',
      '--seed',
      '2',
      '--chords',
      'Dm7 G7 Cmaj7 A7',
      '--out',
      out,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^wrote .*solo\.mid: 4 bars of 4\/4 at 112 BPM in \S+, \d+ notes, range \d+–\d+\nchord tones [\d.]+ %, chord or scale tones [\d.]+ % \(training melody: [\d.]+ %\)\n$/,
    );
    expect(existsSync(out)).toBe(true);
  });

  it("writes a grammar model's solo in the meter and key asked for, and refuses a key that is none", () => {
    const dir = tempDir('cli');
    const out = join(dir, 'waltz.mid');
    const r = cli(
      'generate',
      '--model',
      bundle,
      '--bars',
      '4',
      '--meter',
      '3/4',
      '--key',
      'Em',
      '--chords',
      'Em Am B7 Em',
      '--out',
      out,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/: 4 bars of 3\/4 at 112 BPM in Em, /);
    const song = readSmf(out);
    expect(song.meter).toMatchObject({ numerator: 3, denominator: 4 });
    // every note lies within the 4 bars of 3/4 (36 twelfths a bar: 12 quarters in all)
    const ends = song.tracks.flatMap((t) => t.notes.map((n) => n.off / song.ticksPerQuarter));
    expect(Math.max(...ends)).toBeLessThanOrEqual(12 + 1e-9);
    const bad = cli('generate', '--model', bundle, '--key', 'H minor', '--out', join(dir, 'x.mid'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("option '--key <name>' argument 'H minor' is invalid");
  });

  it('refuses an unknown chord and writes nothing', () => {
    const out = join(tempDir('cli'), 'solo.mid');
    const r = cli('generate', '--model', bundle, '--chords', 'Dm7 Q9', '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("improv: ChordSymbolError: unknown chord symbol 'Q9'");
    expect(existsSync(out)).toBe(false);
  });

  it('names a missing model folder', () => {
    const r = cli('generate', '--model', 'models/nothing-here', '--out', join(tempDir('cli'), 'x.mid'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'improv: BundleError: models/nothing-here/manifest.json: (file): cannot read (ENOENT)',
    );
  });

  it('scores a MIDI file: NLL per token and the out-of-vocabulary share', () => {
    const lead = join(tempDir('cli'), 'song.mid');
    const { melody, chords } = songParts(8);
    writeFileSync(lead, smfBytes([melody, chords]));
    const r = cli('eval', '--model', bundle, '--data', lead);
    expect(r.code).toBe(0);
    const m =
      /(\d+) tokens scored, NLL ([\d.]+) nats\/token .*; (\d+) of (\d+) tokens outside the vocabulary/.exec(
        r.stdout,
      );
    expect(m).not.toBeNull();
    expect(Number(m?.[1]) + Number(m?.[3])).toBe(Number(m?.[4]));
    expect(Number(m?.[3])).toBeGreaterThan(0); // the faithful P78 vocabulary has no rests
  });
});
