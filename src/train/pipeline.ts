/**
 * What both trainers share: pick and log the backend, train (or resume), draw the loss curve, export
 * the checked ONNX bundle with its manifest, and log the figures.
 */
import { existsSync, mkdirSync, statSync, type Stats } from 'node:fs';
import { writeFileAtomicSync } from '../music/files.ts';
import { OutputFileError } from '../music/errors.ts';
import { join } from 'node:path';
import type { BundleManifest } from '../music/bundle.ts';
import { selectBackend, type BackendName } from './backend.ts';
import { encodeCopyIndex, rhythmProjection } from '../music/copyIndex.ts';
import { chooseCopyBound } from './copyBound.ts';
import { exportBundle } from './exportBundle.ts';
import { checkDevice, ORT_TRAINER_DEFAULTS, type TrainDevice } from './ortTrainer.ts';
import { lossCurveSvg } from './lossCurve.ts';
import type { LstmLmSpec } from './model.ts';
import { sha256 } from './sha.ts';
import {
  CheckpointError,
  trainLm,
  type TrainerName,
  type TrainOptions,
  type TrainResult,
} from './trainer.ts';

/** What every trainer takes besides its own data and model size. */
export interface CommonTrainOptions {
  readonly data: readonly string[];
  readonly out: string;
  readonly units: number;
  readonly layers: number;
  readonly dropout: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly batchSize: number;
  readonly sequenceLength: number;
  /** Share held out for validation. */
  readonly validation: number;
  readonly seed: number;
  readonly backend?: BackendName;
  /** Which trainer runs the steps: onnxruntime's gradient graphs (default) or TensorFlow.js. */
  readonly trainer?: TrainerName;
  /** ort: threads for the training graph, and where it runs. */
  readonly threads?: number;
  readonly device?: TrainDevice;
  /** Stop after this many epochs without a better validation loss. */
  readonly patience?: number;
  /** The training data's licence, recorded in the manifest (a model trained on GPL data says so). */
  readonly licence?: string;
  readonly resume: boolean;
  readonly progress: boolean;
  readonly log: (line: string) => void;
}

export interface PipelineOptions extends Omit<
  TrainOptions,
  'spec' | 'checkpointDir' | 'log' | 'learningRate'
> {
  readonly kind: BundleManifest['kind'];
  readonly title: string;
  readonly out: string;
  readonly spec: LstmLmSpec;
  readonly vocabulary: readonly string[];
  readonly data: readonly string[];
  readonly profile: string;
  readonly learningRate: number;
  readonly backend?: BackendName;
  readonly log: (line: string) => void;
  readonly jazz?: BundleManifest['jazz'];
  /** A conditioned model: the names of its conditioning features, in input order. */
  readonly conditioning?: BundleManifest['conditioning'];
  /** Also export the int8 variant for live play, measured on the validation streams. */
  readonly quantize?: boolean;
  readonly licence?: string;
  /** The pretrained bundle the weights started from (`initial`), for the manifest. */
  readonly initFrom?: NonNullable<BundleManifest['training']['init']>;
  /** A char model's note lengths by meter (recorded in the manifest). */
  readonly abcLengths?: BundleManifest['abcLengths'];
  readonly abcShortShare?: BundleManifest['abcShortShare'];
  /** How a char model's data was split (recorded in the manifest). */
  readonly split?: NonNullable<BundleManifest['training']['split']>;
  /**
   * The held-out material the default copy bound is measured on, as sequences (a tune each); default:
   * the validation sequences.
   */
  readonly copyHeldOut?: readonly (readonly number[])[];
  /** The training material it is measured against, where it is not the training sequences as they are. */
  readonly copyTrain?: readonly (readonly number[])[];
  /** What the copy index holds (default: the training sequences): the music, where ids stand for more. */
  readonly copyIndex?: readonly (readonly number[])[];
}

export interface PipelineResult {
  readonly manifest: BundleManifest;
  readonly result: Omit<TrainResult, 'model'>;
  readonly backend: BackendName;
}

/** Refuses an --out that cannot hold a bundle, or a --resume with nothing to resume, before anything is written. */
function checkOut(out: string, resume: boolean): void {
  let stat: Stats | null = null;
  try {
    stat = statSync(out);
  } catch {
    // not there yet: training creates it
  }
  if (stat && !stat.isDirectory())
    throw new OutputFileError(out, '--out names a file; it must name the bundle folder');
  const checkpoint = join(out, 'checkpoint');
  if (resume && !existsSync(join(checkpoint, 'checkpoint.json')))
    throw new CheckpointError(checkpoint, '--resume: there is no checkpoint here to resume');
}

