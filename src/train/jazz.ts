/**
 * `improv train jazz`: MIDI files → grammar corpus → value-LSTM → ONNX bundle with manifest,
 * loss curve and checkpoints. Defaults follow the Coursera assignment (n_a = 64, Adam lr 0.01, Tx = 30).
 */
import type { BundleManifest } from '../music/bundle.ts';
import { buildCorpus, buildVocabulary, type CorpusProfile, type JazzCorpus } from '../music/corpus.ts';
import { formatToken } from '../music/grammar.ts';
import { readSmf } from '../music/smf.ts';
import { trainAndExport, type CommonTrainOptions } from './pipeline.ts';

export interface JazzTrainOptions extends CommonTrainOptions {
  readonly profile: CorpusProfile;
  readonly melodyTrack?: number;
  readonly chordTrack?: number;
  readonly stride: number;
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

/** Share of melody tokens (not rests) typed C or S. */
export function chordScaleShare(corpora: readonly JazzCorpus[]): number {
  const notes = corpora.flatMap((c) => c.bars.flatMap((b) => b.tokens)).filter((t) => t.type !== 'R');
  return notes.length ? notes.filter((t) => t.type === 'C' || t.type === 'S').length / notes.length : 0;
}

/** Reads every file first, so a bad one fails before anything is trained or written. */
export function readCorpora(
  files: readonly string[],
  opts: Pick<JazzTrainOptions, 'profile' | 'melodyTrack' | 'chordTrack'>,
): JazzCorpus[] {
  return files.map((f) => buildCorpus(readSmf(f), opts));
}

export async function trainJazz(opts: JazzTrainOptions): Promise<BundleManifest> {
  if (opts.data.length === 0) throw new Error('train jazz: --data needs at least one MIDI file');
  const corpora = readCorpora(opts.data, opts);
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
  const train = split.map((s) => ids(s.train));
  const validation = split.map((s) => ids(s.val)).filter((s) => s.length > 1);
  opts.log(
    `corpus: ${corpora.map((c) => `${c.file} (${c.profile}, melody track ${c.melodyTrack.index} '${c.melodyTrack.name}', chords from track ${c.chordTrack.index} '${c.chordTrack.name}', ${c.bars.length} bars)`).join('; ')}`,
  );
  opts.log(
    `${train.reduce((n, s) => n + s.length, 0)} training tokens, ${validation.reduce((n, s) => n + s.length, 0)} validation tokens, vocabulary ${vocabulary.length}`,
  );
  const first = corpora[0] as JazzCorpus;
  const allPitches = corpora.flatMap((c) => c.melodyPitches);
  const { manifest } = await trainAndExport({
    ...opts,
    kind: 'jazz-grammar',
    title: 'jazz value-LSTM',
    spec: {
      vocabSize: vocabulary.length,
      units: opts.units,
      layers: opts.layers,
      dropout: opts.dropout,
      embedding: 0,
      seed: opts.seed,
    },
    vocabulary,
    train,
    validation,
    jazz: {
      barLength: first.barLength,
      bpm: first.bpm,
      progression: first.bars.map((b) => b.chords.map((c) => ({ onset: c.onset, pitches: [...c.pitches] }))),
      melodyRange: [Math.min(...allPitches), Math.max(...allPitches)],
      chordScaleShare: chordScaleShare(corpora),
    },
  });
  return manifest;
}
