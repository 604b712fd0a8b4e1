import { readFileSync, statSync } from 'node:fs';
import writeFileAtomic from 'write-file-atomic';
import { InputFileError, ioReason, OutputFileError } from './errors.ts';

/** Reads a UTF-8 text file; an unreadable one is an InputFileError naming the file and why. */
export function readText(file: string, what = 'file'): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputFileError(file, `cannot read ${what} (${ioReason(err)})`);
  }
}

/** Refuses an output path that names a folder, before anything is written. */
export function checkOutputFile(file: string): void {
  let dir = false;
  try {
    dir = statSync(file).isDirectory();
  } catch {
    // not there yet: it will be created
  }
  if (dir) throw new OutputFileError(file, 'is a folder; name a file to write');
}

/**
 * Writes `file` whole or not at all: a temporary file beside it, then a rename (write-file-atomic,
 * which also removes the temporary file when anything fails). A kill mid-write leaves the old file.
 */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  checkOutputFile(file);
  try {
    writeFileAtomic.sync(
      file,
      typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    );
  } catch (err) {
    throw new OutputFileError(file, `cannot write (${ioReason(err)})`);
  }
}
