/** Runs external judges (Debian's own python3 with python3-mido). */
import { spawnSync } from 'node:child_process';

/** Debian's python3 (which has python3-mido), not whatever python3 comes first on PATH. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export function midoAvailable(): boolean {
  return spawnSync(DEBIAN_PYTHON, ['-c', 'import mido'], { encoding: 'utf8' }).status === 0;
}

export interface MidoReport {
  type: number;
  tracks: { name: string; notes: number }[];
  tempos: number[];
  notes: number;
  hanging: number;
  unmatched_offs: number;
  min: number | null;
  max: number | null;
  length_seconds: number;
}

export function midoCheck(file: string): MidoReport {
  const r = spawnSync(DEBIAN_PYTHON, ['tests/judges/mido_check.py', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mido could not read ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as MidoReport;
}
