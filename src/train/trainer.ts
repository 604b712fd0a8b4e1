/**
 * The training loop shared by both pipelines: seeded window shuffling, Adam, a progress bar (epoch,
 * loss, tokens/s, ETA), a checkpoint after every epoch, `--resume` from it, and validation loss.
 */
import { z } from 'zod';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { firstIssue, ioReason, UserError } from '../music/errors.ts';
import { writeFileAtomicSync } from '../music/files.ts';
import { crashPoint } from './crashPoint.ts';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import cliProgress from 'cli-progress';
import { createRng, type Rng } from '../music/rng.ts';
import {
  buildModel,
  conditionWidth,
  extractWeights,
  layerNames,
  oneHotBatch,
  type LstmLmSpec,
  type LstmLmWeights,
} from './model.ts';
import { paramSpecs } from './ortGraph.ts';
import { DeviceError, ORT_TRAINER_DEFAULTS, OrtLmTrainer, type TrainDevice } from './ortTrainer.ts';

/** `ort`: onnxruntime runs hand-built gradient graphs (fast); `tfjs`: TensorFlow.js autodiff (the reference). */
import { TRAINERS, type TrainerName } from './defaults.ts';
export { TRAINERS, type TrainerName };

export interface TrainOptions {
  readonly spec: LstmLmSpec;
  /** Weights to start from (a pretrained model, init.ts) instead of the seed's; `--trainer ort` only. */
  readonly initial?: LstmLmWeights;
  /** Token id streams; windows never cross from one stream into the next. */
  readonly train: readonly (readonly number[])[];
  readonly validation: readonly (readonly number[])[];
  /**
   * A conditioned model's conditioning, stream by stream as the token streams ([tokens × width] each,
   * width = spec.conditioning): row i is what the model hears while predicting token i.
   */
  readonly conditions?: {
    readonly train: readonly Float32Array[];
    readonly validation: readonly Float32Array[];
  };
  readonly sequenceLength: number;
  readonly batchSize: number;
  readonly epochs: number;
  readonly learningRate: number;
  /** Distance between window starts (1 = every position). */
  readonly stride: number;
  /**
   * When set, each epoch is this many batches of windows drawn at random positions (the ABC lab's
   * get_batch) instead of every window at `stride`.
   */
  readonly randomBatches?: number;
  /**
   * Input rows take the token before the window (input = window, target = window shifted by one);
   * only a window at the very start of a stream begins with the start token. Off: every window
   * begins with the start token (the jazz assignment's zero x⁰).
   */
  readonly contextual?: boolean;
  /**
   * Each stream is learned whole, from a fresh state and the start token to its last token, once per
   * epoch (folk-rnn's way with tunes): streams are shuffled, gathered into batches of like length (so
   * padding stays small) and padded; validation scores each held-out stream whole. `sequenceLength` and
   * `randomBatches` are then unused. ort only.
   */
  readonly wholeStreams?: boolean;
  /**
   * The learning rate over training (ort): a linear warm-up over `warmup` steps, then a cosine decay to
   * `floor` × the rate at the last step of the last epoch. Absent: the rate throughout.
   */
  readonly schedule?: LearningSchedule;
  /** Report validation loss as bits per token (characters) instead of nats. */
  readonly bitsPerToken?: boolean;
  /** Folder for checkpoint/; also where --resume looks. */
  readonly checkpointDir: string;
  readonly resume: boolean;
  /** Show a progress bar on stderr (off in tests). */
  readonly progress: boolean;
  /** Stop after this many epochs without a better validation loss (0 or absent: run every epoch). */
  readonly patience?: number;
  /** Which trainer runs the steps (default tfjs here; the CLI defaults to ort). */
  readonly trainer?: TrainerName;
  /** ort: gradient global-norm clip (0: none), threads, and the device (cpu, or cuda). */
  readonly clipNorm?: number;
  readonly threads?: number;
  readonly device?: TrainDevice;
  readonly log?: (line: string) => void;
}

export interface TrainResult {
  /** The model of the chosen epoch: the best validation loss when there is validation, else the last. */
  readonly model: tf.Sequential;
  /** The chosen epoch (1-based). */
  readonly epoch: number;
  /** Training stopped early: `patience` epochs passed without a better validation loss. */
  readonly stoppedEarly: boolean;
  readonly losses: number[];
  readonly validationLosses: (number | null)[];
  readonly tokensPerSecond: number;
  readonly secondsPerEpoch: number;
  readonly trainedTokens: number;
}

