/**
 * A live setup: everything that decides how one live rig plays (ports, models, progression, tempo,
 * the call-and-answer rules, sampling, channels, CC map, clock source, timing). One zod schema that
 * the CLI's flags, the daemon's config file, the bench and the tests all map onto, so each default
 * and each limit is written once, here; `buildRig` (rig.ts) builds the rig from what it returns.
 */
import { z } from 'zod';
import { parseKeyName } from '../music/musicalKey.ts';
import { ChordSymbolError, parseProgression } from '../music/chordSymbols.ts';
import { firstIssue } from '../music/errors.ts';
import { barTwelfths, type Twelfths } from '../music/time.ts';
import { DEFAULT_CC_MAP, DEFAULT_ENGINE_OPTIONS, ENGINE_MODES } from './engine.ts';
import { CLOCK_SOURCES, DEFAULT_LIVE_OPTIONS } from './liveSession.ts';
import { limited } from './limits.ts';
import type { TimeSignature } from '../music/units.ts';

const midi = z.number().int('expected a MIDI number 0–127').min(0).max(127);
const channel = z.number().int().min(1, 'expected a channel 1–16').max(16, 'expected a channel 1–16');
const range = (low: number, high: number) =>
  z.object({ low: midi, high: midi }).strict().default({ low, high });

export const METER = /^(\d{1,2})\/(1|2|4|8|16)$/;
const METER_MESSAGE = 'expected a meter such as 4/4, 3/4 or 6/8';

const controls = Object.keys(DEFAULT_CC_MAP) as [
  keyof typeof DEFAULT_CC_MAP,
  ...(keyof typeof DEFAULT_CC_MAP)[],
];

const E = DEFAULT_ENGINE_OPTIONS;
const L = DEFAULT_LIVE_OPTIONS;

/** The setup's fields (a plain object schema, which the daemon's config extends). */
export const setupShape = z
  .object({
    /** Input port (easymidi:Name, jzz:Name, virtual:Name, file:phrase.mid), or null: play solo. */
    input: z.string().min(1).nullable().default(null),
    output: z.string().min(1).default('virtual:Improviser'),
    /** Bundles; the model control switches between them. */
    models: z.array(z.string().min(1)).min(1).default(['models/jazz']),
    mode: z.enum(ENGINE_MODES as unknown as ['call-response', 'solo', 'follow']).default(E.mode),
    /** The looping progression: chord symbols, one bar each (spaces or |; a bar's chords by ','). */
    chords: z.string().min(1).default('Dm7 G7 Cmaj7 Cmaj7'),
    bpm: limited('bpm').default(E.bpm),
    meter: z
      .string()
      .regex(METER, METER_MESSAGE)
      .transform((s): TimeSignature => {
        const [, n, d] = METER.exec(s) as RegExpExecArray;
        return { numerator: Number(n), denominator: Number(d) };
      })
      .refine((m) => m.numerator >= 1, METER_MESSAGE)
      .default('4/4'),
    /**
     * The key the grammar models play in ('G', 'Em', 'A dorian'); null: inferred from the chords and
     * the player's calls. A leadsheet's `K:` line sets it too.
     */
    key: z
      .string()
      .nullable()
      .default(null)
      .refine(
        (k) => k === null || parseKeyName(k) !== null,
        "expected a key such as G, Em, 'A dorian' or Dmix",
      ),
    clock: z.enum(CLOCK_SOURCES as unknown as ['internal', 'follow', 'lead', 'link']).default(L.clockSource),
    /** With clock link: play while the Link session plays (start/stop sync); false: play regardless. */
    link: z
      .object({ startStop: z.boolean().default(true) })
      .strict()
      .default({}),
    /** Follow mode: notes below this are the chord. */
    split: limited('split', true).default(E.split),
    /** Silence that ends a call, in beats. */
    silenceBeats: limited('silenceBeats').default(E.silenceBeats),
    /** Longest call, in beats. */
    maxCallBeats: limited('maxCallBeats').default(E.maxCallBeats),
    /** Answer length in bars; 0 answers as long as the call. */
    responseBars: limited('responseBars', true).default(E.responseBars),
    /** Velocity of the improviser's notes. */
    velocity: limited('velocity', true).default(E.velocity),
    seed: z.number().int().min(0).default(1),
    temperature: limited('temperature').default(1),
    topP: limited('topP').default(0.95),
    /** The copy bound (model/copyGuard.ts): null each bundle's own default, 0 none, N tokens. */
    maxCopy: limited('maxCopy', true).nullable().default(null),
    /** The pitch range of the answers (at least an octave). */
    range: range(55, 84),
    /** Input notes outside this range are ignored. */
    notes: range(L.noteRange[0], L.noteRange[1]),
    /** Channels 1–16: in (null: all), out, thru (the player's notes also sent here; null: not). */
    channels: z
      .object({
        in: channel.nullable().default(null),
        out: channel.default(L.outChannel + 1),
        thru: channel.nullable().default(null),
      })
      .strict()
      .default({}),
    /** CC numbers of the controls, over the defaults (engine.ts DEFAULT_CC_MAP). */
    cc: z.record(z.enum(controls), z.number().int().min(0).max(127)).default({}),
    /** Playback offset (ms) added to every output time, for latency compensation. */
    offset: limited('offset').default(L.offset),
    /** How far ahead (ms) notes are handed to the scheduler, and how often (ms) it wakes to do so. */
    lookahead: limited('lookahead').default(L.lookahead),
    interval: limited('interval').default(L.interval),
    /** Most note-ons a second taken from the input (beyond: dropped and counted). */
    maxNotesPerSecond: limited('maxNotesPerSecond', true).default(L.maxNotesPerSecond),
    /**
     * Report the engine's state (0 idle, 64 listening, 127 responding) on this CC of the output
     * channel; null (the default) sends none, so a DAW's take holds only the notes.
     */
    stateCc: z.number().int().min(0).max(127).nullable().default(L.stateCc),
  })
  .strict();

