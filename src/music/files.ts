import { readFileSync } from 'node:fs';
import { InputFileError } from './errors.ts';

/** Reads a UTF-8 text file; an unreadable one is an InputFileError naming the file and why. */
export function readText(file: string, what = 'file'): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputFileError(
      file,
      `cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
}