interface Window {
  readonly stream: number;
  readonly start: number;
}

export interface LearningSchedule {
  readonly warmup: number;
  readonly floor: number;
}

/** The schedule's factor on the learning rate at Adam step `step` (1-based) of `total`. */
export function scheduleFactor(schedule: LearningSchedule, step: number, total: number): number {
  if (step <= schedule.warmup) return step / Math.max(schedule.warmup, 1);
  const span = Math.max(total - schedule.warmup, 1);
  const done = Math.min((step - schedule.warmup) / span, 1);
  return schedule.floor + (1 - schedule.floor) * 0.5 * (1 + Math.cos(Math.PI * done));
}

/**
 * Whole streams in batches of like length: the streams shuffled, taken `BUCKET` batches at a time,
 * sorted by length within those and cut into batches, and the batches shuffled, so each batch is
 * padded only to its own longest stream and the order still changes every epoch.
 */
export function streamBatches(
  streams: readonly (readonly number[])[],
  batchSize: number,
  rng: Rng | null,
): Window[][] {
  const order = streams.flatMap((s, i) => (s.length > 0 ? [i] : []));
  const shuffle = <T>(xs: T[]): void => void rng?.shuffle(xs);
  shuffle(order);
  const size = (i: number): number => (streams[i] as readonly number[]).length;
  const batches: Window[][] = [];
  const group = batchSize * BUCKET;
  for (let g = 0; g < order.length; g += group) {
    const part = order.slice(g, g + group).sort((a, b) => size(a) - size(b));
    for (let b = 0; b < part.length; b += batchSize)
      batches.push(part.slice(b, b + batchSize).map((stream) => ({ stream, start: 0 })));
  }
  shuffle(batches);
  return batches;
}

/** Batches gathered per length sort: more pads less, fewer shuffles more. */
const BUCKET = 16;

/** The longest stream of a batch of whole streams (its padded length). */
const batchLength = (streams: readonly (readonly number[])[], batch: readonly Window[]): number =>
  batch.reduce((n, w) => Math.max(n, (streams[w.stream] as readonly number[]).length), 0);

/** All window starts of length `len` (input and target) at the given stride. */
export function windowStarts(streams: readonly (readonly number[])[], len: number, stride: number): Window[] {
  const out: Window[] = [];
  streams.forEach((s, stream) => {
    if (s.length === 0) return;
    if (s.length <= len) {
      out.push({ stream, start: 0 });
      return;
    }
    for (let start = 0; start + len <= s.length; start += stride) out.push({ stream, start });
  });
  return out;
}

/**
 * Input/target rows for windows: input = [START, w0 … w(T−2)], target = [w0 … w(T−1)], so the first step
 * learns from the all-zero start row exactly as the runtime begins a fresh sequence.
 */
export function windowRows(
  streams: readonly (readonly number[])[],
  windows: readonly Window[],
  len: number,
  startToken: number,
  contextual = false,
): { x: number[][]; y: number[][] } {
  const x: number[][] = [];
  const y: number[][] = [];
  for (const w of windows) {
    const s = streams[w.stream] as readonly number[];
    const target = s.slice(w.start, w.start + len);
    const padded = [...target, ...new Array<number>(len - target.length).fill(-1)];
    y.push(padded);
    const first = contextual && w.start > 0 ? (s[w.start - 1] as number) : startToken;
    x.push([first, ...padded.slice(0, len - 1)]);
  }
  return { x, y };
}

/**
 * The conditioning rows of windows ([len × width] each): the row of every target position, zeros past
 * a stream's end (padding, which the loss ignores).
 */
export function windowConditions(
  conditions: readonly Float32Array[],
  windows: readonly Window[],
  len: number,
  width: number,
): Float32Array[] {
  return windows.map((w) => {
    const row = new Float32Array(len * width);
    const source = conditions[w.stream] as Float32Array;
    const end = Math.min(source.length, (w.start + len) * width);
    row.set(source.subarray(w.start * width, Math.max(end, w.start * width)));
    return row;
  });
}

