/**
 * The model bundle manifest shared by trainer (writer) and runtime (reader): what the ONNX graph
 * expects and what the model was trained on. Validated with zod; errors name the field.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BundleError, firstIssue, ioReason } from './errors.ts';
import { readRegularWithin, requireRegularSync, writeFileAtomicSync } from './files.ts';

export const BUNDLE_MANIFEST = 'manifest.json';

/**
 * A file named by the manifest: a plain name inside the bundle folder. A bundle is data that may come
 * from elsewhere, so `../../etc/passwd` or an absolute path must not make the runtime open it.
 */
const bundleFile = z
  .string()
  .min(1)
  .regex(/^[\w][\w.-]*$/, 'must name a file inside the bundle folder (no folders, no "..")');

const chordEvent = z.object({
  onset: z.number().int().nonnegative(),
  pitches: z.array(z.number().int()).min(1),
});

export const manifestSchema = z.object({
  format: z.literal('improv-bundle'),
  version: z.literal(1),
  kind: z.enum(['jazz-grammar', 'abc-char']),
  model: bundleFile,
  vocabulary: z.array(z.string()).min(2),
  /** Id fed as the first input of a fresh sequence: its input row is all zeros. */
  startToken: z.number().int().nonnegative(),
  io: z.object({
    /** `cond`: a conditioned model's conditioning input [seq, batch, features] (see `conditioning`). */
    inputs: z.object({ tokens: z.string(), h: z.string(), c: z.string(), cond: z.string().optional() }),
    outputs: z.object({ logits: z.string(), probs: z.string(), h: z.string(), c: z.string() }),
    /** [layers, units]: the shape of h and c per batch row. */
    stateShape: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  }),
  hyperparameters: z.object({
    units: z.number().int().positive(),
    layers: z.number().int().positive(),
    dropout: z.number().min(0).max(1),
    embedding: z.number().int().nonnegative(),
    epochs: z.number().int().nonnegative(),
    learningRate: z.number().positive(),
    batchSize: z.number().int().positive(),
    sequenceLength: z.number().int().positive(),
    seed: z.number().int(),
    /**
     * Trained on whole sequences from a fresh state (a tune from its X: line to the blank line that
     * ends it), so it plays each one from a fresh state; absent: windows of the joined text.
     */
    wholeSequences: z.boolean().optional(),
    /** The learning rate's warm-up steps and the floor its cosine decay ends at (a share of it). */
    schedule: z
      .object({ warmup: z.number().int().nonnegative(), floor: z.number().min(0).max(1) })
      .optional(),
  }),
  training: z.object({
    data: z.array(z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
    /** The training data's licence (see data/SOURCES.md). */
    licence: z.string().optional(),
    /** The bundle the weights started from (`train jazz --init`) and the sha256 of its graph. */
    init: z.object({ bundle: z.string(), model: z.string(), sha256: z.string() }).optional(),
    profile: z.string(),
    /**
     * How the data was split (char models): whole tunes held out by a seeded draw, the share asked
     * for and the count of each side; absent in older bundles.
     */
    split: z
      .object({
        by: z.literal('tunes'),
        share: z.number().min(0).max(1),
        training: z.number().int().nonnegative(),
        heldOut: z.number().int().nonnegative(),
      })
      .optional(),
    tokens: z.number().int().nonnegative(),
    /** The bundled epoch's training and validation loss (the best epoch by validation, else the last). */
    finalLoss: z.number(),
    validationLoss: z.number().nullable(),
    /** Which epoch the bundle holds (1-based), how many ran, and the last one's figures beside it. */
    epoch: z.number().int().positive().optional(),
    epochsRun: z.number().int().positive().optional(),
    stoppedEarly: z.boolean().optional(),
    last: z.object({ loss: z.number(), validationLoss: z.number().nullable() }).optional(),
    backend: z.string(),
    /**
     * The training sequences as token ids (music/copyIndex.ts), which bound copies while the model
     * plays and give an evaluation its baselines; absent in older bundles.
     */
    copyIndex: z
      .object({
        file: bundleFile,
        sequences: z.number().int().positive(),
        tokens: z.number().int().nonnegative(),
      })
      .optional(),
    tokensPerSecond: z.number().nonnegative(),
    trainedAt: z.string(),
  }),
  fidelity: z.object({ sequences: z.number().int(), maxAbsDiff: z.number() }),
  /**
   * The default bound on copies (`--max-copy`): at most this many consecutive tokens of a training
   * sequence, and of its rhythm (grammar models; null for the char model, which has no rhythm
   * projection), with the held-out material's own longest copies it was chosen from (see
   * train/copyBound.ts).
   */
  copyBound: z
    .object({
      tokens: z.number().int().positive(),
      rhythm: z.number().int().positive().nullable(),
      rule: z.string(),
      heldOut: z.object({
        sequences: z.number().int().nonnegative(),
        tokens: z.object({ median: z.number(), p90: z.number(), max: z.number() }).nullable(),
        rhythm: z.object({ median: z.number(), p90: z.number(), max: z.number() }).nullable(),
        onsets: z.object({ median: z.number(), p90: z.number(), max: z.number() }).nullable().optional(),
      }),
    })
    .optional(),
  /**
   * A quantized variant for live play (onnxQuant.ts), which the runtime loads in place of `model`: its
   * file, its max |Δ| in probabilities against the trainer (or, requantized, the fp32 graph) on the
   * fidelity sequences, and the bits per token of both graphs on the held-out data. `bits` and
   * `blockSize` say how its kernels are stored (absent: int8 with a scale per column, the first kind).
   */
  quantized: z
    .object({
      model: bundleFile,
      maxAbsDiff: z.number(),
      bitsPerToken: z.number().nullable(),
      fp32BitsPerToken: z.number().nullable(),
      bits: z.number().int().positive().optional(),
      blockSize: z.number().int().positive().optional(),
    })
    .optional(),
  /**
   * What a conditioned grammar model hears beside each token, feature by feature in input order
   * (music/conditioning.ts); the runtime refuses a list other than its own.
   */
  conditioning: z.object({ features: z.array(z.string()).min(1) }).optional(),
  /**
   * A char model's note lengths by meter, learnt from its training tunes (music/abc/lengths.ts): the
   * bar-true mask keeps to them. Absent: every length the mask knows.
   */
  abcLengths: z.record(z.string(), z.array(z.string())).optional(),
  /**
   * A char model's share of notes shorter than an eighth by meter and unit, learnt from its training
   * tunes (music/abc/shortNotes.ts): the mask's short-note bias steers toward it. Absent: no bias.
   */
  abcShortShare: z.record(z.string(), z.number().min(0).max(1)).optional(),
  /**
   * Figures judged from outside on what the trainer held out (`improv eval --record`): the command and
   * the report's lines, one entry per command.
   */
  evaluation: z
    .array(z.object({ command: z.string(), at: z.string(), lines: z.array(z.string()) }))
    .optional(),
  jazz: z
    .object({
      barLength: z.number().int().positive(),
      /** The beat of the default progression's meter (a dotted quarter in 6/8); absent: a quarter. */
      beat: z.number().int().positive().optional(),
      bpm: z.number().positive(),
      progression: z.array(z.array(chordEvent).min(1)).min(1),
      melodyRange: z.tuple([z.number().int(), z.number().int()]),
      /** Share of training melody notes that are chord or scale tones of their chord. */
      chordScaleShare: z.number().min(0).max(1),
      /**
       * How validation was held out: `tunes`, whole tunes (listed in heldOut as file#X, or file for
       * a one-tune file); `tail`, the last bars of each file (one-file data: it shares the training
       * part's material, so its loss flatters).
       */
      validation: z.enum(['tunes', 'tail']).optional(),
      heldOut: z.array(z.string()).optional(),
      /** Meters whose chordless ABC tunes were given inferred chords (harmonize.ts); absent: none. */
      harmonize: z.array(z.string()).optional(),
      /** Meters whose training tunes were trained on several times over (`--oversample`). */
      oversample: z.record(z.string(), z.number().int().positive()).optional(),
      /**
       * Where the training tunes start their elements in the bar, meter by meter (onsetGrid.ts): the
       * rhythm guide keeps lines on it. Absent (older bundles): lines are not guided.
       */
      onsetGrid: z
        .array(
          z.object({
            barLength: z.number().int().positive(),
            beat: z.number().int().positive(),
            positions: z.array(z.number().int().nonnegative()),
          }),
        )
        .optional(),
    })
    .optional(),
});

export type BundleManifest = z.infer<typeof manifestSchema>;

/** Reads and validates `<dir>/manifest.json`; throws BundleError naming the field that is wrong. */
export function readManifest(dir: string): BundleManifest {
  const file = join(dir, BUNDLE_MANIFEST);
  return parseManifest(file, manifestText(file));
}

/** A manifest file's text, read only if it is a regular file (reading a FIFO would block). */
function manifestText(file: string): string {
  const fail = (why: string): BundleError => new BundleError(file, '(file)', why);
  requireRegularSync(file, fail);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw fail(`cannot read (${ioReason(err)})`);
  }
}

