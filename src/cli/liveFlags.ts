/**
 * `improv live`'s flags: each maps onto a field of the live setup (live/setup.ts), whose schema holds
 * the defaults and limits; the flags show them in --help and check them as they are parsed, and the
 * whole setup is then checked by the same schema the daemon's config goes through.
 */
import { Option, type Command, type OptionValues } from '@commander-js/extra-typings';
import { CLOCK_SOURCES } from '../live/liveSession.ts';
import { SETUP_LIMITS } from '../live/limits.ts';
import { parseSetup, SetupError, SETUP_DEFAULTS as D, type LiveSetup } from '../live/setup.ts';
import { CONTROL_ACTIONS, ENGINE_MODES, STATE_CC, type ControlAction } from '../live/engine.ts';
import { UsageError } from './errors.ts';
import {
  ccMapOption,
  float,
  int,
  MAX_COPY_HELP,
  maxCopyOf,
  maxCopyOption,
  meterOption,
  midiRange,
  readLeadsheet,
} from './options.ts';

const num = (field: keyof typeof SETUP_LIMITS): ((v: string) => number) =>
  float(SETUP_LIMITS[field][0], SETUP_LIMITS[field][1]);
const whole = (field: keyof typeof SETUP_LIMITS): ((v: string) => number) =>
  int(SETUP_LIMITS[field][0], SETUP_LIMITS[field][1]);

/** The stage page's port for a bare --ui (the daemon's HTTP server is on 7337). */
export const DEFAULT_UI_PORT = 7338;

/** A range as the flag takes it: "55-84". */
const span = (r: { readonly low: number; readonly high: number }): string => `${r.low}-${r.high}`;

/** The flag each setup field comes from, to name it in an error. */
const FLAG_OF: Readonly<Record<string, string>> = {
  input: '--in',
  output: '--out',
  models: '--model',
  chords: '--chords (or --leadsheet)',
  key: '--key (or a leadsheet K: line)',
  silenceBeats: '--silence',
  maxCallBeats: '--max-call',
  responseBars: '--bars',
  topP: '--top-p',
  maxCopy: '--max-copy',
  stateCc: '--state-cc',
  'link.startStop': '--no-link-start-stop',
  'channels.in': '--channel-in',
  'channels.out': '--channel-out',
  'channels.thru': '--thru',
};

/** Adds the live setup's flags to a command (its parsed options typed from them: LiveFlags). */
export function liveFlags<A extends unknown[], O extends OptionValues>(cmd: Command<A, O>) {
  return cmd
    .option('--in <port>', 'input port: easymidi:Name, jzz:Name, virtual:Name or file:phrase.mid')
    .option(
      '--out <port>',
      `output port (default ${D.output}; a port you name is refused where it cannot be made)`,
    )
    .option(
      '--model <dirs...>',
      'bundles, jazz-grammar or abc-char (the model CC switches between them)',
      D.models,
    )
    .option('--bpm <n>', 'tempo', num('bpm'), D.bpm)
    .option('--meter <n/d>', 'meter, e.g. 3/4 or 6/8', meterOption, '4/4')
    .option(
      '--key <name>',
      "grammar models: the key to play in (G, Em, 'A dorian'; default: heard from the chords and your calls)",
    )
    .option(
      '--leadsheet <file>',
      'read the progression from a text file (chord symbols, bars by spaces or |, # comments)',
    )
    .addOption(
      new Option('--notes <low-high>', 'only hear input notes in this MIDI range')
        .argParser(midiRange)
        .default(D.notes, span(D.notes)),
    )
    .option('--chords <progression>', 'the looping progression, one chord per bar', D.chords)
    .addOption(new Option('--mode <mode>', 'interaction mode').choices([...ENGINE_MODES]).default(D.mode))
    .option('--split <midi>', 'follow mode: notes below this are the chord', whole('split'), D.split)
    .option('--silence <beats>', 'silence that ends a call', num('silenceBeats'), D.silenceBeats)
    .option('--max-call <beats>', 'longest call', num('maxCallBeats'), D.maxCallBeats)
    .option(
      '--bars <n>',
      'answer length in bars (0: as long as the call)',
      whole('responseBars'),
      D.responseBars,
    )
    .option('--velocity <n>', "velocity of the improviser's notes", whole('velocity'), D.velocity)
    .option('--channel-in <n>', 'only hear this channel (1–16)', int(1, 16))
    .option('--channel-out <n>', 'play on this channel (1–16)', int(1, 16), D.channels.out)
    .addOption(
      new Option('--range <low-high>', 'MIDI pitch range of the answers')
        .argParser(midiRange)
        .default(D.range, span(D.range)),
    )
    .option('--seed <n>', 'random seed', int(0), D.seed)
    .option('--temperature <t>', 'sampling temperature', num('temperature'), D.temperature)
    .option('--top-p <p>', 'nucleus sampling mass', num('topP'), D.topP)
    .option('--max-copy <n|off|default>', MAX_COPY_HELP, maxCopyOption, 'default')
    .option(
      '--state-cc <n>',
      `send the engine's state on this CC of the output channel (0 idle, 64 listening, 127 responding; ${STATE_CC} is the usual one); off by default, so a DAW take holds only notes`,
      int(0, 127),
    )
    .addOption(
      new Option(
        '--clock <source>',
        'internal clock, follow incoming MIDI clock, lead (send clock), or join an Ableton Link session',
      )
        .choices([...CLOCK_SOURCES])
        .default(D.clock),
    )
    .option('--no-link-start-stop', "with --clock link: play regardless of the session's start/stop")
    .option(
      '--offset <ms>',
      'playback offset for latency compensation (negative plays earlier)',
      num('offset'),
      D.offset,
    )
    .option('--cc <map>', 'remap controls, e.g. temperature=74,panic=120', ccMapOption, D.cc)
    .addOption(
      new Option('--learn <control>', 'map the next CC received to this control').choices(CONTROL_ACTIONS),
    )
    .option('--thru <channel>', 'also send your notes to the output on this channel (1–16)', int(1, 16))
    .option('--no-status', 'no status line')
    .option(
      '--ui [port]',
      `serve the stage page on 127.0.0.1 (default port ${DEFAULT_UI_PORT}; 0: any free port)`,
      int(0, 65535),
    );
}

