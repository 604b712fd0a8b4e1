/**
 * Temporary directories for tests, removed when the test file ends (tests/setup.ts), so a run leaves
 * nothing behind in the system's temp folder. KEEP_TEST_FILES=1 keeps them for a look afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `improv-${prefix}-`));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  if (process.env.KEEP_TEST_FILES) return;
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