/**
 * Records an evaluation's figures in the bundle's manifest (replacing an entry of the same command);
 * every other field is kept as written, and the manifest is written whole or not at all.
 */
export function recordEvaluation(dir: string, entry: { command: string; lines: readonly string[] }): void {
  const file = join(dir, BUNDLE_MANIFEST);
  const text = manifestText(file);
  parseManifest(file, text); // a valid bundle, or the error naming what is wrong
  const raw = JSON.parse(text) as { evaluation?: unknown[] };
  const kept = (raw.evaluation ?? []).filter((e) => (e as { command?: string }).command !== entry.command);
  raw.evaluation = [
    ...kept,
    { command: entry.command, at: new Date().toISOString(), lines: [...entry.lines] },
  ];
  writeManifestSync(file, raw);
}

/** Writes a manifest file whole or not at all, in the one layout every writer uses. */
export function writeManifestSync(file: string, manifest: unknown): void {
  writeFileAtomicSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * The manifest of the bundle in `dir`, read off the caller's thread within `ms` (the live path: a
 * manifest on a hung mount must not freeze the rig).
 */
export async function loadManifest(dir: string, ms: number): Promise<BundleManifest> {
  const file = join(dir, BUNDLE_MANIFEST);
  const bytes = await readRegularWithin(file, ms, (why) => new BundleError(file, '(file)', why));
  return parseManifest(file, bytes.toString('utf8'));
}

/** Checks a manifest's text (from `file`, which errors name). */
export function parseManifest(file: string, text: string): BundleManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new BundleError(file, '(file)', `not valid JSON (${String(err)})`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const { field, problem } = firstIssue(parsed.error, '(root)');
    throw new BundleError(file, field, problem);
  }
  const m = parsed.data;
  if (m.startToken !== m.vocabulary.length) {
    throw new BundleError(file, 'startToken', `must equal the vocabulary size ${m.vocabulary.length}`);
  }
  if (Boolean(m.conditioning) !== Boolean(m.io.inputs.cond)) {
    throw new BundleError(file, 'conditioning', 'io.inputs.cond and conditioning come together');
  }
  if (new Set(m.vocabulary).size !== m.vocabulary.length) {
    throw new BundleError(file, 'vocabulary', 'has duplicate entries');
  }
  return m;
}
