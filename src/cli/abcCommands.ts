/** The ABC pipeline's CLI actions: generate tunes (ABC text + one MIDI file per tune) and score ABC text. */
import { mkdirSync } from 'node:fs';
import { checkOutputFile, readText, writeFileAtomicSync } from '../music/files.ts';
import { dirname } from 'node:path';
import { checkWithAbcjs } from '../music/abc/validate.ts';
import type { AbcEvent } from '../music/abc/reader.ts';
import { parseMeter } from '../music/abc/key.ts';
import { createRng } from '../music/rng.ts';
import { existsSync } from 'node:fs';
import { parseForm } from '../music/abc/form.ts';
import { generateAbc, type AbcGeneration } from '../model/tune.ts';
import { judgeTunes, type AbcQuality } from '../eval/abcQuality.ts';
import { scoreAbc } from '../eval/evaluate.ts';
import { splitTunes } from '../music/abc/corpus.ts';
import { formFigures, type FormFigures } from '../eval/tuneForm.ts';
import { validateSampler, type SamplerOptions } from '../model/sampler.ts';
import { withBundle } from './bundle.ts';
import type { FileEval } from './jazzCommands.ts';
import { againstTraining } from '../eval/againstTraining.ts';
import { writeSmf } from '../music/smfWriter.ts';
import type { TimeSignature } from '../music/units.ts';

export interface GenerateAbcOptions {
  readonly model: string;
  readonly tunes: number;
  readonly start: string;
  readonly seed: number;
  readonly sampler: SamplerOptions;
  readonly maxCharsPerTune: number;
  /** Draws per tune until one passes the lint. */
  readonly attempts: number;
  /** The tune's shape (`--form`, `--bars`); `guide: false` draws the raw text with no mask. */
  readonly form?: string;
  readonly bars?: number;
  readonly guide: boolean;
  /** The form memory's bias (see music/abc/memory.ts); absent: the default. */
  readonly formBias?: number;
  /** The short-note bias (see music/abc/shortNotes.ts); absent: the default. */
  readonly shortBias?: number;
  /** The copy bound (null: the bundle's default, 0: none). */
  readonly maxCopy?: number | null;
  /** The .abc file; the MIDI files are written beside it as <name>-<n>.mid. */
  readonly out: string;
}

type DrawOptions = Omit<GenerateAbcOptions, 'out' | 'model'>;

/** Generates tunes from an open session with the command line's options (form checked first). */
function draw(session: Parameters<typeof generateAbc>[0], opts: DrawOptions): Promise<AbcGeneration> {
  const guide = opts.guide
    ? {
        form: parseForm(opts.form, opts.bars),
        ...(opts.formBias === undefined ? {} : { formBias: opts.formBias }),
        ...(opts.shortBias === undefined ? {} : { shortBias: opts.shortBias }),
      }
    : false;
  return generateAbc(session, {
    tunes: opts.tunes,
    start: opts.start,
    sampler: validateSampler(opts.sampler),
    rng: createRng(opts.seed),
    maxCharsPerTune: opts.maxCharsPerTune,
    attempts: opts.attempts,
    guide,
    maxCopy: opts.maxCopy ?? null,
  });
}

export interface GeneratedAbcFiles {
  readonly generation: AbcGeneration;
  readonly abcFile: string;
  readonly midiFiles: readonly string[];
  /** abcjs warnings per tune. */
  readonly warnings: readonly number[];
}

const FIDDLE = 110;
const DEFAULT_BPM = 120;

/** Tempo from a Q: field ("1/4=120", "120"), else 120 BPM (quarter beats). */
export function tempoOf(events: readonly AbcEvent[]): number {
  const q = events.find((e) => e.type === 'header' && e.field === 'Q');
  const m = q?.type === 'header' ? /(?:(\d+)\/(\d+)\s*=\s*)?(\d+)\s*$/.exec(q.value) : null;
  if (!m) return DEFAULT_BPM;
  const beat = m[1] && m[2] ? (4 * Number(m[1])) / Number(m[2]) : 1;
  const bpm = Number(m[3]) * beat;
  return bpm >= 20 && bpm <= 400 ? bpm : DEFAULT_BPM;
}

