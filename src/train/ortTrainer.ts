/**
 * Training on the engine that plays: onnxruntime runs the training-step graph (ortGraph.ts: loss and
 * every gradient), and Adam with global-norm clipping updates the parameters here, in place. The
 * parameters live in Float32Arrays fed to ORT as inputs each step (even copied, 21 MB at the lab size
 * is a few ms against a step of about a second); only the loss and gradients come back.
 *
 * Two threads: on this 2-core machine the training graph's large MatMuls run 1.6–2× faster on two than
 * on one (measured: 256 units 32 → 50 K tokens/s, 1024 units 2.0 → 3.8 K), unlike the small live step.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { conditionWidth, type LstmLmSpec, type LstmLmWeights } from './model.ts';
import { createRng } from '../music/rng.ts';
import {
  buildTrainingGraph,
  CONDITION_INPUT,
  dropoutName,
  gradName,
  paramSpecs,
  type ParamSpec,
} from './ortGraph.ts';

/** Where the training graph runs: the CPU, or an NVIDIA GPU through onnxruntime's CUDA provider. */
import { TRAIN_DEVICES, type TrainDevice } from './defaults.ts';
import { UserError } from '../music/errors.ts';
export { TRAIN_DEVICES, type TrainDevice };

export class DeviceError extends UserError {
  override readonly name = 'DeviceError';
}

/**
 * The folder of onnxruntime-node's native binding for this platform, where its install script puts
 * the CUDA provider (libonnxruntime_providers_cuda.so) when it is asked to.
 */
function bindingDir(): string | null {
  const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const bin = join(pkg, 'bin');
  if (!existsSync(bin)) return null;
  const napi = readdirSync(bin).find((d) => d.startsWith('napi-v'));
  return napi ? join(bin, napi, process.platform, process.arch) : null;
}

/** Refuses --device cuda, naming what is missing, where onnxruntime-node's CUDA provider is absent. */
export function checkDevice(device: TrainDevice): void {
  if (device === 'cpu') return;
  const dir = bindingDir();
  const lib = dir ? join(dir, 'libonnxruntime_providers_cuda.so') : null;
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new DeviceError(
      `--device cuda: onnxruntime-node has a CUDA provider for Linux x64 only (this is ${process.platform} ${process.arch})`,
    );
  if (!lib || !existsSync(lib))
    throw new DeviceError(
      `--device cuda: onnxruntime-node's CUDA provider is not installed (no ${lib ?? 'libonnxruntime_providers_cuda.so'}). ` +
        "Its install script fetches it, and this project's .npmrc skips that (onnxruntime-node-install=skip); " +
        'install it with: npm install onnxruntime-node --onnxruntime-node-install=cuda12 (CUDA 12 and cuDNN 9 on the machine)',
    );
}

export interface OrtTrainerOptions {
  readonly learningRate: number;
  /** The learning rate's factor at an Adam step (1-based), a schedule; absent: 1 throughout. */
  readonly rateAt?: (step: number) => number;
  /** Default cpu. */
  readonly device?: TrainDevice;
  /** Gradients are scaled down when their global norm exceeds this (0: no clipping). */
  readonly clipNorm: number;
  readonly threads: number;
}

export const ORT_TRAINER_DEFAULTS = { clipNorm: 5, threads: 2 } as const;

/** Adam as tfjs has it (β1 0.9, β2 0.999, ε 1e-7, bias-corrected moments), so both trainers agree. */
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-7;

/** Everything a checkpoint needs to go on exactly where training stopped. */
export interface OrtTrainerState {
  readonly step: number;
  readonly params: Readonly<Record<string, Float32Array>>;
  readonly m: Readonly<Record<string, Float32Array>>;
  readonly v: Readonly<Record<string, Float32Array>>;
}

const size = (p: ParamSpec): number => p.shape.reduce((a, b) => a * b, 1);

/** Token rows [batch][T] as the graph's time-major int64 [T, batch]. */
function timeMajor(rows: readonly (readonly number[])[]): ort.Tensor {
  const B = rows.length;
  const T = rows[0]?.length ?? 0;
  const data = new BigInt64Array(T * B);
  for (let b = 0; b < B; b++) {
    const row = rows[b] as readonly number[];
    for (let t = 0; t < T; t++) data[t * B + b] = BigInt(row[t] as number);
  }
  return new ort.Tensor('int64', data, [T, B]);
}

