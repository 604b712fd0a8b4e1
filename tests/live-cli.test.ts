import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMidiTimeline } from '../src/midi/filePorts.ts';
import { tempDir, writePhrase } from './helpers.ts';
import { midoAvailable, midoCheck } from './judges.ts';

describe('improv live from the command line', () => {
  it('plays a file in as a player would, answers it, and exits once the answer has finished', () => {
    const dir = tempDir('live-cli');
    const calls = join(dir, 'calls.mid');
    const answer = join(dir, 'answer.mid');
    writePhrase(
      calls,
      240,
      [62, 65, 69, 72].map((midi, i) => ({ start: i * 0.5, dur: 0.45, midi, velocity: 90 })),
    );
    const t0 = Date.now();
    const r = spawnSync(
      'node_modules/.bin/tsx',
      [
        'src/cli/main.ts',
        'live',
        '--in',
        `file:${calls}`,
        '--out',
        `file:${answer}`,
        '--bpm',
        '240',
        '--no-status',
        '--thru',
        '2',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.stderr).toContain('stopped (input ended)');
    expect(r.status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(existsSync(answer)).toBe(true);
    const events = readMidiTimeline(answer);
    const answerOns = events.filter((e) => e.bytes[0] === 0x90);
    const callOns = events.filter((e) => e.bytes[0] === 0x91);
    expect(callOns).toHaveLength(4); // the call, echoed on channel 2
    expect(answerOns.length).toBeGreaterThan(0);
    const lastCall = Math.max(...callOns.map((e) => e.time));
    expect(Math.min(...answerOns.map((e) => e.time))).toBeGreaterThan(lastCall);
    if (midoAvailable()) expect(midoCheck(answer).hanging).toBe(0);
  });

  it('names a missing leadsheet and a bad meter', () => {
    const lead = spawnSync(
      'node_modules/.bin/tsx',
      ['src/cli/main.ts', 'live', '--leadsheet', 'no/such/tune.txt', '--no-status'],
      { encoding: 'utf8' },
    );
    expect(lead.status).toBe(2);
    expect(lead.stderr).toContain('improv: InputFileError: no/such/tune.txt: cannot read leadsheet (ENOENT)');
    const meter = spawnSync(
      'node_modules/.bin/tsx',
      ['src/cli/main.ts', 'live', '--meter', '7/3', '--no-status'],
      { encoding: 'utf8' },
    );
    expect(meter.status).not.toBe(0);
    expect(meter.stderr).toContain(
      "option '--meter <n/d>' argument '7/3' is invalid. expected a meter such as 4/4, 3/4 or 6/8",
    );
  });

  it('names an unknown port and exits with status 2', () => {
    const r = spawnSync(
      'node_modules/.bin/tsx',
      ['src/cli/main.ts', 'live', '--in', 'midi:Keys', '--no-status'],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      "improv: PortError: port 'midi:Keys': expected virtual:Name, easymidi:Name, jzz:Name or file:path.mid",
    );
  });
});
