/**
 * The training loop shared by both pipelines: seeded window shuffling, Adam, a progress bar (epoch,
 * loss, tokens/s, ETA), a checkpoint after every epoch, `--resume` from it, and validation loss.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import cliProgress from 'cli-progress';
import { createRng, type Rng } from '../music/rng.ts';
import { buildModel, oneHotBatch, type LstmLmSpec } from './model.ts';

export interface TrainOptions {
  readonly spec: LstmLmSpec;
  /** Token id streams; windows never cross from one stream into the next. */
  readonly train: readonly (readonly number[])[];
  readonly validation: readonly (readonly number[])[];
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
  /** Report validation loss as bits per token (characters) instead of nats. */
  readonly bitsPerToken?: boolean;
  /** Folder for checkpoint/; also where --resume looks. */
  readonly checkpointDir: string;
  readonly resume: boolean;
  /** Show a progress bar on stderr (off in tests). */
  readonly progress: boolean;
  readonly log?: (line: string) => void;
}

export interface TrainResult {
  readonly model: tf.Sequential;
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

interface Checkpoint {
  epoch: number;
  losses: number[];
  validationLosses: (number | null)[];
  seconds: number;
  tokens: number;
  weights: { name: string; shape: number[]; offset: number }[];
  optimizer: { name: string; shape: number[]; offset: number }[];
}

async function saveCheckpoint(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  meta: Omit<Checkpoint, 'weights' | 'optimizer'>,
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const chunks: Float32Array[] = [];
  let offset = 0;
  const put = (name: string, t: tf.Tensor): { name: string; shape: number[]; offset: number } => {
    const data = t.dataSync() as Float32Array;
    chunks.push(Float32Array.from(data));
    const entry = { name, shape: t.shape, offset };
    offset += data.length;
    return entry;
  };
  const weights = model.getWeights().map((t, i) => put(`w${i}`, t));
  const optimizer_ = (await optimizer.getWeights()).map((nt) => put(nt.name, nt.tensor));
  const all = new Float32Array(offset);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  // Write beside, then rename: a crash mid-write never leaves a broken checkpoint.
  writeFileSync(join(dir, 'checkpoint.bin.tmp'), Buffer.from(all.buffer));
  writeFileSync(
    join(dir, 'checkpoint.json.tmp'),
    JSON.stringify({ ...meta, weights, optimizer: optimizer_ }),
  );
  renameSync(join(dir, 'checkpoint.bin.tmp'), join(dir, 'checkpoint.bin'));
  renameSync(join(dir, 'checkpoint.json.tmp'), join(dir, 'checkpoint.json'));
}

async function loadCheckpoint(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
): Promise<Checkpoint> {
  const meta = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as Checkpoint;
  const buf = readFileSync(join(dir, 'checkpoint.bin'));
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const take = (e: { shape: number[]; offset: number }): tf.Tensor => {
    const size = e.shape.reduce((a, b) => a * b, 1);
    return tf.tensor(all.slice(e.offset, e.offset + size), e.shape);
  };
  const expected = model.getWeights();
  if (
    expected.length !== meta.weights.length ||
    expected.some((t, i) => t.shape.join() !== meta.weights[i]?.shape.join())
  ) {
    throw new Error(
      `${join(dir, 'checkpoint.json')}: the checkpoint's weights do not fit this model's configuration`,
    );
  }
  model.setWeights(meta.weights.map(take));
  await optimizer.setWeights(meta.optimizer.map((e) => ({ name: e.name, tensor: take(e) })));
  return meta;
}

/** Mean cross-entropy per predicted token over the given streams (null when there is nothing to score). */
export function evaluateLoss(
  model: tf.LayersModel,
  streams: readonly (readonly number[])[],
  spec: LstmLmSpec,
  len: number,
  batchSize: number,
  contextual = false,
): number | null {
  const windows = windowStarts(streams, len, len);
  if (windows.length === 0) return null;
  const { x, y } = windowRows(streams, windows, len, spec.vocabSize, contextual);
  let total = 0;
  let count = 0;
  for (let i = 0; i < x.length; i += batchSize) {
    tf.tidy(() => {
      const xb = oneHotBatch(x.slice(i, i + batchSize), spec.vocabSize);
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
  const model = buildModel(spec);
  const optimizer = tf.train.adam(opts.learningRate, 0.9, 0.999);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  if (opts.train.every((s) => s.length === 0)) {
    throw new Error('training data is empty: no token windows to learn from');
  }
  // with random batches each epoch draws its own windows; otherwise every window at the stride, shuffled
  const windows = opts.randomBatches ? [] : windowStarts(opts.train, len, opts.stride);
  let firstEpoch = 0;
  let losses: number[] = [];
  let validationLosses: (number | null)[] = [];
  let seconds = 0;
  let tokens = 0;
  const ckptDir = join(opts.checkpointDir, 'checkpoint');
  if (opts.resume) {
    if (!existsSync(join(ckptDir, 'checkpoint.json')))
      throw new Error(`--resume: no checkpoint in ${ckptDir}`);
    const meta = await loadCheckpoint(ckptDir, model, optimizer);
    firstEpoch = meta.epoch;
    losses = meta.losses;
    validationLosses = meta.validationLosses;
    seconds = meta.seconds;
    tokens = meta.tokens;
    log(`resumed from ${ckptDir} after epoch ${firstEpoch}`);
  }
  const batchesPerEpoch = opts.randomBatches ?? Math.ceil(windows.length / batchSize);
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
    let order: Window[];
    if (opts.randomBatches) {
      order = randomWindows(opts.train, len, opts.randomBatches * batchSize, rng);
    } else {
      order = [...windows];
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j] as Window, order[i] as Window];
      }
    }
    let epochLoss = 0;
    let epochTokens = 0;
    const t0 = performance.now();
    for (let b = 0; b < order.length; b += batchSize) {
      const { x, y } = windowRows(
        opts.train,
        order.slice(b, b + batchSize),
        len,
        spec.vocabSize,
        opts.contextual,
      );
      const xb = oneHotBatch(x, spec.vocabSize);
      const yb = oneHotBatch(y, spec.vocabSize);
      const loss = (await model.trainOnBatch(xb, yb)) as number;
      tf.dispose([xb, yb]);
      const n = x.length * len;
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
    validationLosses.push(evaluateLoss(model, opts.validation, spec, len, batchSize, opts.contextual));
    await saveCheckpoint(ckptDir, model, optimizer, {
      epoch: epoch + 1,
      losses,
      validationLosses,
      seconds,
      tokens,
    });
    if (!bar || !process.stderr.isTTY) {
      const v = validationLosses[validationLosses.length - 1];
      log(
        `epoch ${epoch + 1}/${opts.epochs} loss ${(losses[losses.length - 1] as number).toFixed(4)}` +
          (v != null ? ` val ${showVal(v)}` : '') +
          ` ${Math.round(epochTokens / dt)} tok/s ${dt.toFixed(2)} s`,
      );
    }
  }
  bar?.stop();
  const epochsRun = Math.max(losses.length, 1);
  return {
    model,
    losses,
    validationLosses,
    tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
    secondsPerEpoch: seconds / epochsRun,
    trainedTokens: tokens,
  };
}
