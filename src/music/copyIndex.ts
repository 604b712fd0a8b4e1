/**
 * The training sequences a bundle carries so that a player can bound how much of them a line copies
 * (model/copyGuard.ts) and an evaluation can count baselines on the training part: token ids, each
 * sequence (a tune, a solo's training part, the char model's training text) apart. One file,
 * `training-<sha256 12>.bin`: little-endian uint16 ids, 0xFFFF between sequences.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleManifest } from './bundle.ts';
import { BundleError, ioReason } from './errors.ts';
import { requireRegularSync } from './files.ts';
import { parseToken, rhythmClass } from './grammar.ts';
import { repeatLagOf } from './conditioning.ts';

const SEPARATOR = 0xffff;

/** The file's bytes and the name it goes by (named by its content, like the graphs). */
export function encodeCopyIndex(sequences: readonly (readonly number[])[]): {
  name: string;
  bytes: Uint8Array;
} {
  const total = sequences.reduce((n, s) => n + s.length, 0) + Math.max(0, sequences.length - 1);
  const ids = new Uint16Array(total);
  let k = 0;
  sequences.forEach((seq, i) => {
    if (i > 0) ids[k++] = SEPARATOR;
    for (const id of seq) {
      if (!(Number.isInteger(id) && id >= 0 && id < SEPARATOR))
        throw new RangeError(`copy index: token id ${id} does not fit in 16 bits`);
      ids[k++] = id;
    }
  });
  const bytes = new Uint8Array(ids.buffer);
  const name = `training-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}.bin`;
  return { name, bytes };
}

/** The training sequences of a bundle, or null where its manifest names none (an older bundle). */
export function readCopyIndex(dir: string, manifest: BundleManifest): Uint16Array[] | null {
  const entry = manifest.training.copyIndex;
  if (!entry) return null;
  const file = join(dir, entry.file);
  let buf: Buffer;
  requireRegularSync(file, (why) => new BundleError(file, 'training.copyIndex.file', why));
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new BundleError(file, 'training.copyIndex.file', `cannot read (${ioReason(err)})`);
  }
  if (buf.length % 2 !== 0)
    throw new BundleError(file, 'training.copyIndex.file', 'not a whole number of 16-bit ids');
  const ids = new Uint16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  const V = manifest.vocabulary.length;
  const sequences: Uint16Array[] = [];
  let from = 0;
  for (let i = 0; i <= ids.length; i++) {
    if (i < ids.length && ids[i] !== SEPARATOR) {
      if ((ids[i] as number) >= V)
        throw new BundleError(
          file,
          'training.copyIndex.file',
          `id ${ids[i]} at ${i} is outside the vocabulary (${V})`,
        );
      continue;
    }
    sequences.push(ids.subarray(from, i));
    from = i + 1;
  }
  const tokens = sequences.reduce((n, s) => n + s.length, 0);
  if (sequences.length !== entry.sequences || tokens !== entry.tokens)
    throw new BundleError(
      file,
      'training.copyIndex',
      `holds ${sequences.length} sequences of ${tokens} tokens; the manifest says ${entry.sequences} of ${entry.tokens}`,
    );
  return sequences;
}

/**
 * A grammar vocabulary's rhythm, token by token: its rhythm class (its length, a rest apart from a
 * note), its length, and whether it is a rest. Two projections of a line are matched against the
 * training data's: the classes, and the notes' onsets (onsetIntervals), which is how a listener hears a
 * rhythm. The char model has none (null).
 */
export interface RhythmProjection {
  readonly classOf: Int32Array;
  /** In twelfths of a quarter. */
  readonly lengthOf: Int32Array;
  readonly rest: Uint8Array;
}

export function rhythmProjection(manifest: {
  readonly kind: BundleManifest['kind'];
  readonly vocabulary: readonly string[];
}): RhythmProjection | null {
  if (manifest.kind !== 'jazz-grammar') return null;
  // a repeat marker never reaches the index (the music it resolves to does): a rest of no length
  const tokens = manifest.vocabulary.map((v) =>
    repeatLagOf(v) !== null ? ({ type: 'R', dur: 0 } as const) : parseToken(v),
  );
  const classes = new Map<string, number>();
  return {
    classOf: Int32Array.from(tokens, (t) => {
      const c = rhythmClass(t);
      let id = classes.get(c);
      if (id === undefined) classes.set(c, (id = classes.size));
      return id;
    }),
    lengthOf: Int32Array.from(tokens, (t) => t.dur),
    rest: Uint8Array.from(tokens, (t) => (t.type === 'R' ? 1 : 0)),
  };
}

/**
 * The music of ABC text as ids, line by line: the lines of the tunes' bodies, without their newlines,
 * leaving out header lines (`X:`, `T:`, `M:`, `Z:` … a letter and a colon at a line's start) and empty
 * ones. Headers are boilerplate and names that every tune shares, and the bar-true guide often leaves
 * one way to end a line: what the char model's copy bound holds to is the run copied within a line of
 * music (a line of ABC is about four bars).
 */
export function abcMusicLines(ids: ArrayLike<number>, vocabulary: readonly string[]): number[][] {
  const out: number[][] = [];
  let line: number[] = [];
  const flush = (): void => {
    const a = vocabulary[line[0] as number] ?? '';
    const b = vocabulary[line[1] as number] ?? '';
    if (line.length > 0 && !(/^[A-Za-z]$/.test(a) && b === ':')) out.push(line);
    line = [];
  };
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (vocabulary[id] === '\n') flush();
    else line.push(id);
  }
  flush();
  return out;
}

/** A symbol no sequence holds: joined with it, the lines of one tune are measured one by one. */
export const LINE_BREAK = -2;

/** A text's music lines as one sequence, each line apart (for one longest-copy figure per text). */
export const joinLines = (lines: readonly (readonly number[])[]): number[] =>
  lines.flatMap((l, i) => (i === 0 ? [...l] : [LINE_BREAK, ...l]));

/** A line's rhythm classes. */
export const rhythmClasses = (seq: ArrayLike<number>, r: RhythmProjection): Int32Array =>
  Int32Array.from({ length: seq.length }, (_, i) => r.classOf[seq[i] as number] as number);

/**
 * A line's onsets as inter-onset intervals, note by note (twelfths): a rest lengthens the note before
 * it, and rests before the first note are dropped. The last note's interval is its length and the rests
 * after it (as a listener who heard the line end there would count it).
 * @example onsetIntervals(['C,0.5', 'R,0.25', 'C,0.75'] as ids) // => [9, 9]
 */
export function onsetIntervals(seq: ArrayLike<number>, r: RhythmProjection): number[] {
  const out: number[] = [];
  for (let i = 0; i < seq.length; i++) {
    const id = seq[i] as number;
    if (r.rest[id] === 1) {
      if (out.length > 0) out[out.length - 1] = (out[out.length - 1] as number) + (r.lengthOf[id] as number);
    } else out.push(r.lengthOf[id] as number);
  }
  return out;
}