/** `improv live`'s flags as commander parses them, typed from their declarations above. */
export type LiveFlags = ReturnType<ReturnType<typeof liveFlags<[], Record<never, never>>>['opts']>;

/** What `improv live` adds to the setup: presentation, not how the rig plays. */
export interface LiveCliOptions {
  readonly setup: LiveSetup;
  /** The next CC received becomes this control. */
  readonly learn: ControlAction | null;
  readonly status: boolean;
  /** Serve the stage page on this loopback port (0: any free one), or null. */
  readonly ui: number | null;
  readonly log: (line: string) => void;
  /** The output was not named (--out unset): it may fall back to an in-process port (RigEnv). */
  readonly outputFallback: boolean;
}

/** The parsed flags as a live setup (checked whole by the setup schema; an error names the flag). */
export function setupFromFlags(o: LiveFlags): LiveSetup {
  const sheet = o.leadsheet ? readLeadsheet(o.leadsheet) : null;
  const raw = {
    input: o.in ?? null,
    output: o.out,
    models: o.model,
    mode: o.mode,
    chords: sheet ? sheet.chords : o.chords,
    key: o.key ?? sheet?.key ?? null,
    bpm: o.bpm,
    meter: o.meter,
    clock: o.clock,
    link: { startStop: o.linkStartStop },
    split: o.split,
    silenceBeats: o.silence,
    maxCallBeats: o.maxCall,
    responseBars: o.bars,
    velocity: o.velocity,
    seed: o.seed,
    temperature: o.temperature,
    topP: o.topP,
    maxCopy: maxCopyOf(o.maxCopy),
    stateCc: o.stateCc ?? null,
    range: o.range,
    notes: o.notes,
    channels: { in: o.channelIn ?? null, out: o.channelOut, thru: o.thru ?? null },
    cc: o.cc,
    offset: o.offset,
  };
  try {
    return parseSetup(raw);
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    const flag = FLAG_OF[err.field] ?? `--${err.field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new UsageError(`${flag}: ${err.problem}`);
  }
}

/** The flags of `improv live` as its options. */
export function liveCliOptions(o: LiveFlags, log: (line: string) => void): LiveCliOptions {
  return {
    setup: setupFromFlags(o),
    learn: o.learn ?? null,
    status: o.status,
    ui: o.ui === undefined ? null : o.ui === true ? DEFAULT_UI_PORT : o.ui,
    log,
    outputFallback: o.out === undefined,
  };
}
