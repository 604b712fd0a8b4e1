import fs, { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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

let tempCount = 0;

/**
 * Writes `file` whole or not at all: a temporary file beside it, every byte written (a short write is
 * followed by another until all is written or the system says why not, as on a full disk), synced,
 * then renamed over `file`; on any failure the temporary file is removed and the old file stays.
 *
 * Hand-written: write-file-atomic's sync path makes one writeSync and does not check the count it
 * returns, so on a full disk it renamed a cut file over a good one (a manifest cut at 90,112 bytes).
 */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  checkOutputFile(file);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${++tempCount}.tmp`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(temp, 'wx', 0o644);
    for (let done = 0; done < bytes.byteLength;) {
      const n = fs.writeSync(fd, bytes, done, bytes.byteLength - done);
      if (n <= 0) throw Object.assign(new Error('the write made no progress'), { code: 'EIO' });
      done += n;
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(temp, file);
  } catch (err) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing: the write's error is the one to report
      }
    }
    fs.rmSync(temp, { force: true });
    throw new OutputFileError(file, `cannot write (${ioReason(err)})`);
  }
}
