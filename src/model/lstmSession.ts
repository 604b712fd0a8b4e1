/**
 * A stateful inference session over an ONNX bundle: it keeps h and c between calls, so a phrase can be
 * primed in one run and the model then stepped one token at a time, live.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadManifest, type BundleManifest } from '../music/bundle.ts';
import { CONDITION_FEATURES, unknownFeatures } from '../music/conditioning.ts';
import { abcMusicLines, readCopyIndex, rhythmProjection } from '../music/copyIndex.ts';
import { CopyIndex } from './copyGuard.ts';
import { BundleError } from '../music/errors.ts';
import { readRegularWithin } from '../music/files.ts';

/**
 * How long a bundle's file may take to read before the load gives up (a hung mount): far above what
 * a 30 MB model on an SD card takes, short enough that a reload's failure is heard the same minute.
 */
export const LOAD_LIMIT_MS = 20_000;

/** h and c, copied: what snapshot() returns and restore() takes. */
export interface SessionState {
  readonly h: Float32Array;
  readonly c: Float32Array;
}

export interface StepOutput {
  /** Probabilities over the vocabulary for the next token. */
  readonly probs: Float32Array;
  readonly logits: Float32Array;
}

export class LstmSession {
  private h: Float32Array;
  private c: Float32Array;
  private readonly stateSize: number;
  private readonly stateDims: readonly number[];
  private readonly tokenBuf = new BigInt64Array(1);
  /** A conditioned model's conditioning width (0: none). */
  readonly conditionWidth: number;
  /** The conditioning features it hears, in input order (conditioning.ts; empty: none). */
  readonly conditionFeatures: readonly string[];

  private copies: CopyIndex | null | undefined;

  private constructor(
    readonly manifest: BundleManifest,
    private readonly session: ort.InferenceSession,
    /** The bundle folder it was loaded from. */
    readonly dir: string,
  ) {
    const [layers, units] = manifest.io.stateShape;
    this.stateSize = layers * units;
    this.stateDims = [layers, 1, units];
    this.h = new Float32Array(this.stateSize);
    this.c = new Float32Array(this.stateSize);
    this.conditionFeatures = manifest.conditioning?.features ?? [];
    this.conditionWidth = this.conditionFeatures.length;
  }

  /**
   * Loads `<dir>/manifest.json` and its ONNX model on one thread; checks names, shapes and vocabulary.
   * Where the bundle has an int8 variant (manifest `quantized`), that is what plays, unless `precision`
   * asks for fp32.
   */
  static async load(
    dir: string,
    precision: 'best' | 'fp32' = 'best',
    limitMs = LOAD_LIMIT_MS,
  ): Promise<LstmSession> {
    // both files are read off this thread, within a time limit, and only if regular files: a model
    // that is a FIFO, or sits on a hung mount, once froze the daemon (no /health, no panic, no
    // SIGTERM) inside onnxruntime's own open; from bytes, onnxruntime opens nothing
    const manifest = await loadManifest(dir, limitMs);
    const file = precision === 'best' && manifest.quantized ? manifest.quantized.model : manifest.model;
    const modelPath = join(dir, file);
    const bytes = await readRegularWithin(
      modelPath,
      limitMs,
      (why) => new BundleError(modelPath, 'model', why),
    );
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (err) {
      throw new BundleError(
        modelPath,
        'model',
        `cannot load ONNX model (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
      );
    }
    const requireNames = (field: string, what: string, wanted: object, have: readonly string[]): void => {
      for (const name of Object.values(wanted) as string[]) {
        if (!have.includes(name)) {
          throw new BundleError(
            modelPath,
            field,
            `the model has no ${what} '${name}' (it has ${have.join(', ')})`,
          );
        }
      }
    };
    requireNames('io.inputs', 'input', manifest.io.inputs, session.inputNames);
    requireNames('io.outputs', 'output', manifest.io.outputs, session.outputNames);
    checkDeclaredShapes(modelPath, manifest, session);
    const s = new LstmSession(manifest, session, dir);
    if (manifest.conditioning) {
      const unknown = unknownFeatures(manifest.conditioning.features);
      if (unknown.length)
        throw new BundleError(
          join(dir, 'manifest.json'),
          'conditioning.features',
          `this runtime does not compute '${unknown.join("', '")}' (it knows ${CONDITION_FEATURES.join(', ')}); the model was trained on others`,
        );
    }
    let probe: StepOutput;
    try {
      probe = await s.step(manifest.startToken, new Float32Array(s.conditionWidth));
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new BundleError(
        modelPath,
        'vocabulary',
        `the model cannot run the start token ${manifest.startToken}, so the vocabulary does not match it (${why})`,
      );
    }
    if (!probe.logits.every(Number.isFinite)) {
      throw new BundleError(
        modelPath,
        'model',
        'its outputs are not finite numbers (weights that are NaN or Infinity): it cannot play',
      );
    }
    if (probe.probs.length !== manifest.vocabulary.length) {
      throw new BundleError(
        modelPath,
        'vocabulary',
        `the manifest lists ${manifest.vocabulary.length} tokens but the model predicts ${probe.probs.length}`,
      );
    }
    if (s.h.length !== s.stateSize) {
      throw new BundleError(
        modelPath,
        'io.stateShape',
        `the model's state has ${s.h.length} values, the manifest says ${s.stateSize}`,
      );
    }
    s.reset();
    return s;
  }

