/**
 * The public shapes of what the server says: `/status` and the stage page's status frame, as zod
 * schemas. The server builds values of these types (status.ts), and tests and outside tools parse
 * what they receive with the same schemas instead of casting it: a field renamed or dropped fails
 * the parse, naming the field.
 */
import { z } from 'zod';
import { ENGINE_MODES, type EngineMode } from '../live/engine.ts';
import { CLOCK_SOURCES, type ClockSource } from '../live/liveSession.ts';

const count = z.number().int().nonnegative();
const port = z.object({ name: z.string(), state: z.enum(['open', 'lost', 'none']) });

export const statusSchema = z
  .object({
    mode: z.enum(ENGINE_MODES as [EngineMode, ...EngineMode[]]),
    state: z.enum(['idle', 'listening', 'responding']),
    /** STOP or PANIC: silent until resumed (`/control {"stop": false}`, the page, CC 29 up). */
    stopped: z.boolean(),
    model: z.object({ index: count, bundles: z.array(z.string()) }),
    bpm: z.number().positive(),
    temperature: z.number().nonnegative(),
    topP: z.number().positive(),
    responseBars: count,
    chords: z.string(),
    clock: z.object({
      source: z.enum(CLOCK_SOURCES as [ClockSource, ...ClockSource[]]),
      running: z.boolean(),
      link: z.object({ peers: count, playing: z.boolean() }).nullable(),
    }),
    ports: z.object({ input: port.nullable(), output: port }),
    notesSent: count,
    sounding: count,
    lateEvents: count,
    droppedOutput: count,
    droppedInput: count,
    failures: count,
    /** The quiet collector's garbage collections (null: no collector, node without --expose-gc). */
    collections: z.object({ collections: count, maxMs: z.number(), totalMs: z.number() }).nullable(),
    page: z.object({ open: count, droppedFrames: count }),
    /** Seconds since start. */
    uptime: z.number().nonnegative(),
  })
  .strict();

export type LiveStatus = z.infer<typeof statusSchema>;

/** The stage page's status frame: the status, and where the music is (to draw bars and the cursor). */
export const stageFrameSchema = z
  .object({
    t: z.literal('status'),
    /** The server's clock (ms), for the page's offset. */
    now: z.number(),
    /** Quarter notes from the start. */
    position: z.number(),
    barQuarters: z.number().positive(),
    /** The progression's chord symbols, a bar each. */
    bars: z.array(z.string()),
    /** An ABC model's tune as notation; null for the others. */
    tune: z.string().nullable(),
    status: statusSchema,
  })
  .strict();

export type StageFrame = z.infer<typeof stageFrameSchema>;