function meterOf(events: readonly AbcEvent[]): TimeSignature {
  const h = events.find((e) => e.type === 'header' && e.field === 'M');
  const m = h?.type === 'header' ? parseMeter(h.value.split(/\s+/)[0] ?? '') : null;
  return m && m.numerator > 0
    ? { numerator: m.numerator, denominator: m.denominator }
    : { numerator: 4, denominator: 4 };
}

export async function generateAbcFiles(opts: GenerateAbcOptions): Promise<GeneratedAbcFiles> {
  validateSampler(opts.sampler);
  checkOutputFile(opts.out);
  if (opts.guide) parseForm(opts.form, opts.bars); // a bad form is refused before the model loads
  return withBundle(opts.model, 'abc-char', async (session) => {
    const generation = await draw(session, opts);
    mkdirSync(dirname(opts.out), { recursive: true });
    const base = opts.out.replace(/\.abc$/i, '');
    const midiFiles = generation.tunes.map((tune, i) => {
      const file = `${base}-${i + 1}.mid`;
      const title = tune.events.find((e) => e.type === 'header' && e.field === 'T');
      writeSmf(file, {
        bpm: tempoOf(tune.events),
        meter: meterOf(tune.events),
        title: title?.type === 'header' ? title.value : `tune ${i + 1}`,
        parts: [
          {
            name: 'Tune',
            channel: 0,
            program: FIDDLE,
            notes: tune.events.flatMap((e) =>
              e.type === 'note' ? [{ start: e.start, dur: e.dur, midi: e.pitch, velocity: 90 }] : [],
            ),
          },
        ],
      });
      return file;
    });
    writeFileAtomicSync(opts.out, generation.text);
    const warnings = generation.tunes.map((t) => checkWithAbcjs(t.text).warnings.length);
    return { generation, abcFile: opts.out, midiFiles, warnings };
  });
}

/**
 * Bits per character of an ABC file under a char model (see scoreAbc: tune by tune for a whole-tune
 * model); characters outside the vocabulary are counted and skipped.
 */
export async function evalAbc(model: string, data: string): Promise<FileEval> {
  const text = readText(data);
  return withBundle(model, 'abc-char', async (session) => ({
    ...(await scoreAbc(session, text)),
    training: againstTraining(session, [[...text]]),
  }));
}

export interface AbcQualityRun {
  readonly generation: AbcGeneration;
  readonly quality: AbcQuality;
  /** The training files the copies were measured against (those the manifest names). */
  readonly training: readonly string[];
  /** Repetition, short notes and endings of the generated tunes, and of the training files' tunes. */
  readonly form: { readonly generated: FormFigures; readonly corpus: FormFigures };
}

/**
 * `improv eval --generate N`: generates N tunes as `improv generate` would and judges them (see
 * abcQuality.ts). Copies are measured against the training files the manifest names, or `training`.
 */
export async function qualityAbc(
  model: string,
  opts: DrawOptions,
  training?: readonly string[],
): Promise<AbcQualityRun> {
  validateSampler(opts.sampler);
  if (opts.guide) parseForm(opts.form, opts.bars);
  return withBundle(model, 'abc-char', async (session) => {
    const files = training ?? session.manifest.training.data.map((d) => d.file).filter((f) => existsSync(f));
    const text = files.map((f) => readText(f, 'training file')).join('\n');
    const generation = await draw(session, opts);
    return {
      generation,
      quality: judgeTunes(generation, text),
      training: files,
      form: {
        generated: formFigures(generation.tunes.map((t) => t.text)),
        corpus: formFigures(splitTunes(text)),
      },
    };
  });
}