  /**
   * The automata over the bundle's training sequences that bound copies (copyGuard.ts), read and built
   * on first use and shared from then on; null for a bundle that carries no training index.
   */
  copyIndex(): CopyIndex | null {
    if (this.copies === undefined) {
      const sequences = readCopyIndex(this.dir, this.manifest);
      const V = this.manifest.vocabulary.length;
      // the char model's bound holds to the tunes' bodies (header lines are boilerplate)
      this.copies = !sequences
        ? null
        : this.manifest.kind === 'abc-char'
          ? new CopyIndex(
              sequences.flatMap((s) => abcMusicLines(s, this.manifest.vocabulary)),
              V,
              null,
            )
          : new CopyIndex(sequences, V, rhythmProjection(this.manifest));
    }
    return this.copies;
  }

  get vocabulary(): readonly string[] {
    return this.manifest.vocabulary;
  }

  get startToken(): number {
    return this.manifest.startToken;
  }

  /** Back to the zero state of a fresh sequence. */
  reset(): void {
    this.h = new Float32Array(this.stateSize);
    this.c = new Float32Array(this.stateSize);
  }

  snapshot(): SessionState {
    return { h: this.h.slice(), c: this.c.slice() };
  }

  restore(state: SessionState): void {
    if (state.h.length !== this.stateSize || state.c.length !== this.stateSize) {
      throw new RangeError(`restore: state has ${state.h.length} values, this model needs ${this.stateSize}`);
    }
    this.h = state.h.slice();
    this.c = state.c.slice();
  }