/** `count` windows at random positions, streams weighted by their length. */
export function randomWindows(
  streams: readonly (readonly number[])[],
  len: number,
  count: number,
  rng: Rng,
): Window[] {
  const spans = streams.map((s) => Math.max(s.length - len + 1, s.length > 0 ? 1 : 0));
  const total = spans.reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  const out: Window[] = [];
  for (let i = 0; i < count; i++) {
    let r = rng.int(total);
    let stream = 0;
    while (r >= (spans[stream] as number)) r -= spans[stream++] as number;
    out.push({ stream, start: r });
  }
  return out;
}

interface CheckpointMeta {
  epoch: number;
  /** The epoch with the best validation loss so far (its weights are in best/), if any. */
  bestEpoch?: number;
  losses: number[];
  validationLosses: (number | null)[];
  seconds: number;
  tokens: number;
}

interface Checkpoint extends CheckpointMeta {
  /** Which trainer wrote it (absent: tfjs, from before there were two). */
  trainer?: TrainerName;
  /** Adam's step count (ort; tfjs keeps it among its optimizer weights). */
  step?: number;
  weights: Entry[];
  optimizer: Entry[];
  /** Which files hold the state and the best epoch's weights (absent: the first layout). */
  bin?: string;
  bestBin?: string;
  bestWeights?: Entry[];
}

interface NamedArray {
  readonly name: string;
  readonly shape: number[];
  readonly data: Float32Array;
}

type Entry = { name: string; shape: number[]; offset: number };

/** Packs arrays into one Float32 buffer; returns it and where each array lies. */
function pack(...lists: (readonly NamedArray[])[]): { all: Float32Array; entries: Entry[][] } {
  let offset = 0;
  const entries = lists.map((list) =>
    list.map((a) => {
      const entry = { name: a.name, shape: a.shape, offset };
      offset += a.data.length;
      return entry;
    }),
  );
  const all = new Float32Array(offset);
  lists.forEach((list, i) => list.forEach((a, j) => all.set(a.data, entries[i]?.[j]?.offset ?? 0)));
  return { all, entries };
}

const asBytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Writes a checkpoint so that a kill at any instant leaves the old one or the new one, never a mix:
 * the weights go to files named by their epoch (`state-<epoch>.bin`, and the best epoch's
 * `best-<epoch>.bin`), each written whole (writeFileAtomicSync), and only then checkpoint.json, which
 * names them, replaces the old one in one rename: that rename is the commit. Files no longer named
 * are removed after it.
 */
function writeCheckpoint(
  dir: string,
  meta: CheckpointMeta & { trainer: TrainerName; step?: number },
  weights: readonly NamedArray[],
  optimizer: readonly NamedArray[],
  best: readonly NamedArray[] | null,
): void {
  mkdirSync(dir, { recursive: true });
  const state = pack(weights, optimizer);
  const bin = `state-${meta.epoch}.bin`;
  writeFileAtomicSync(join(dir, bin), asBytes(state.all));
  let bestRef: { bestBin: string; bestWeights: Entry[] } | null = null;
  if (best && meta.bestEpoch !== undefined) {
    const b = pack(best);
    bestRef = { bestBin: `best-${meta.bestEpoch}.bin`, bestWeights: b.entries[0] ?? [] };
    // an epoch's best weights do not change once written whole; most epochs keep the same best
    if (!existsSync(join(dir, bestRef.bestBin)))
      writeFileAtomicSync(join(dir, bestRef.bestBin), asBytes(b.all));
  }
  const [w = [], o = []] = state.entries;
  crashPoint('checkpoint:state-written');
  writeFileAtomicSync(
    join(dir, 'checkpoint.json'),
    JSON.stringify({ ...meta, bin, weights: w, optimizer: o, ...(bestRef ?? {}) }),
  );
  const named = new Set([bin, bestRef?.bestBin]);
  for (const f of readdirSync(dir))
    if (/\.bin$/.test(f) && !named.has(f)) rmSync(join(dir, f), { force: true });
  rmSync(join(dir, 'best'), { recursive: true, force: true }); // the layout before the weights were named
}

/** A checkpoint --resume cannot go on from: names the file and why. */
/** The loss turned NaN or infinite and no earlier epoch can stand for the run. */
export class TrainingDivergedError extends UserError {
  override readonly name = 'TrainingDivergedError';
}

