/**
 * Files the project writes (bundles, checkpoints, configs, SMF files) land whole or not at all, also on
 * a full disk, where a write stops short: the old file stays and the error names the file.
 */
import fs, { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutputFileError } from '../src/music/errors.ts';
import { writeFileAtomicSync } from '../src/music/files.ts';
import { VirtualClock } from '../src/midi/clock.ts';
import { FileSink, readMidiTimeline } from '../src/midi/filePorts.ts';
import { tempDir } from './helpers.ts';

afterEach(() => vi.restoreAllMocks());

type WriteSync = (fd: number, b: Uint8Array, off?: number, len?: number, pos?: number | null) => number;

/**
 * Every writeSync from here on goes through `limit`, which says how many of the bytes asked for the
 * system takes (or 'ENOSPC' for none, as a full disk answers).
 */
export function limitWrites(limit: (want: number) => number | 'ENOSPC'): void {
  const real = fs.writeSync.bind(fs) as WriteSync;
  vi.spyOn(fs, 'writeSync').mockImplementation(((
    fd: number,
    buf: Uint8Array,
    off?: number | null,
    len?: number | null,
    pos?: number | null,
  ) => {
    const start = off ?? 0;
    const n = limit(len ?? buf.byteLength - start);
    if (n === 'ENOSPC')
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return real(fd, buf, start, n, pos);
  }) as typeof fs.writeSync);
}

/** A disk with `room` bytes left: writes past it stop short, then fail with ENOSPC (as Linux does). */
function fullDisk(room: number): void {
  let left = room;
  limitWrites((want) => {
    if (left === 0) return 'ENOSPC';
    const n = Math.min(want, left);
    left -= n;
    return n;
  });
}

describe('writeFileAtomicSync', () => {
  it('on a full disk: fails with OutputFileError naming the file, leaves the old file whole and no temporary', () => {
    const dir = tempDir('atomic');
    const file = join(dir, 'manifest.json');
    writeFileSync(file, 'the old manifest');
    fullDisk(100);
    const big = 'x'.repeat(90_112 + 1000);
    expect(() => writeFileAtomicSync(file, big)).toThrow(OutputFileError);
    expect(() => writeFileAtomicSync(file, big)).toThrow(`${file}: cannot write (ENOSPC)`);
    vi.restoreAllMocks();
    expect(readFileSync(file, 'utf8')).toBe('the old manifest');
    expect(readdirSync(dir)).toEqual(['manifest.json']);
  });

  it('a short write is followed by the rest: the file lands whole', () => {
    const dir = tempDir('atomic-short');
    const file = join(dir, 'model.bin');
    let calls = 0;
    limitWrites((want) => {
      calls++;
      return Math.min(want, 1000); // the system takes 1000 bytes at a time
    });
    const data = Uint8Array.from({ length: 10_000 }, (_, i) => i % 251);
    writeFileAtomicSync(file, data);
    vi.restoreAllMocks();
    expect(calls).toBe(10);
    expect(Uint8Array.from(readFileSync(file))).toEqual(data);
  });
});

describe('a recording on a full disk', () => {
  it('stays a valid file, waits with its events, goes on when space returns, and panic can still append', async () => {
    vi.useFakeTimers();
    try {
      const file = join(tempDir('take'), 'take.mid');
      const clock = new VirtualClock();
      const sink = new FileSink(file, clock);
      const notes = (): number[] =>
        readMidiTimeline(file)
          .filter((e) => (e.bytes[0] as number) >> 4 === 0x9)
          .map((e) => e.bytes[1] as number);
      sink.send({ type: 'noteon', channel: 0, note: 60, velocity: 90 });
      vi.advanceTimersByTime(150);
      expect(notes()).toEqual([60]);
      // the disk fills: the flush finds no room, the take stays as it was and readable
      limitWrites(() => 'ENOSPC');
      clock.advance(500);
      sink.send({ type: 'noteoff', channel: 0, note: 60, velocity: 0 });
      sink.send({ type: 'noteon', channel: 0, note: 62, velocity: 90 });
      vi.advanceTimersByTime(350);
      expect(sink.stalls).toBeGreaterThanOrEqual(2);
      vi.restoreAllMocks();
      expect(notes()).toEqual([60]);
      // space returns: what waited goes out with the next flush, and the take goes on
      vi.advanceTimersByTime(150);
      expect(notes()).toEqual([60, 62]);
      sink.send({ type: 'noteoff', channel: 0, note: 62, velocity: 0 });
      await sink.close();
      const all = readMidiTimeline(file).map((e) => e.bytes.slice(0, 2));
      expect(all).toEqual([
        [0x90, 60],
        [0x80, 60],
        [0x90, 62],
        [0x80, 62],
      ]);
      // improv panic's append finds a recording it wrote
      const again = new FileSink(file, clock, { append: true });
      again.send({ type: 'noteoff', channel: 0, note: 62, velocity: 0 });
      await again.close();
      expect(readMidiTimeline(file)).toHaveLength(5);
    } finally {
      vi.useRealTimers();
    }
  });
});
