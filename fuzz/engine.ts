/**
 * A small coverage-guided fuzzer: V8's own block coverage (node:inspector, Profiler precise coverage)
 * tells which inputs reach new behaviour in src/, those join the corpus, and mutations of the corpus
 * are run until the time is up. Why by hand: jazzer.js (the usual choice) ships a native fuzzer built
 * for glibc 2.38 and these machines have 2.36, with no sources in the package to build it from; the
 * pure-JS fuzzers on npm instrument with a parser that cannot read TypeScript. V8 already counts
 * blocks, so what remains is the loop and the mutations.
 */
import { Session } from 'node:inspector';
import { createHash } from 'node:crypto';
import { createRng, type Rng } from '../src/music/rng.ts';

export interface FuzzTarget {
  readonly name: string;
  /** Runs one input; throws on a defect (an unexpected error, or a broken invariant). */
  run(data: Uint8Array): void;
  /** Errors that are the target's clear answer to bad input, not defects. */
  expected(err: unknown): boolean;
  /** Inputs to start from (real files cut to size). */
  seeds(): Uint8Array[];
  /** Tokens the mutator inserts whole (field names, ABC symbols…). */
  readonly dictionary?: readonly string[];
  readonly maxLength?: number;
  /** Where its coverage is counted (parts of script URLs): src/, and the parsers it leans on. */
  readonly covers?: readonly string[];
}

export interface Crash {
  readonly target: string;
  readonly input: Uint8Array;
  readonly error: string;
  readonly id: string;
}

export interface FuzzReport {
  readonly target: string;
  readonly executions: number;
  readonly seconds: number;
  readonly corpus: number;
  readonly coverageKeys: number;
  readonly crashes: readonly Crash[];
}

type Post = (method: string, params?: object) => unknown;

interface ScriptCoverage {
  url: string;
  functions: { ranges: { startOffset: number; endOffset: number; count: number }[] }[];
}

/** Block coverage of src/ since the last call, as keys: each function that ran, with the blocks that did not. */
export class Coverage {
  private readonly post: Post;

  constructor() {
    const session = new Session();
    session.connect();
    // an in-process session answers synchronously
    this.post = (method, params) => {
      let out: unknown;
      let error: Error | null = null;
      session.post(method, params ?? {}, (err, result) => {
        error = err;
        out = result;
      });
      if (error) throw error as Error;
      return out;
    };
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  take(covers: readonly string[] = ['/src/']): string[] {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    const keys: string[] = [];
    for (const script of result) {
      if (!covers.some((c) => script.url.includes(c))) continue;
      for (const fn of script.functions) {
        const [whole, ...inner] = fn.ranges;
        if (!whole || whole.count === 0) continue;
        const missed = inner.filter((r) => r.count === 0).map((r) => r.startOffset);
        keys.push(`${script.url}@${whole.startOffset}:${missed.join(',')}`);
      }
    }
    return keys;
  }
}

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xf0, 0xf7, 0xf8, 0xff, 0x30, 0x39, 0x0a, 0x22];

function mutate(
  parent: Uint8Array,
  rng: Rng,
  corpus: readonly Uint8Array[],
  dict: readonly Uint8Array[],
  max: number,
): Uint8Array {
  let out = Array.from(parent);
  const int = (n: number): number => rng.int(n);
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    const at = int(out.length + 1);
    switch (int(8)) {
      case 0:
        if (out.length) {
          const i = Math.min(at, out.length - 1);
          out[i] = (out[i] as number) ^ (1 << int(8));
        }
        break;
      case 1:
        if (out.length) out[Math.min(at, out.length - 1)] = int(256);
        break;
      case 2:
        out.splice(at, 0, INTERESTING[int(INTERESTING.length)] as number);
        break;
      case 3:
        out.splice(at, 1 + int(8));
        break;
      case 4: {
        const len = 1 + int(16);
        out.splice(at, 0, ...out.slice(at, at + len));
        break;
      }
      case 5: {
        const other = corpus[int(corpus.length)] ?? parent;
        const from = int(other.length + 1);
        out.splice(at, 0, ...other.subarray(from, from + 1 + int(32)));
        break;
      }
      case 6:
      case 7:
        if (dict.length) out.splice(at, 0, ...(dict[int(dict.length)] as Uint8Array));
        else out.splice(at, 0, int(256));
        break;
    }
  }
  if (out.length > max) out = out.slice(0, max);
  return Uint8Array.from(out);
}

/** The first line of an error and where it was thrown: two crashes with the same id are one defect. */
function crashId(err: unknown): { error: string; id: string } {
  const e = err instanceof Error ? err : new Error(String(err));
  const frame = (e.stack ?? '').split('\n').find((l) => l.includes('/src/')) ?? '';
  const error = `${e.name}: ${e.message.split('\n')[0] ?? ''}`;
  const id = createHash('sha256')
    .update(`${e.name}|${frame.replace(/:\d+\)?$/, '')}`)
    .digest('hex')
    .slice(0, 12);
  return { error: `${error} ${frame.trim()}`, id };
}

/** Runs one input; returns the defect it found, if any. */
export function runOne(target: FuzzTarget, data: Uint8Array): { error: string; id: string } | null {
  try {
    target.run(data);
    return null;
  } catch (err) {
    return target.expected(err) ? null : crashId(err);
  }
}

export function fuzz(
  target: FuzzTarget,
  opts: {
    seconds: number;
    seed: number;
    coverage: Coverage;
    stopAtFirstCrash?: boolean;
    /** Stop after this many executions (seeds included) whatever the time: a run that does the same work on any machine. */
    executions?: number;
  },
): FuzzReport {
  const rng = createRng(opts.seed);
  const max = target.maxLength ?? 4096;
  const dict = (target.dictionary ?? []).map((t) => new TextEncoder().encode(t));
  const covers = target.covers ?? ['/src/'];
  const seen = new Set<string>();
  const corpus: Uint8Array[] = [];
  const crashes = new Map<string, Crash>();
  const started = performance.now();
  let executions = 0;
  const consider = (input: Uint8Array): void => {
    executions++;
    const crash = runOne(target, input);
    let fresh = false;
    for (const key of opts.coverage.take(covers))
      if (!seen.has(key)) {
        seen.add(key);
        fresh = true;
      }
    if (fresh) corpus.push(input);
    if (crash && !crashes.has(crash.id)) crashes.set(crash.id, { target: target.name, input, ...crash });
  };
  opts.coverage.take(); // what ran before this target is not its coverage
  for (const s of target.seeds()) consider(s.subarray(0, max));
  if (corpus.length === 0) corpus.push(new Uint8Array());
  const budget = opts.executions ?? Infinity;
  while (
    performance.now() - started < opts.seconds * 1000 &&
    executions < budget &&
    !(opts.stopAtFirstCrash && crashes.size > 0)
  ) {
    const parent = corpus[rng.int(corpus.length)] as Uint8Array;
    consider(mutate(parent, rng, corpus, dict, max));
  }
  return {
    target: target.name,
    executions,
    seconds: (performance.now() - started) / 1000,
    corpus: corpus.length,
    coverageKeys: seen.size,
    crashes: [...crashes.values()],
  };
}