  private checkToken(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id > this.manifest.startToken) {
      throw new RangeError(`token id ${id} is outside 0..${this.manifest.startToken}`);
    }
  }

  /**
   * Feeds one token and returns the distribution over the next one; the state moves on. A conditioned
   * model also takes what it hears while predicting that next token (conditionWidth values).
   */
  async step(id: number, condition?: Float32Array): Promise<StepOutput> {
    this.checkToken(id);
    this.tokenBuf[0] = BigInt(id);
    const out = await this.runTensor(new ort.Tensor('int64', this.tokenBuf, [1, 1]), condition, 1);
    return { probs: out.probs, logits: out.logits };
  }

  /**
   * Feeds a whole sequence in one run (the fast path for priming); returns the per-step
   * probabilities [seq × V] and leaves the state after the last token.
   */
  async run(
    ids: readonly number[],
    conditions?: Float32Array,
  ): Promise<{ probs: Float32Array; logits: Float32Array }> {
    if (ids.length === 0) throw new RangeError('run: empty token sequence');
    ids.forEach((id) => this.checkToken(id));
    const tokens = BigInt64Array.from(ids.map((id) => BigInt(id)));
    return this.runTensor(new ort.Tensor('int64', tokens, [ids.length, 1]), conditions, ids.length);
  }

  /** Primes with a sequence (and, conditioned, one row per token); returns the distribution after its last token. */
  async prime(ids: readonly number[], conditions?: Float32Array): Promise<StepOutput> {
    const { probs, logits } = await this.run(ids, conditions);
    const V = this.manifest.vocabulary.length;
    const from = probs.length - V;
    return { probs: probs.subarray(from), logits: logits.subarray(from) };
  }

  private async runTensor(
    tokens: ort.Tensor,
    conditions: Float32Array | undefined,
    steps: number,
  ): Promise<{ probs: Float32Array; logits: Float32Array }> {
    const { inputs, outputs } = this.manifest.io;
    const feeds: Record<string, ort.Tensor> = {
      [inputs.tokens]: tokens,
      [inputs.h]: new ort.Tensor('float32', this.h, this.stateDims),
      [inputs.c]: new ort.Tensor('float32', this.c, this.stateDims),
    };
    const C = this.conditionWidth;
    if (inputs.cond) {
      if (!conditions || conditions.length !== steps * C)
        throw new RangeError(
          `this model hears ${C} conditioning values per step, got ${conditions?.length ?? 0} for ${steps}`,
        );
      feeds[inputs.cond] = new ort.Tensor('float32', conditions, [steps, 1, C]);
    }
    const result = await this.session.run(feeds);
    this.h = result[outputs.h]?.data as Float32Array;
    this.c = result[outputs.c]?.data as Float32Array;
    return {
      probs: result[outputs.probs]?.data as Float32Array,
      logits: result[outputs.logits]?.data as Float32Array,
    };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Compares the graph's declared input and output shapes with the manifest before anything runs, so
 * a model from another bundle is refused for what differs (its state, its conditioning, its
 * vocabulary) rather than for whatever fails first when it runs.
 */
function checkDeclaredShapes(
  modelPath: string,
  manifest: BundleManifest,
  session: ort.InferenceSession,
): void {
  const declared = (
    list: readonly ort.InferenceSession.ValueMetadata[],
    name: string,
  ): readonly (number | string)[] => {
    const v = list.find((m) => m.name === name);
    return v?.isTensor ? v.shape : [];
  };
  const fixed = (shape: readonly (number | string)[], i: number): number | null => {
    const d = shape.at(i);
    return typeof d === 'number' ? d : null;
  };
  const [layers, units] = manifest.io.stateShape;
  for (const name of [manifest.io.inputs.h, manifest.io.inputs.c]) {
    const shape = declared(session.inputMetadata, name);
    const haveLayers = fixed(shape, 0);
    const haveUnits = fixed(shape, -1);
    if ((haveLayers !== null && haveLayers !== layers) || (haveUnits !== null && haveUnits !== units))
      throw new BundleError(
        modelPath,
        'io.stateShape',
        `the model's state ${name} is [${shape.join(', ')}], the manifest says ${layers} layer(s) of ${units} units: the ONNX file is not this bundle's`,
      );
  }
  const condWidth = manifest.conditioning?.features.length ?? 0;
  if (manifest.io.inputs.cond) {
    const have = fixed(declared(session.inputMetadata, manifest.io.inputs.cond), -1);
    if (have !== null && have !== condWidth)
      throw new BundleError(
        modelPath,
        'conditioning',
        `the model hears ${have} conditioning features, the manifest lists ${condWidth}: the ONNX file is not this bundle's`,
      );
  }
  const predicts = fixed(declared(session.outputMetadata, manifest.io.outputs.probs), -1);
  if (predicts !== null && predicts !== manifest.vocabulary.length)
    throw new BundleError(
      modelPath,
      'vocabulary',
      `the manifest lists ${manifest.vocabulary.length} tokens but the model predicts ${predicts}`,
    );
}