export class CheckpointError extends UserError {
  override readonly name = 'CheckpointError';
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** How many numbers an entry's array holds. */
const elements = (e: Entry): number => e.shape.reduce((x, y) => x * y, 1);

/** A state file named by a checkpoint: a plain name in its folder. */
const stateFileName = z
  .string()
  .regex(/^[\w.-]+\.bin$/)
  .optional();

const entryList = z.array(
  z.object({
    name: z.string(),
    shape: z.array(z.number().int().nonnegative()),
    offset: z.number().int().nonnegative(),
  }),
);
const checkpointSchema = z
  .object({
    epoch: z.number().int().nonnegative(),
    losses: z.array(z.number()),
    validationLosses: z.array(z.number().nullable()),
    seconds: z.number(),
    tokens: z.number(),
    trainer: z.enum(['tfjs', 'ort']).optional(),
    /** The file holding weights and optimizer state (absent: checkpoint.bin, the first layout). */
    bin: stateFileName,
    weights: entryList,
    optimizer: entryList,
    bestBin: stateFileName,
    bestWeights: entryList.optional(),
  })
  .passthrough();

function readCheckpoint(
  dir: string,
  trainer: TrainerName,
): { meta: Checkpoint; weights: NamedArray[]; optimizer: NamedArray[]; best: NamedArray[] | null } {
  const file = join(dir, 'checkpoint.json');
  const read = (f: string): Buffer => {
    try {
      return readFileSync(f);
    } catch (err) {
      throw new CheckpointError(f, `cannot read (${ioReason(err)})`);
    }
  };
  let raw: unknown;
  try {
    raw = JSON.parse(read(file).toString('utf8'));
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(
      file,
      `not a whole checkpoint (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const parsed = checkpointSchema.safeParse(raw);
  if (!parsed.success) {
    const { field, problem } = firstIssue(parsed.error, '(root)');
    throw new CheckpointError(file, `${field}: ${problem}`);
  }
  const meta = parsed.data as unknown as Checkpoint;
  const wrote = meta.trainer ?? 'tfjs';
  if (wrote !== trainer)
    throw new CheckpointError(
      file,
      `this checkpoint was written by --trainer ${wrote}; resume it with the same trainer`,
    );
  /** The arrays `entries` describe, from `binFile`, which must hold exactly them. */
  const unpack = (binFile: string, entries: readonly Entry[]): NamedArray[] => {
    const buf = read(binFile);
    const needed = Math.max(0, ...entries.map((e) => e.offset + elements(e))) * 4;
    if (buf.byteLength !== needed)
      throw new CheckpointError(
        binFile,
        `holds ${buf.byteLength} bytes, its checkpoint.json describes ${needed}: a torn or mismatched pair`,
      );
    const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    return entries.map((e) => ({
      name: e.name,
      shape: e.shape,
      data: all.slice(e.offset, e.offset + elements(e)),
    }));
  };
  const state = unpack(join(dir, meta.bin ?? 'checkpoint.bin'), [...meta.weights, ...meta.optimizer]);
  const weights = state.slice(0, meta.weights.length);
  const optimizer = state.slice(meta.weights.length);
  let best: NamedArray[] | null = null;
  if (meta.bestBin && meta.bestWeights) best = unpack(join(dir, meta.bestBin), meta.bestWeights);
  else if (meta.bestEpoch !== undefined && existsSync(join(dir, 'best', 'checkpoint.json')))
    best = readCheckpoint(join(dir, 'best'), trainer).weights; // the first layout: best/ beside
  return { meta, weights, optimizer, best };
}

/** What the training loop asks of a trainer: a step, a validation loss, a checkpoint, the model. */
interface Engine {
  trainBatch(x: number[][], y: number[][], cond?: Float32Array[]): Promise<number>;
  validate(): Promise<number | null>;
  /** Writes the checkpoint, with the best epoch's weights when there is one. */
  save(dir: string, meta: CheckpointMeta, best: readonly NamedArray[] | null): Promise<void>;
  /** Loads weights and optimizer state; returns the checkpoint's progress and the best epoch's weights it keeps. */
  load(dir: string): Promise<{ meta: CheckpointMeta; best: NamedArray[] | null }>;
  /** The current weights, to keep (the best epoch's) and to write beside the checkpoint. */
  weights(): NamedArray[];
  /** Puts kept weights back (the best epoch's, before finish). */
  setWeights(weights: readonly NamedArray[]): void;
  /** The trained model as a tfjs model (what the exporter takes); the engine is released. */
  finish(): Promise<tf.Sequential>;
}

/** tfjs: the reference trainer (any backend), Keras' Adam through trainOnBatch. */
function tfjsEngine(opts: TrainOptions): Engine {
  const { spec } = opts;
  const model = buildModel(spec);
  const C = conditionWidth(spec);
  const optimizer = tf.train.adam(opts.learningRate, 0.9, 0.999);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const named = (t: tf.Tensor, name: string): NamedArray => ({
    name,
    shape: t.shape,
    data: Float32Array.from(t.dataSync() as Float32Array),
  });
  return {
    async trainBatch(x, y, cond) {
      const xb = oneHotBatch(x, spec.vocabSize, cond ? { rows: cond, width: C } : undefined);
      const yb = oneHotBatch(y, spec.vocabSize);
      const loss = (await model.trainOnBatch(xb, yb)) as number;
      tf.dispose([xb, yb]);
      return loss;
    },
    validate: () =>
      Promise.resolve(
        evaluateLoss(
          model,
          opts.validation,
          spec,
          opts.sequenceLength,
          opts.batchSize,
          opts.contextual,
          opts.conditions?.validation,
        ),
      ),
    async save(dir, meta, best) {
      const weights = model.getWeights().map((t, i) => named(t, `w${i}`));
      const optimizerWeights = (await optimizer.getWeights()).map((nt) => named(nt.tensor, nt.name));
      writeCheckpoint(dir, { ...meta, trainer: 'tfjs' }, weights, optimizerWeights, best);
    },
    async load(dir) {
      const { meta, weights, optimizer: state, best } = readCheckpoint(dir, 'tfjs');
      const expected = model.getWeights();
      if (
        expected.length !== weights.length ||
        expected.some((t, i) => t.shape.join() !== weights[i]?.shape.join())
      )
        throw new CheckpointError(
          join(dir, 'checkpoint.json'),
          "the checkpoint's weights do not fit this model's configuration (units, layers, vocabulary): resume with the options it was trained with",
        );
      model.setWeights(weights.map((a) => tf.tensor(a.data, a.shape)));
      await optimizer.setWeights(state.map((a) => ({ name: a.name, tensor: tf.tensor(a.data, a.shape) })));
      return { meta, best };
    },
    weights: () => model.getWeights().map((t, i) => named(t, `w${i}`)),
    setWeights: (weights) => model.setWeights(weights.map((a) => tf.tensor(a.data, a.shape))),
    finish: () => Promise.resolve(model),
  };
}

/** onnxruntime: the training graph (ortGraph.ts) with Adam and clipping (ortTrainer.ts). */
async function ortEngine(opts: TrainOptions, totalSteps: number): Promise<Engine> {
  const { spec } = opts;
  const model = buildModel(spec); // the same initial weights as tfjs for the same seed; the export's model
  const schedule = opts.schedule;
  const trainer = await OrtLmTrainer.create(spec, opts.initial ?? extractWeights(model, spec), {
    learningRate: opts.learningRate,
    ...(schedule ? { rateAt: (step: number) => scheduleFactor(schedule, step, totalSteps) } : {}),
    clipNorm: opts.clipNorm ?? ORT_TRAINER_DEFAULTS.clipNorm,
    threads: opts.threads ?? ORT_TRAINER_DEFAULTS.threads,
    device: opts.device ?? 'cpu',
  });
  const specs = paramSpecs(spec);
  const arrays = (by: Readonly<Record<string, Float32Array>>, prefix: string): NamedArray[] =>
    specs.map((p) => ({ name: `${prefix}${p.name}`, shape: [...p.shape], data: by[p.name] as Float32Array }));
  return {
    trainBatch: (x, y, cond) => trainer.trainBatch(x, y, cond),
    async validate() {
      let total = 0;
      let count = 0;
      const score = async (windows: readonly Window[], len: number): Promise<void> => {
        const { x, y } = windowRows(opts.validation, windows, len, spec.vocabSize, opts.contextual);
        const cond = opts.conditions
          ? windowConditions(opts.conditions.validation, windows, len, conditionWidth(spec))
          : undefined;
        for (let i = 0; i < x.length; i += opts.batchSize) {
          const r = await trainer.loss(
            x.slice(i, i + opts.batchSize),
            y.slice(i, i + opts.batchSize),
            cond?.slice(i, i + opts.batchSize),
          );
          if (r.count > 0) {
            total += r.loss * r.count;
            count += r.count;
          }
        }
      };
      if (opts.wholeStreams)
        for (const batch of streamBatches(opts.validation, opts.batchSize, null))
          await score(batch, batchLength(opts.validation, batch));
      else {
        const windows = windowStarts(opts.validation, opts.sequenceLength, opts.sequenceLength);
        if (windows.length === 0) return null;
        await score(windows, opts.sequenceLength);
      }
      return count ? total / count : null;
    },
    save(dir, meta, best) {
      const st = trainer.state();
      writeCheckpoint(
        dir,
        { ...meta, trainer: 'ort', step: st.step },
        arrays(st.params, ''),
        [...arrays(st.m, 'm:'), ...arrays(st.v, 'v:')],
        best,
      );
      return Promise.resolve();
    },
    load(dir) {
      const { meta, weights, optimizer, best } = readCheckpoint(dir, 'ort');
      const pick = (list: NamedArray[], prefix: string): Record<string, Float32Array> =>
        Object.fromEntries(
          list.filter((a) => a.name.startsWith(prefix)).map((a) => [a.name.slice(prefix.length), a.data]),
        );
      try {
        trainer.restore({
          step: meta.step ?? 0,
          params: pick(weights, ''),
          m: pick(optimizer, 'm:'),
          v: pick(optimizer, 'v:'),
        });
      } catch (err) {
        throw new CheckpointError(join(dir, 'checkpoint.json'), (err as Error).message);
      }
      return Promise.resolve({ meta, best });
    },
    weights: () => arrays(trainer.state().params, '').map((a) => ({ ...a, data: Float32Array.from(a.data) })),
    setWeights(weights) {
      const st = trainer.state();
      for (const a of weights) (st.params[a.name] as Float32Array).set(a.data);
    },
    async finish() {
      const w = trainer.weights();
      setWeights(model, spec, w);
      await trainer.dispose();
      return model;
    },
  };
}

/** Puts weights in the tfjs layout into the model (the inverse of extractWeights). */
function setWeights(model: tf.Sequential, spec: LstmLmSpec, w: LstmLmWeights): void {
  const put = (name: string, arrays: Float32Array[]): void => {
    const layer = model.getLayer(name);
    layer.setWeights(layer.getWeights().map((t, i) => tf.tensor(arrays[i] as Float32Array, t.shape)));
  };
  if (spec.embedding > 0 && w.embedding) put(layerNames.embedding, [w.embedding]);
  w.lstm.forEach((l, i) => put(layerNames.lstm(i), [l.kernel, l.recurrent, l.bias]));
  put(layerNames.output, [w.outputKernel, w.outputBias]);
}

/** Mean cross-entropy per predicted token over the given streams (null when there is nothing to score). */
export function evaluateLoss(
  model: tf.LayersModel,
  streams: readonly (readonly number[])[],
  spec: LstmLmSpec,
  len: number,
  batchSize: number,
  contextual = false,
  conditions?: readonly Float32Array[],
): number | null {
  const windows = windowStarts(streams, len, len);
  if (windows.length === 0) return null;
  const { x, y } = windowRows(streams, windows, len, spec.vocabSize, contextual);
  const C = conditionWidth(spec);
  const cond = conditions ? windowConditions(conditions, windows, len, C) : undefined;
  let total = 0;
  let count = 0;
  for (let i = 0; i < x.length; i += batchSize) {
    tf.tidy(() => {
      const xb = oneHotBatch(
        x.slice(i, i + batchSize),
        spec.vocabSize,
        cond ? { rows: cond.slice(i, i + batchSize), width: C } : undefined,
      );
      const probs = (model.predict(xb) as tf.Tensor3D).arraySync();
      y.slice(i, i + batchSize).forEach((row, b) =>
        row.forEach((id, t) => {
          if (id < 0) return;
          total -= Math.log(Math.max(probs[b]?.[t]?.[id] ?? 0, 1e-12));
          count++;
        }),
      );
    });
  }
  return count ? total / count : null;
}

/** Trains (or resumes) a model; writes a checkpoint after every epoch. */
export async function trainLm(opts: TrainOptions): Promise<TrainResult> {
  const { spec, sequenceLength: len, batchSize } = opts;
  const log = opts.log ?? ((): void => undefined);
  if (opts.train.every((s) => s.length === 0)) {
    throw new Error('training data is empty: no token windows to learn from');
  }
  const C = conditionWidth(spec);
  if (C > 0 !== Boolean(opts.conditions))
    throw new RangeError(
      C > 0
        ? 'a conditioned model needs the conditioning of its data'
        : 'conditioning given to a model without it',
    );
  const lengths = (streams: readonly (readonly number[])[], conds: readonly Float32Array[]): boolean =>
    streams.length === conds.length && streams.every((s, i) => (conds[i]?.length ?? -1) === s.length * C);
  if (
    opts.conditions &&
    !(lengths(opts.train, opts.conditions.train) && lengths(opts.validation, opts.conditions.validation))
  )
    throw new RangeError(`the conditioning must hold ${C} values for every token of every stream`);
  if (opts.device === 'cuda' && opts.trainer !== 'ort')
    throw new DeviceError(
      '--device cuda trains with --trainer ort (tfjs-node-gpu cannot install here; see --backend)',
    );
  if ((opts.wholeStreams || opts.schedule) && (opts.trainer ?? 'tfjs') !== 'ort')
    throw new RangeError('whole-stream training and a learning-rate schedule need --trainer ort');
  if (opts.initial && (opts.trainer ?? 'tfjs') !== 'ort')
    throw new RangeError('starting from a pretrained model (--init) needs --trainer ort');
  // with random batches each epoch draws its own windows; otherwise every window at the stride, shuffled
  const windows = opts.randomBatches || opts.wholeStreams ? [] : windowStarts(opts.train, len, opts.stride);
  const batchesPerEpoch = opts.wholeStreams
    ? streamBatches(opts.train, batchSize, null).length
    : (opts.randomBatches ?? Math.ceil(windows.length / batchSize));
  const engine =
    (opts.trainer ?? 'tfjs') === 'ort'
      ? await ortEngine(opts, batchesPerEpoch * opts.epochs)
      : tfjsEngine(opts);
  let firstEpoch = 0;
  let losses: number[] = [];
  let validationLosses: (number | null)[] = [];
  let seconds = 0;
  let tokens = 0;
  // the best epoch by validation loss, and its weights (kept in memory and in the checkpoint)
  let bestEpoch: number | undefined;
  let best: NamedArray[] | null = null;
  let stoppedEarly = false;
  const ckptDir = join(opts.checkpointDir, 'checkpoint');
  if (opts.resume) {
    if (!existsSync(join(ckptDir, 'checkpoint.json')))
      throw new CheckpointError(ckptDir, '--resume: there is no checkpoint here to resume');
    const { meta, best: kept } = await engine.load(ckptDir);
    firstEpoch = meta.epoch;
    losses = meta.losses;
    validationLosses = meta.validationLosses;
    seconds = meta.seconds;
    tokens = meta.tokens;
    if (kept && meta.bestEpoch !== undefined) {
      bestEpoch = meta.bestEpoch;
      best = kept;
    }
    log(`resumed from ${ckptDir} after epoch ${firstEpoch}`);
  }
  const bar = opts.progress
    ? new cliProgress.SingleBar(
        {
          format:
            'epoch {epoch}/{epochs} |{bar}| {percentage}% | loss {loss} | {tps} tok/s | ETA {eta_formatted}',
          etaBuffer: 50,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start((opts.epochs - firstEpoch) * batchesPerEpoch, 0, {
    epoch: firstEpoch + 1,
    epochs: opts.epochs,
    loss: '-',
    val: '-',
    tps: '-',
  });
  const showVal = (v: number | null | undefined): string =>
    v == null ? '-' : opts.bitsPerToken ? `${(v / Math.LN2).toFixed(3)} bpc` : v.toFixed(4);
  for (let epoch = firstEpoch; epoch < opts.epochs; epoch++) {
    const rng = createRng(`${spec.seed}:epoch:${epoch}`);
    let batches: Window[][];
    if (opts.wholeStreams) batches = streamBatches(opts.train, batchSize, rng);
    else {
      let order: Window[];
      if (opts.randomBatches) {
        order = randomWindows(opts.train, len, opts.randomBatches * batchSize, rng);
      } else {
        order = rng.shuffle([...windows]);
      }
      batches = [];
      for (let b = 0; b < order.length; b += batchSize) batches.push(order.slice(b, b + batchSize));
    }
    let epochLoss = 0;
    let epochTokens = 0;
    const t0 = performance.now();
    for (const batch of batches) {
      const T = opts.wholeStreams ? batchLength(opts.train, batch) : len;
      const { x, y } = windowRows(opts.train, batch, T, spec.vocabSize, opts.contextual);
      const cond = opts.conditions
        ? windowConditions(opts.conditions.train, batch, T, conditionWidth(spec))
        : undefined;
      const loss = await engine.trainBatch(x, y, cond);
      // whole streams: the real targets (the loss is their mean); windows: every position, as before
      const n = opts.wholeStreams
        ? batch.reduce((k, w) => k + (opts.train[w.stream] as readonly number[]).length, 0)
        : x.length * len;
      epochLoss += loss * n;
      epochTokens += n;
      const elapsed = (performance.now() - t0) / 1000;
      bar?.increment(1, {
        epoch: epoch + 1,
        val: showVal(validationLosses[validationLosses.length - 1]),
        loss: (epochLoss / epochTokens).toFixed(4),
        tps: Math.round(epochTokens / Math.max(elapsed, 1e-9)),
      });
    }
    const dt = (performance.now() - t0) / 1000;
    seconds += dt;
    tokens += epochTokens;
    losses.push(epochLoss / epochTokens);
    const v = await engine.validate();
    validationLosses.push(v);
    const bestV = bestEpoch === undefined ? null : (validationLosses[bestEpoch - 1] ?? null);
    if (v !== null && (bestV === null || v < bestV)) {
      bestEpoch = epoch + 1;
      best = engine.weights();
    }
    await engine.save(
      ckptDir,
      { bestEpoch, epoch: epoch + 1, losses, validationLosses, seconds, tokens },
      best,
    );
    if (!bar || !process.stderr.isTTY) {
      const v = validationLosses[validationLosses.length - 1];
      log(
        `epoch ${epoch + 1}/${opts.epochs} loss ${(losses[losses.length - 1] as number).toFixed(4)}` +
          (v != null ? ` val ${showVal(v)}` : '') +
          ` ${Math.round(epochTokens / dt)} tok/s ${dt.toFixed(2)} s`,
      );
    }
    const last = losses[losses.length - 1] as number;
    if (!Number.isFinite(last) || (v !== null && !Number.isFinite(v))) {
      // the weights are lost to NaN or Infinity: nothing later can mend them
      if (bestEpoch === undefined || !best)
        throw new TrainingDivergedError(
          `the training loss became ${last} at epoch ${epoch + 1}, and no earlier epoch was kept (no validation data, or none better): nothing is written; try a lower --lr`,
        );
      log(
        `the training loss became ${Number.isFinite(last) ? `finite but validation ${v}` : last} at epoch ${epoch + 1}: stopping, and keeping the best epoch, ${bestEpoch}`,
      );
      stoppedEarly = true;
      break;
    }
    if (opts.patience && bestEpoch !== undefined && epoch + 1 - bestEpoch >= opts.patience) {
      stoppedEarly = epoch + 1 < opts.epochs;
      if (stoppedEarly)
        log(`no better validation loss for ${opts.patience} epochs: stopping after epoch ${epoch + 1}`);
      break;
    }
  }
  bar?.stop();
  // the bundle is the best epoch's model when validation chose one
  const chosen = bestEpoch ?? losses.length;
  if (best && bestEpoch !== losses.length) {
    engine.setWeights(best);
    log(`keeping epoch ${bestEpoch} (best validation loss) over the last, epoch ${losses.length}`);
  }
  const epochsRun = Math.max(losses.length, 1);
  return {
    model: await engine.finish(),
    epoch: chosen,
    stoppedEarly,
    losses,
    validationLosses,
    tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
    secondsPerEpoch: seconds / epochsRun,
    trainedTokens: tokens,
  };
}
