import fs, { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
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

/** What a path is when it is not a regular file (a FIFO, a folder, a device), else null. */
export function notRegular(st: Stats): string | null {
  if (st.isFile()) return null;
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isDirectory()) return 'a folder';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * Throws `fail(why)` unless `file` is a regular file. Checked before a synchronous read, because
 * reading a FIFO blocks until something writes to it: on the live thread that freezes the rig.
 */
export function requireRegularSync(file: string, fail: (why: string) => Error): void {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (err) {
    throw fail(`cannot read (${ioReason(err)})`);
  }
  const what = notRegular(st);
  if (what) throw fail(`is ${what}, not a regular file`);
}

/** Settles with `work`, or rejects with `fail()` after `ms` if it has not (the work itself goes on). */
function within<T>(work: Promise<T>, ms: number, fail: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(fail()), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * Reads a file on libuv's thread pool, giving up after `ms`: an open that blocks (a FIFO, a hung
 * network mount) holds a pool thread, never the caller's thread, and the caller hears why. A read
 * given up on cannot be cancelled; its thread stays held until the open returns.
 */
export function readWithin(file: string, ms: number): Promise<Buffer> {
  return within(readFile(file), ms, () => new Error(`did not open within ${ms / 1000} s (a hung mount?)`));
}

/**
 * A regular file's bytes, read off the caller's thread within `ms` (stat first, so a FIFO is refused
 * without opening it); `fail(why)` is what is thrown.
 */
export async function readRegularWithin(
  file: string,
  ms: number,
  fail: (why: string) => Error,
): Promise<Buffer> {
  // a time limit says so in its own words; the system's errors by their code
  const why = (err: unknown): Error =>
    fail(err instanceof Error && !('code' in err) ? err.message : `cannot read (${ioReason(err)})`);
  let st: Stats;
  try {
    st = await within(stat(file), ms, () => new Error(`could not be looked at within ${ms / 1000} s`));
  } catch (err) {
    throw why(err);
  }
  const what = notRegular(st);
  if (what) throw fail(`is ${what}, not a regular file`);
  try {
    return await readWithin(file, ms);
  } catch (err) {
    throw why(err);
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