export async function trainAndExport(opts: PipelineOptions): Promise<PipelineResult> {
  checkOut(opts.out, opts.resume);
  // tfjs still builds the model (initial weights, the exporter's fidelity check) on either trainer
  const backend = await selectBackend(opts.backend);
  for (const s of backend.skipped) opts.log(`backend ${s.name} unavailable: ${s.why}`);
  const trainer = opts.trainer ?? 'ort';
  const device = opts.device ?? 'cpu';
  if (trainer === 'ort') checkDevice(device); // before anything is written
  const engine =
    trainer !== 'ort'
      ? backend.name
      : device === 'cuda'
        ? 'onnxruntime (CUDA)'
        : `onnxruntime (${opts.threads ?? ORT_TRAINER_DEFAULTS.threads} threads)`;
  opts.log(`training with --trainer ${trainer} on ${engine}`);
  mkdirSync(opts.out, { recursive: true });
  const { model, ...result } = await trainLm({ ...opts, trainer, checkpointDir: opts.out });
  writeFileAtomicSync(
    join(opts.out, 'loss.svg'),
    lossCurveSvg(result.losses, result.validationLosses, `${opts.title} (${engine})`),
  );
  const { spec } = opts;
  const indexed = opts.copyIndex ?? opts.train;
  const index = encodeCopyIndex(indexed);
  const copyBound = chooseCopyBound(
    opts.copyTrain ?? opts.train,
    opts.copyHeldOut ?? opts.validation,
    rhythmProjection({ kind: opts.kind, vocabulary: opts.vocabulary }),
    opts.jazz?.validation ?? 'tunes',
  );
  const manifest = await exportBundle({
    files: [[index.name, index.bytes]],
    model,
    spec,
    outDir: opts.out,
    ...(opts.quantize
      ? { quantize: { heldOut: opts.validation.length ? opts.validation.flat() : null } }
      : {}),
    manifest: {
      kind: opts.kind,
      vocabulary: [...opts.vocabulary],
      hyperparameters: {
        units: spec.units,
        layers: spec.layers,
        dropout: spec.dropout,
        embedding: spec.embedding,
        epochs: opts.epochs,
        learningRate: opts.learningRate,
        batchSize: opts.batchSize,
        sequenceLength: opts.sequenceLength,
        seed: spec.seed,
        ...(opts.wholeStreams ? { wholeSequences: true } : {}),
        ...(opts.schedule ? { schedule: opts.schedule } : {}),
      },
      training: {
        data: opts.data.map((f) => ({ file: f, sha256: sha256(f) })),
        ...(opts.licence ? { licence: opts.licence } : {}),
        ...(opts.initFrom ? { init: opts.initFrom } : {}),
        profile: opts.profile,
        ...(opts.split ? { split: opts.split } : {}),
        tokens: opts.train.reduce((n, s) => n + s.length, 0),
        finalLoss: result.losses[result.epoch - 1] ?? NaN,
        validationLoss: result.validationLosses[result.epoch - 1] ?? null,
        epoch: result.epoch,
        epochsRun: result.losses.length,
        stoppedEarly: result.stoppedEarly,
        last: {
          loss: result.losses[result.losses.length - 1] ?? NaN,
          validationLoss: result.validationLosses[result.validationLosses.length - 1] ?? null,
        },
        backend: trainer === 'ort' ? 'onnxruntime' : backend.name,
        copyIndex: {
          file: index.name,
          // what the index holds (training sequences trained on more than once, --oversample, once)
          sequences: indexed.length,
          tokens: indexed.reduce((n, s) => n + s.length, 0),
        },
        tokensPerSecond: Math.round(result.tokensPerSecond),
        trainedAt: new Date().toISOString(),
      },
      copyBound,
      ...(opts.conditioning ? { conditioning: opts.conditioning } : {}),
      ...(opts.jazz ? { jazz: opts.jazz } : {}),
      ...(opts.abcLengths ? { abcLengths: opts.abcLengths } : {}),
      ...(opts.abcShortShare ? { abcShortShare: opts.abcShortShare } : {}),
    },
  });
  model.dispose();
  opts.log(
    `wrote ${opts.out}: epoch ${result.epoch} of ${result.losses.length}, loss ${manifest.training.finalLoss.toFixed(4)}` +
      (manifest.training.validationLoss !== null
        ? `, validation ${manifest.training.validationLoss.toFixed(4)}`
        : '') +
      `, ${result.secondsPerEpoch.toFixed(2)} s/epoch, ${Math.round(result.tokensPerSecond)} tokens/s on ${engine}, ` +
      `ONNX max |Δ| ${manifest.fidelity.maxAbsDiff.toExponential(2)}` +
      (manifest.quantized
        ? `; ${manifest.quantized.bits ?? 8}-bit variant: max |Δ| ${manifest.quantized.maxAbsDiff.toExponential(2)}, held-out ${manifest.quantized.bitsPerToken?.toFixed(4) ?? '-'} bits/token against ${manifest.quantized.fp32BitsPerToken?.toFixed(4) ?? '-'} in fp32`
        : ''),
  );
  opts.log(
    `copy bound (default --max-copy): ${copyBound.tokens} tokens` +
      (copyBound.rhythm !== null ? `, ${copyBound.rhythm} of rhythm` : '') +
      ` (${copyBound.rule})`,
  );
  return { manifest, result, backend: backend.name };
}