/** The checks across fields, for the setup schema and for schemas that extend it. */
export function refineSetup(s: z.output<typeof setupShape>, ctx: z.RefinementCtx): void {
  if (s.range.high - s.range.low < 12)
    ctx.addIssue({ code: 'custom', path: ['range'], message: 'must span at least an octave' });
  if (s.notes.low > s.notes.high)
    ctx.addIssue({ code: 'custom', path: ['notes'], message: 'low must not be above high' });
  if (s.interval > s.lookahead)
    ctx.addIssue({
      code: 'custom',
      path: ['interval'],
      message: `must not exceed lookahead (${s.lookahead} ms): need 0 < interval ≤ lookahead`,
    });
  try {
    parseProgression(s.chords, barLength(s.meter));
  } catch (err) {
    if (!(err instanceof ChordSymbolError)) throw err;
    ctx.addIssue({ code: 'custom', path: ['chords'], message: err.message });
  }
}

export const setupSchema = setupShape.superRefine(refineSetup);

/** A live setup as written (every field optional: the schema fills in the defaults). */
export type LiveSetupInput = z.input<typeof setupSchema>;
/** A checked live setup, defaults filled in. */
export type LiveSetup = z.output<typeof setupSchema>;

/** Every default, as the schema gives it (for help texts and docs). */
export const SETUP_DEFAULTS: LiveSetup = setupSchema.parse({});

/** A setup that does not pass the schema: the field (dotted path) and what it allows. */
export class SetupError extends Error {
  override readonly name = 'SetupError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** Checks a setup and fills in its defaults; throws SetupError naming the first bad field. */
export function parseSetup(raw: unknown): LiveSetup {
  const parsed = setupSchema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const { field, problem } = firstIssue(parsed.error, '(root)');
  throw new SetupError(field, problem);
}

/** The bar's length in twelfths of a quarter. */
export function barLength(meter: TimeSignature): Twelfths {
  return barTwelfths(meter.numerator, meter.denominator);
}
