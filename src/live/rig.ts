/**
 * The one place a live rig is built from a live setup (setup.ts): models loaded, improvisers seeded,
 * the engine's options, Link opened before any port, the output before the input, the live session.
 * `improv live`, the daemon, the bench and the tests all come through here; what differs between
 * them (the clock, the log, ports or a Link they made themselves, models already loaded, the
 * collector) is the environment, not the setup.
 */
import { parseKeyName } from '../music/musicalKey.ts';
import { parseProgression } from '../music/chordSymbols.ts';
import { createRng } from '../music/rng.ts';
import { TWELFTHS_PER_QUARTER } from '../music/time.ts';
import type { Clock } from '../midi/clock.ts';
import { DEFAULT_ENGINE_OPTIONS, Engine, type EngineOptions, type EngineOutput } from './engine.ts';
import { improviserFor } from '../model/improviserFor.ts';
import { LstmSession } from '../model/lstmSession.ts';
import { openLink, type LinkTransport } from '../midi/link.ts';
import { LiveSession, type LiveOptions } from './liveSession.ts';
import { openInput, openOutput, type MidiOutPort } from '../midi/ports.ts';
import type { QuietCollector } from './quietCollector.ts';
import { barLength, type LiveSetup } from './setup.ts';

export interface RigEnv {
  readonly clock: Clock;
  readonly log: (line: string) => void;
  /** An input already open (a test's or the bench's feed), instead of opening `setup.input`. */
  readonly input?: LiveOptions['input'];
  /** An output already open, instead of opening `setup.output`. */
  readonly output?: MidiOutPort;
  /** A Link transport already joined (a stand-in in tests), instead of opening one for clock: link. */
  readonly link?: LinkTransport;
  /** Models already loaded (shared between rigs); the rig leaves them loaded when it closes. */
  readonly sessions?: readonly LstmSession[];
  readonly collector?: QuietCollector | null;
  /**
   * The output may fall back to an invisible in-process port where `virtual:` cannot be made (see
   * ports.ts): for a port the user did not name, and for --auto. Default off; an input never does.
   */
  readonly outputFallback?: boolean;
}

export type MakeEngine = (emit: (o: EngineOutput) => void) => Engine;

/** A setup's models, loaded, and the engine built on them. */
export interface EngineKit {
  readonly setup: LiveSetup;
  readonly sessions: readonly LstmSession[];
  readonly makeEngine: MakeEngine;
  /** Whether the rig loaded the models (and so disposes of them). */
  readonly owned: boolean;
}

/** The engine's options for a setup. */
export function engineOptions(setup: LiveSetup): EngineOptions {
  const bar = barLength(setup.meter);
  return {
    ...DEFAULT_ENGINE_OPTIONS,
    bpm: setup.bpm,
    barLength: bar,
    progression: parseProgression(setup.chords, bar),
    mode: setup.mode,
    split: setup.split,
    silenceBeats: setup.silenceBeats,
    maxCallBeats: setup.maxCallBeats,
    responseBars: setup.responseBars,
    velocity: setup.velocity,
  };
}

/** Loads a setup's models (or takes loaded ones) and makes its engine factory; disposes what it loaded on failure. */
export async function loadEngine(
  setup: LiveSetup,
  clock: Clock,
  loaded?: readonly LstmSession[],
): Promise<EngineKit> {
  const sessions: LstmSession[] = [];
  if (!loaded) {
    try {
      for (const m of setup.models) sessions.push(await LstmSession.load(m));
    } catch (err) {
      await Promise.all(sessions.map((s) => s.dispose()));
      throw err;
    }
  }
  const models = loaded ?? sessions;
  const sampler = { temperature: setup.temperature, topK: 0, topP: setup.topP };
  const improvisers = models.map((s, i) =>
    improviserFor(
      s,
      createRng(setup.seed + i),
      sampler,
      setup.range,
      setup.meter,
      setup.maxCopy,
      setup.key === null ? null : parseKeyName(setup.key),
    ),
  );
  const options = engineOptions(setup);
  return {
    setup,
    sessions: models,
    owned: !loaded,
    makeEngine: (emit) => {
      const engine = new Engine(improvisers, clock, options, emit, setup.cc);
      engine.setMaxCopy(setup.maxCopy);
      return engine;
    },
  };
}

const disposeOwned = async (kit: EngineKit): Promise<void> => {
  if (kit.owned) await Promise.all(kit.sessions.map((s) => s.dispose()));
};

/**
 * What the live session holds from start to stop (ports, clock source, channels, timing): a reload
 * swaps the engine and its models, and these stay as they were.
 */
