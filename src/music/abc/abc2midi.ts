/**
 * abc2midi (Debian's abcmidi) as an outside judge: converts one tune and reads back its notes and its
 * warnings. The tests and the quality report use it; it is never needed to play.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSmf } from '../smf.ts';

export function abc2midiAvailable(): boolean {
  return spawnSync('abc2midi', ['-ver'], { encoding: 'utf8' }).status === 0;
}

export interface JudgedNote {
  readonly pitch: number;
  readonly on: number;
  readonly off: number;
}

export interface Abc2MidiResult {
  readonly ok: boolean;
  readonly errors: string[];
  readonly warnings: string[];
  /** Ticks at 480 per quarter, sorted by (on, pitch). */
  readonly notes: JudgedNote[];
}

/** Converts one tune; `ok` is false when abc2midi reports an error or writes no file. */
export function abc2midi(tune: string): Abc2MidiResult {
  const dir = mkdtempSync(join(tmpdir(), 'improv-abc2midi-'));
  try {
    const abc = join(dir, 'tune.abc');
    const mid = join(dir, 'tune.mid');
    writeFileSync(abc, tune.endsWith('\n') ? tune : `${tune}\n`);
    const r = spawnSync('abc2midi', [abc, '-o', mid], { encoding: 'utf8', timeout: 10_000 });
    const lines = `${r.stdout}\n${r.stderr}`.split('\n');
    const errors = lines.filter((l) => /^Error/i.test(l));
    const warnings = lines.filter((l) => /^Warning/i.test(l));
    if (r.status !== 0 || !existsSync(mid))
      return { ok: false, errors: errors.length ? errors : [`exit ${r.status}`], warnings, notes: [] };
    const song = parseSmf(readFileSync(mid), mid);
    const notes = song.tracks
      .flatMap((t) => t.notes)
      .map((n) => ({
        pitch: n.midi,
        on: Math.round((n.on * 480) / song.ticksPerQuarter),
        off: Math.round((n.off * 480) / song.ticksPerQuarter),
      }))
      .sort((a, b) => a.on - b.on || a.pitch - b.pitch);
    return { ok: errors.length === 0, errors, warnings, notes };
  } catch (err) {
    return { ok: false, errors: [String(err)], warnings: [], notes: [] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