/** Conditioning rows (one [T × width] array per batch row) as the graph's time-major [T, batch, width]. */
function conditionsTimeMajor(rows: readonly Float32Array[], T: number, width: number): ort.Tensor {
  const B = rows.length;
  const data = new Float32Array(T * B * width);
  rows.forEach((row, b) => {
    for (let t = 0; t < T; t++) data.set(row.subarray(t * width, (t + 1) * width), (t * B + b) * width);
  });
  return new ort.Tensor('float32', data, [T, B, width]);
}

export class OrtLmTrainer {
  private step = 0;
  private readonly params: Record<string, Float32Array> = {};
  private readonly m: Record<string, Float32Array> = {};
  private readonly v: Record<string, Float32Array> = {};
  private readonly specs: ParamSpec[];

  private constructor(
    readonly spec: LstmLmSpec,
    private readonly opts: OrtTrainerOptions,
    private readonly train: ort.InferenceSession,
    private readonly evaluate: ort.InferenceSession,
    initial: LstmLmWeights,
  ) {
    this.specs = paramSpecs(spec);
    const from = weightsByName(initial);
    for (const p of this.specs) {
      this.params[p.name] = Float32Array.from(from[p.name] as Float32Array);
      this.m[p.name] = new Float32Array(size(p));
      this.v[p.name] = new Float32Array(size(p));
    }
  }

