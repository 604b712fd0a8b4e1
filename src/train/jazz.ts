/**
 * `improv train jazz`: MIDI files → grammar corpus → value-LSTM → ONNX bundle with manifest,
 * loss curve and checkpoints. Defaults follow the Coursera assignment (n_a = 64, Adam lr 0.01, Tx = 30).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleManifest } from '../music/bundle.ts';
import { buildCorpus, buildVocabulary, type CorpusProfile, type JazzCorpus } from '../music/corpus.ts';
import { formatToken } from '../music/grammar.ts';
import { readSmf } from '../music/smf.ts';
import { selectBackend, type BackendName } from './backend.ts';
import { exportBundle } from './exportBundle.ts';
import { lossCurveSvg } from './lossCurve.ts';
import { trainLm } from './trainer.ts';

export interface JazzTrainOptions {
  readonly data: readonly string[];
  readonly out: string;
  readonly profile: CorpusProfile;
  readonly melodyTrack?: number;
  readonly chordTrack?: number;
  readonly units: number;
  readonly layers: number;
  readonly dropout: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly batchSize: number;
  readonly sequenceLength: number;
  readonly stride: number;
  /** Share of each file's bars (from the end) held out for validation loss. */
  readonly validation: number;
  readonly seed: number;
  readonly backend?: BackendName;
  readonly resume: boolean;
  readonly progress: boolean;
  readonly log: (line: string) => void;
}

export const JAZZ_DEFAULTS = {
  profile: 'full',
  units: 64,
  layers: 1,
  dropout: 0,
  epochs: 100,
  learningRate: 0.01,
  batchSize: 32,
  sequenceLength: 30,
  stride: 3,
  validation: 0.1,
  seed: 1,
} as const;

export const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Share of melody tokens (not rests) typed C or S. */
export function chordScaleShare(corpora: readonly JazzCorpus[]): number {
  const notes = corpora.flatMap((c) => c.bars.flatMap((b) => b.tokens)).filter((t) => t.type !== 'R');
  return notes.length ? notes.filter((t) => t.type === 'C' || t.type === 'S').length / notes.length : 0;
}

/** Reads every file first, so a bad one fails before anything is trained or written. */
export function readCorpora(files: readonly string[], opts: Pick<JazzTrainOptions, 'profile' | 'melodyTrack' | 'chordTrack'>): JazzCorpus[] {
  return files.map((f) => buildCorpus(readSmf(f), opts));
}

export async function trainJazz(opts: JazzTrainOptions): Promise<BundleManifest> {
  if (opts.data.length === 0) throw new Error('train jazz: --data needs at least one MIDI file');
  const corpora = readCorpora(opts.data, opts);
  const backend = await selectBackend(opts.backend);
  for (const s of backend.skipped) opts.log(`backend ${s.name} unavailable: ${s.why}`);
  opts.log(`training on backend ${backend.name}`);
  const split = corpora.map((c) => {
    const nVal = opts.profile === 'faithful' ? 0 : Math.floor(c.bars.length * opts.validation);
    const trainBars = c.bars.slice(0, c.bars.length - nVal);
    const valBars = c.bars.slice(c.bars.length - nVal);
    return {
      train: trainBars.flatMap((b) => b.tokens.map(formatToken)),
      val: valBars.flatMap((b) => b.tokens.map(formatToken)),
    };
  });
  const vocabulary = buildVocabulary(split.flatMap((s) => [...s.train, ...s.val]));
  const index = new Map(vocabulary.map((v, i) => [v, i]));
  const ids = (tokens: string[]): number[] => tokens.map((t) => index.get(t) as number);
  const trainStreams = split.map((s) => ids(s.train));
  const valStreams = split.map((s) => ids(s.val)).filter((s) => s.length > 1);
  const tokens = trainStreams.reduce((n, s) => n + s.length, 0);
  opts.log(`corpus: ${corpora.map((c) => `${c.file} (${c.profile}, melody track ${c.melodyTrack.index} '${c.melodyTrack.name}', chords from track ${c.chordTrack.index} '${c.chordTrack.name}', ${c.bars.length} bars)`).join('; ')}`);
  opts.log(`${tokens} training tokens, ${valStreams.reduce((n, s) => n + s.length, 0)} validation tokens, vocabulary ${vocabulary.length}`);
  const spec = { vocabSize: vocabulary.length, units: opts.units, layers: opts.layers, dropout: opts.dropout, embedding: 0, seed: opts.seed };
  mkdirSync(opts.out, { recursive: true });
  const result = await trainLm({
    spec,
    train: trainStreams,
    validation: valStreams,
    sequenceLength: opts.sequenceLength,
    batchSize: opts.batchSize,
    epochs: opts.epochs,
    learningRate: opts.learningRate,
    stride: opts.stride,
    checkpointDir: opts.out,
    resume: opts.resume,
    progress: opts.progress,
    log: opts.log,
  });
  writeFileSync(join(opts.out, 'loss.svg'), lossCurveSvg(result.losses, result.validationLosses, `jazz value-LSTM (${backend.name})`));
  const first = corpora[0] as JazzCorpus;
  const allPitches = corpora.flatMap((c) => c.melodyPitches);
  const manifest = await exportBundle({
    model: result.model,
    spec,
    outDir: opts.out,
    manifest: {
      kind: 'jazz-grammar',
      vocabulary,
      hyperparameters: {
        units: opts.units,
        layers: opts.layers,
        dropout: opts.dropout,
        embedding: 0,
        epochs: opts.epochs,
        learningRate: opts.learningRate,
        batchSize: opts.batchSize,
        sequenceLength: opts.sequenceLength,
        seed: opts.seed,
      },
      training: {
        data: opts.data.map((f) => ({ file: f, sha256: sha256(f) })),
        profile: opts.profile,
        tokens,
        finalLoss: result.losses[result.losses.length - 1] ?? NaN,
        validationLoss: result.validationLosses[result.validationLosses.length - 1] ?? null,
        backend: backend.name,
        tokensPerSecond: Math.round(result.tokensPerSecond),
        trainedAt: new Date().toISOString(),
      },
      jazz: {
        barLength: first.barLength,
        bpm: first.bpm,
        progression: first.bars.map((b) => b.chords.map((c) => ({ onset: c.onset, pitches: [...c.pitches] }))),
        melodyRange: [Math.min(...allPitches), Math.max(...allPitches)],
        chordScaleShare: chordScaleShare(corpora),
      },
    },
  });
  opts.log(
    `wrote ${opts.out}: final loss ${manifest.training.finalLoss.toFixed(4)}, ${result.secondsPerEpoch.toFixed(2)} s/epoch, ` +
      `${Math.round(result.tokensPerSecond)} tokens/s on ${backend.name}, ONNX max |Δ| ${manifest.fidelity.maxAbsDiff.toExponential(2)}`,
  );
  result.model.dispose();
  return manifest;
}