export const SESSION_FIELDS = [
  'input',
  'output',
  'clock',
  'link',
  'channels',
  'notes',
  'offset',
  'lookahead',
  'interval',
  'maxNotesPerSecond',
  'stateCc',
] as const satisfies readonly (keyof LiveSetup)[];

/** The fields a reload of a rig playing `setup` keeps: with Link the meter too (it is the session's quantum). */
export function heldFields(setup: LiveSetup): (keyof LiveSetup)[] {
  return setup.clock === 'link' ? [...SESSION_FIELDS, 'meter'] : [...SESSION_FIELDS];
}

export interface Rig {
  readonly live: LiveSession;
  /** The setup now playing (a reload changes it). */
  readonly setup: LiveSetup;
  readonly sessions: readonly LstmSession[];
  /** How many input messages the input port dropped (bytes it could not parse, a full queue). */
  readonly inputDropped: number;
  /**
   * Loads the new setup's models and swaps in its engine, the ports staying open (what sounds is
   * released first); resolves with the fields it could not change (heldFields that differ), which
   * keep their old values until a restart. On a failure it throws and the old engine goes on playing.
   */
  reload(next: LiveSetup): Promise<(keyof LiveSetup)[]>;
  /** Stops the live session (every note released, ports closed, Link left) and disposes the models. */
  close(): Promise<void>;
}

/** Builds a rig from a setup; nothing is left open when it fails. The caller starts it (`rig.live.start()`). */
export async function buildRig(setup: LiveSetup, env: RigEnv): Promise<Rig> {
  let kit = await loadEngine(setup, env.clock, env.sessions);
  let link: LinkTransport | null = null;
  let input: LiveOptions['input'] = null;
  let output: MidiOutPort | null = null;
  try {
    // Link before any port: where it cannot load, say so before anything opens
    link =
      setup.clock === 'link'
        ? (env.link ??
          openLink({
            clock: env.clock,
            barQuarters: barLength(setup.meter) / TWELFTHS_PER_QUARTER,
            startStop: setup.link.startStop,
            log: env.log,
          }))
        : null;
    // the output first: a file input starts playing in as it opens, and would keep the process
    // waiting for it to end after an output that cannot open has already been reported
    output =
      env.output ??
      openOutput(setup.output, { clock: env.clock, log: env.log, fallback: env.outputFallback ?? false });
    input =
      env.input !== undefined
        ? env.input
        : setup.input === null
          ? null
          : openInput(setup.input, { clock: env.clock, log: env.log });
    const live = new LiveSession(
      {
        clock: env.clock,
        input,
        output,
        outChannel: setup.channels.out - 1,
        inChannel: setup.channels.in === null ? null : setup.channels.in - 1,
        thruChannel: setup.channels.thru === null ? null : setup.channels.thru - 1,
        noteRange: [setup.notes.low, setup.notes.high],
        clockSource: setup.clock,
        link,
        chords: setup.chords,
        offset: setup.offset,
        lookahead: setup.lookahead,
        interval: setup.interval,
        maxNotesPerSecond: setup.maxNotesPerSecond,
        stateCc: setup.stateCc,
        collector: env.collector ?? null,
        log: env.log,
      },
      kit.makeEngine,
    );
    const opened = input;
    let closing: Promise<void> | null = null;
    return {
      live,
      get setup() {
        return kit.setup;
      },
      get sessions() {
        return kit.sessions;
      },
      get inputDropped() {
        return opened?.dropped ?? 0;
      },
      async reload(next) {
        const held = heldFields(kit.setup);
        const kept = Object.fromEntries(held.map((f) => [f, kit.setup[f]]));
        const unchanged = held.filter((f) => JSON.stringify(next[f]) !== JSON.stringify(kit.setup[f]));
        const fresh = await loadEngine({ ...next, ...kept }, env.clock);
        if (closing) {
          // the rig closed while the models loaded: nothing plays them
          await disposeOwned(fresh);
          throw new Error('the live session stopped during the reload');
        }
        const old = kit;
        kit = fresh;
        // the old engine's models go once its last model call has ended, never under it
        await live.replaceEngine(fresh.makeEngine, next.chords);
        await disposeOwned(old);
        return unchanged;
      },
      close() {
        closing ??= live.stop().then(() => disposeOwned(kit));
        return closing;
      },
    };
  } catch (err) {
    if (!env.link) link?.close();
    if (!env.input) await input?.close();
    if (!env.output) await output?.close();
    await disposeOwned(kit);
    throw err;
  }
}