  /** Builds the graphs for `spec` and starts from `initial` (the tfjs model's initial weights). */
  static async create(
    spec: LstmLmSpec,
    initial: LstmLmWeights,
    opts: OrtTrainerOptions,
  ): Promise<OrtLmTrainer> {
    const device = opts.device ?? 'cpu';
    checkDevice(device);
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: opts.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionProviders: [device],
    };
    let sessions: ort.InferenceSession[];
    try {
      sessions = await Promise.all([
        ort.InferenceSession.create(buildTrainingGraph(spec, true), options),
        ort.InferenceSession.create(buildTrainingGraph(spec, false), options),
      ]);
    } catch (err) {
      if (device === 'cpu') throw err;
      throw new DeviceError(
        `--device cuda: onnxruntime could not start its CUDA provider: ${(err as Error).message}`,
      );
    }
    const [train, evaluate] = sessions as [ort.InferenceSession, ort.InferenceSession];
    return new OrtLmTrainer(spec, opts, train, evaluate, initial);
  }

  private feeds(
    x: readonly (readonly number[])[],
    y: readonly (readonly number[])[],
    cond?: readonly Float32Array[],
  ): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = { tokens: timeMajor(x), targets: timeMajor(y) };
    const C = conditionWidth(this.spec);
    if (C > 0) {
      if (!cond || cond.length !== x.length)
        throw new RangeError('a conditioned model needs a conditioning row for every input row');
      feeds[CONDITION_INPUT] = conditionsTimeMajor(cond, x[0]?.length ?? 0, C);
    }
    for (const p of this.specs)
      feeds[p.name] = new ort.Tensor('float32', this.params[p.name] as Float32Array, [...p.shape]);
    return feeds;
  }

  /**
   * Dropout masks for a training step, one per layer [T, B, units]: each unit kept with probability
   * 1 − rate and scaled by 1 / (1 − rate). Drawn from the seed and the step, so a resumed run draws what
   * an uninterrupted one would.
   */
  masks(T: number, B: number): Record<string, ort.Tensor> {
    const rate = this.spec.dropout;
    const H = this.spec.units;
    const keep = 1 / (1 - rate);
    const rng = createRng(`${this.spec.seed}:dropout:${this.step}`);
    const out: Record<string, ort.Tensor> = {};
    for (let l = 0; l < this.spec.layers; l++) {
      const mask = new Float32Array(T * B * H);
      for (let k = 0; k < mask.length; k++) mask[k] = rng.next() < rate ? 0 : keep;
      out[dropoutName(l)] = new ort.Tensor('float32', mask, [T, B, H]);
    }
    return out;
  }

  /** Loss and gradients for one batch (input rows x, target rows y; −1 pads), without updating. */
  async gradients(
    x: readonly (readonly number[])[],
    y: readonly (readonly number[])[],
    masks?: Record<string, ort.Tensor>,
    cond?: readonly Float32Array[],
  ): Promise<{ loss: number; count: number; grads: Record<string, Float32Array> }> {
    const feeds = this.feeds(x, y, cond);
    if (this.spec.dropout > 0) Object.assign(feeds, masks ?? this.masks(x[0]?.length ?? 0, x.length));
    const out = await this.train.run(feeds);
    const grads: Record<string, Float32Array> = {};
    for (const p of this.specs) grads[p.name] = out[gradName(p.name)]?.data as Float32Array;
    return {
      loss: (out.loss?.data as Float32Array)[0] as number,
      count: (out.count?.data as Float32Array)[0] as number,
      grads,
    };
  }

  /** One Adam step on a batch; returns the batch's mean loss per real target. */
  async trainBatch(
    x: readonly (readonly number[])[],
    y: readonly (readonly number[])[],
    cond?: readonly Float32Array[],
  ): Promise<number> {
    const { loss, count, grads } = await this.gradients(x, y, undefined, cond);
    if (count > 0) this.apply(grads);
    return loss;
  }

  /** Mean loss per real target over batches of rows, and how many targets it covered. */
  async loss(
    x: readonly (readonly number[])[],
    y: readonly (readonly number[])[],
    cond?: readonly Float32Array[],
  ): Promise<{ loss: number; count: number }> {
    const out = await this.evaluate.run(this.feeds(x, y, cond));
    return {
      loss: (out.loss?.data as Float32Array)[0] as number,
      count: (out.count?.data as Float32Array)[0] as number,
    };
  }

  private apply(grads: Record<string, Float32Array>): void {
    let squares = 0;
    for (const p of this.specs) for (const g of grads[p.name] as Float32Array) squares += g * g;
    const norm = Math.sqrt(squares);
    const scale = this.opts.clipNorm > 0 && norm > this.opts.clipNorm ? this.opts.clipNorm / norm : 1;
    this.step++;
    const lr = this.opts.learningRate * (this.opts.rateAt?.(this.step) ?? 1);
    const c1 = 1 - BETA1 ** this.step;
    const c2 = 1 - BETA2 ** this.step;
    for (const p of this.specs) {
      const w = this.params[p.name] as Float32Array;
      const g = grads[p.name] as Float32Array;
      const m = this.m[p.name] as Float32Array;
      const v = this.v[p.name] as Float32Array;
      for (let k = 0; k < w.length; k++) {
        const gk = (g[k] as number) * scale;
        const mk = BETA1 * (m[k] as number) + (1 - BETA1) * gk;
        const vk = BETA2 * (v[k] as number) + (1 - BETA2) * gk * gk;
        m[k] = mk;
        v[k] = vk;
        w[k] = (w[k] as number) - (lr * (mk / c1)) / (Math.sqrt(vk / c2) + EPSILON);
      }
    }
  }

  /** The trained weights in the tfjs model's layout (what the exporter takes). */
  weights(): LstmLmWeights {
    const p = this.params;
    return {
      embedding: this.spec.embedding > 0 ? (p.embedding as Float32Array) : null,
      lstm: Array.from({ length: this.spec.layers }, (_, l) => ({
        kernel: p[`kernel${l}`] as Float32Array,
        recurrent: p[`recurrent${l}`] as Float32Array,
        bias: p[`bias${l}`] as Float32Array,
      })),
      outputKernel: p.outputKernel as Float32Array,
      outputBias: p.outputBias as Float32Array,
    };
  }

  state(): OrtTrainerState {
    return { step: this.step, params: this.params, m: this.m, v: this.v };
  }

  /** Goes on from a checkpoint; throws naming the first parameter whose size does not fit. */
  restore(state: OrtTrainerState): void {
    for (const p of this.specs) {
      for (const [what, from, to] of [
        ['parameter', state.params, this.params],
        ['Adam m', state.m, this.m],
        ['Adam v', state.v, this.v],
      ] as const) {
        const src = from[p.name];
        if (!src || src.length !== size(p))
          throw new RangeError(`the checkpoint's ${what} ${p.name} does not fit this model's configuration`);
        (to[p.name] as Float32Array).set(src);
      }
    }
    this.step = state.step;
  }

  async dispose(): Promise<void> {
    await Promise.all([this.train.release(), this.evaluate.release()]);
  }
}

/** The tfjs layout's weights by the training graph's parameter names. */
export function weightsByName(w: LstmLmWeights): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = { outputKernel: w.outputKernel, outputBias: w.outputBias };
  if (w.embedding) out.embedding = w.embedding;
  w.lstm.forEach((l, i) => {
    out[`kernel${i}`] = l.kernel;
    out[`recurrent${i}`] = l.recurrent;
    out[`bias${i}`] = l.bias;
  });
  return out;
}
