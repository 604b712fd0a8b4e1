/** The jazz pipeline's CLI actions: generate a solo to MIDI, and score a MIDI file under a model. */
import { dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import { checkOutputFile } from '../music/files.ts';
import { parseProgression } from '../music/chordSymbols.ts';
import { corpusTokens, type CorpusProfile } from '../music/corpus.ts';
import { validateRange, type PitchRange } from '../music/decode.ts';
import { createRng } from '../music/rng.ts';
import { TWELFTHS_PER_QUARTER } from '../music/time.ts';
import { mergeReports, type NllReport } from '../eval/evaluate.ts';
import { scoreMusic } from '../eval/grammarScore.ts';
import { readCorpora } from '../train/jazz.ts';
import { againstTraining, type AgainstTraining } from '../eval/againstTraining.ts';
import { generateSolo, summarize, type Solo, type SoloSummary } from '../model/solo.ts';
import { validateSampler, type SamplerOptions } from '../model/sampler.ts';
import { withBundle } from './bundle.ts';
import { writeSmf } from '../music/smfWriter.ts';
import { BundleError } from '../music/errors.ts';
import { bundleMeter, meterOf } from '../music/conditioning.ts';
import type { MusicalKey } from '../music/musicalKey.ts';
import type { TimeSignature } from '../music/units.ts';

export interface GenerateJazzOptions {
  readonly model: string;
  readonly bars: number;
  readonly seed: number;
  readonly sampler: SamplerOptions;
  readonly chords?: string;
  readonly range?: PitchRange;
  readonly bpm?: number;
  /** The meter to write in (default: the bundle's, from its bar and beat). */
  readonly meter?: TimeSignature;
  /** The key (default: inferred from the progression). */
  readonly key?: MusicalKey;
  /** The copy bound (null: the bundle's default, 0: none). */
  readonly maxCopy?: number | null;
  /** The rhythm guide (default on). */
  readonly rhythmGuide?: boolean;
  /** Form memory's strength (default: the improviser's). */
  readonly formBias?: number;
  readonly out: string;
}

export interface GeneratedJazz {
  readonly solo: Solo;
  readonly summary: SoloSummary;
  readonly bpm: number;
  readonly trainingShare: number;
  readonly meter: TimeSignature;
  /** The key the solo was played in (given, or inferred from the progression). */
  readonly key: MusicalKey | null;
}

const SOLO_VELOCITY = 90;
const COMP_VELOCITY = 64;

/** Generates a solo and writes it (solo track + chord track + tempo) to `out`. */
export async function generateJazz(opts: GenerateJazzOptions): Promise<GeneratedJazz> {
  const sampler = validateSampler(opts.sampler);
  checkOutputFile(opts.out);
  return withBundle(opts.model, 'jazz-grammar', async (session) => {
    const jazz = session.manifest.jazz;
    if (!jazz) throw new BundleError(opts.model, 'jazz', 'a jazz-grammar bundle needs its jazz section');
    const signature = opts.meter ?? bundleMeter(jazz.barLength, jazz.beat);
    const meter = meterOf(signature.numerator, signature.denominator);
    // the bundle's own progression, stretched to the asked bar where the meter differs
    const stretch = (t: number): number => Math.round((t * meter.barLength) / jazz.barLength);
    const progression =
      opts.chords !== undefined
        ? parseProgression(opts.chords, meter.barLength)
        : jazz.progression.map((bar) => bar.map((c) => ({ onset: stretch(c.onset), pitches: c.pitches })));
    const [low, high] = jazz.melodyRange;
    const range = validateRange(opts.range ?? { low, high: Math.max(high, low + 12) });
    const solo = await generateSolo(session, {
      bars: opts.bars,
      progression,
      barLength: meter.barLength,
      beat: meter.beat,
      sampler,
      range,
      rng: createRng(opts.seed),
      maxCopy: opts.maxCopy ?? null,
      key: opts.key ?? null,
      rhythmGuide: opts.rhythmGuide ?? true,
      ...(opts.formBias === undefined ? {} : { formBias: opts.formBias }),
    });
    const bpm = opts.bpm ?? jazz.bpm;
    const q = (t: number): number => t / TWELFTHS_PER_QUARTER;
    mkdirSync(dirname(opts.out), { recursive: true });
    writeSmf(opts.out, {
      bpm,
      meter: signature,
      title: 'improv jazz solo',
      parts: [
        {
          name: 'Solo',
          channel: 0,
          program: 26,
          notes: solo.notes.map((n) => ({
            start: q(n.start),
            dur: q(n.dur),
            midi: n.midi,
            velocity: SOLO_VELOCITY,
          })),
        },
        {
          name: 'Chords',
          channel: 1,
          program: 0,
          notes: solo.chords.flatMap((c) =>
            c.pitches.map((midi) => ({ start: q(c.start), dur: q(c.dur), midi, velocity: COMP_VELOCITY })),
          ),
        },
      ],
    });
    return {
      solo,
      summary: summarize(solo, opts.bars),
      bpm,
      trainingShare: jazz.chordScaleShare,
      meter: signature,
      key: solo.key,
    };
  });
}

/** A file's NLL under a model, and the same file against the model's training part (null: no index). */
export interface FileEval extends NllReport {
  readonly training: AgainstTraining | null;
}

export interface EvalJazzOptions {
  readonly model: string;
  readonly data: string;
  readonly profile: CorpusProfile;
  readonly melodyTrack?: number;
  readonly chordTrack?: number;
}

/** NLL per token of a MIDI file's (or an ABC file's tunes') grammar tokens under a grammar bundle. */
export async function evalJazz(opts: EvalJazzOptions): Promise<FileEval> {
  const corpora = readCorpora([opts.data], opts);
  return withBundle(opts.model, 'jazz-grammar', async (session) => {
    const reports: NllReport[] = [];
    for (const c of corpora) reports.push(await scoreMusic(session, c));
    return { ...mergeReports(reports), training: againstTraining(session, corpora.map(corpusTokens)) };
  });
}
