/**
 * `improv live`: ports, models, engine and status line, with a clean shutdown on SIGINT/SIGTERM (every
 * sounding note released, All Notes Off sent). With a file input it ends once the input has ended and
 * the last answer has finished. `improv live --auto` (what `npm start` runs) opens real ports where a MIDI
 * system exists, and otherwise plays a demo into a file sink and renders it to WAV where fluidsynth is.
 */
import { mkdirSync } from 'node:fs';
import { renderWav } from './render.ts';
import { Chord } from 'tonal';
import { parseProgression } from '../music/chordSymbols.ts';
import { validateRange, type PitchRange } from '../music/decode.ts';
import { pitchName, spell } from '../music/pitch.ts';
import { createRng } from '../music/rng.ts';
import { TWELFTHS_PER_QUARTER } from '../music/time.ts';
import { openLink } from '../midi/link.ts';
import { startServer, type ControlServer } from '../daemon/server.ts';
import { liveStatus, stageStatus, type StatusSource } from '../daemon/status.ts';
import { UsageError } from './errors.ts';
import { DEFAULT_LIVE_OPTIONS, LiveSession, type ClockSource } from '../midi/live.ts';
import { listPorts, openInput, openOutput } from '../midi/ports.ts';
import { writeSmf } from '../midi/smfWriter.ts';
import { RealClock } from '../runtime/clock.ts';
import { DEFAULT_ENGINE_OPTIONS, Engine, type ControlAction, type EngineMode } from '../runtime/engine.ts';
import { improviserFor } from '../runtime/improvisers.ts';
import { validateSampler, type SamplerOptions } from '../runtime/sampler.ts';
import { LstmSession } from '../runtime/session.ts';
import { percentiles } from '../runtime/stats.ts';

export interface LiveCliOptions {
  readonly input: string | null;
  readonly output: string;
  readonly models: readonly string[];
  readonly bpm: number;
  readonly meter: { readonly numerator: number; readonly denominator: number };
  readonly chords: string;
  /** Input notes outside this range are ignored. */
  readonly noteRange: readonly [number, number];
  readonly mode: EngineMode;
  readonly split: number;
  readonly silenceBeats: number;
  readonly maxCallBeats: number;
  readonly responseBars: number;
  readonly inChannel: number | null;
  readonly outChannel: number;
  readonly range: PitchRange;
  readonly seed: number;
  readonly sampler: SamplerOptions;
  readonly clock: ClockSource;
  /** With --clock link: play while the Link session plays (start/stop sync). */
  readonly linkStartStop: boolean;
  readonly offset: number;
  readonly ccMap: Partial<Record<ControlAction, number>>;
  readonly learn: ControlAction | null;
  readonly thruChannel: number | null;
  readonly status: boolean;
  /** Serve the stage page on this loopback port (0: any free one), or null. */
  readonly ui: number | null;
  readonly log: (line: string) => void;
}

function chordName(pitches: readonly number[]): string {
  const names = [...new Set(pitches.map((p) => pitchName(spell(p)).replace('-', 'b')))];
  return Chord.detect(names)[0] ?? names.join(' ');
}

/** Runs a live session until SIGINT/SIGTERM, or until a file input has been played and answered. */
export async function runLive(opts: LiveCliOptions): Promise<{ live: LiveSession }> {
  const sampler = validateSampler(opts.sampler);
  const range = validateRange(opts.range);
  const sessions = await Promise.all(opts.models.map((m) => LstmSession.load(m)));
  const clock = new RealClock();
  const improvisers = sessions.map((s, i) =>
    improviserFor(s, createRng(opts.seed + i), sampler, range, opts.meter),
  );
  const barLength = Math.round((opts.meter.numerator * 4 * TWELFTHS_PER_QUARTER) / opts.meter.denominator);
  const progression = parseProgression(opts.chords, barLength);
  // Link before any port: where it cannot load, say so before anything opens
  const link =
    opts.clock === 'link'
      ? openLink({
          clock,
          barQuarters: barLength / TWELFTHS_PER_QUARTER,
          startStop: opts.linkStartStop,
          log: opts.log,
        })
      : null;
  // the output first: a file input starts playing in as it opens, and would keep the process
  // waiting for it to end after an output that cannot open has already been reported
  const output = openOutput(opts.output, { clock, log: opts.log });
  let input: ReturnType<typeof openInput> | null;
  try {
    input = opts.input ? openInput(opts.input, { clock, log: opts.log }) : null;
  } catch (err) {
    link?.close();
    await output.close();
    throw err;
  }
  const live = new LiveSession(
    {
      ...DEFAULT_LIVE_OPTIONS,
      clock,
      input,
      output,
      outChannel: opts.outChannel,
      inChannel: opts.inChannel,
      noteRange: opts.noteRange,
      clockSource: opts.clock,
      link,
      chords: opts.chords,
      offset: opts.offset,
      thruChannel: opts.thruChannel,
      log: opts.log,
    },
    (emit) =>
      new Engine(
        improvisers,
        clock,
        {
          ...DEFAULT_ENGINE_OPTIONS,
          bpm: opts.bpm,
          barLength,
          progression,
          mode: opts.mode,
          split: opts.split,
          silenceBeats: opts.silenceBeats,
          maxCallBeats: opts.maxCallBeats,
          responseBars: opts.responseBars,
        },
        emit,
        opts.ccMap,
      ),
  );
  let ui: ControlServer | null = null;
  try {
    ui = opts.ui === null ? null : await startStage(live, opts, clock, input);
  } catch (err) {
    await live.stop(); // closes the ports and leaves a Link session
    throw err;
  }
  if (opts.learn) {
    live.engine.learn(opts.learn);
    opts.log(`learn mode: move a controller to map it to ${opts.learn}`);
  }
  opts.log(
    `live: ${opts.input ?? '(no input)'} → ${opts.output}, ${opts.mode}, ${opts.bpm} BPM, chords ${opts.chords.length > 60 ? `${opts.chords.slice(0, 60)}… (${progression.length} bars)` : opts.chords}`,
  );
  let shuttingDown = false;
  const shutdown = async (why: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    clearInterval(statusTimer);
    if (ui) {
      ui.server.close();
      ui.server.closeAllConnections();
    }
    await live.stop();
    await Promise.all(sessions.map((s) => s.dispose()));
    if (opts.status && process.stderr.isTTY) process.stderr.write('\n');
    opts.log(`stopped (${why}): ${live.stats.notesSent} notes sent, ${live.sounding} left sounding`);
  };
  const onSignal = (sig: string) => (): void => {
    void shutdown(sig).then(() => process.exit(0));
  };
  process.once('SIGINT', onSignal('SIGINT'));
  process.once('SIGTERM', onSignal('SIGTERM'));
  const statusTimer = setInterval(() => {
    if (!opts.status || !process.stderr.isTTY) return;
    const e = live.engine;
    const last = live.lastNotes.map((n) => pitchName(spell(n))).join(' ');
    process.stderr.write(
      `\r\x1b[K${e.currentMode} | ${chordName(e.chordNow.pitches)} | ${e.tempo.toFixed(1)} BPM${live.link ? ` Link ${live.link.peers}` : ''} | ${e.currentState} | ${last}`,
    );
  }, 200);
  live.start();
  if (input && 'onEnd' in input && opts.input?.startsWith('file:')) {
    await live.whenDone();
    await shutdown('input ended');
  } else {
    await new Promise<void>(() => undefined); // until a signal
  }
  return { live };
}

/** Serves the stage page and /status, /control for a live session (loopback only, as the daemon's). */
async function startStage(
  live: LiveSession,
  opts: LiveCliOptions,
  clock: RealClock,
  input: { dropped: number } | null,
): Promise<ControlServer> {
  const source: StatusSource = {
    live,
    clock,
    input: opts.input,
    output: opts.output,
    models: opts.models,
    clockSource: opts.clock,
    inputDropped: () => input?.dropped ?? 0,
    started: Date.now(),
  };
  const srv = await startServer(
    { host: '127.0.0.1', port: opts.ui ?? 0 },
    {
      status: () => liveStatus(source),
      control: (c) => live.controls.apply(c),
      stage: { feed: live.feed, frame: () => stageStatus(source) },
    },
  ).catch((err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    throw code === 'EADDRINUSE'
      ? new UsageError(`--ui ${opts.ui}: port in use; choose another, or --ui 0 for any free one`)
      : err;
  });
  opts.log(`stage page: http://127.0.0.1:${srv.port}/`);
  return srv;
}

/** Calls for the demo: four short phrases over the ii–V–I loop, three bars apart (room for each answer). */
function writeDemoCalls(file: string, bpm: number): void {
  const phrases = [
    [62, 65, 69, 72, 71, 67],
    [67, 71, 74, 77, 76, 72],
    [64, 67, 71, 74, 72, 69],
    [69, 72, 76, 74, 71, 67],
  ];
  const notes = phrases.flatMap((p, i) =>
    p.map((midi, j) => ({
      start: 1 + i * 8 + j * 0.5,
      dur: j === p.length - 1 ? 1 : 0.45,
      midi,
      velocity: 96,
    })),
  );
  writeSmf(file, {
    bpm,
    meter: { numerator: 4, denominator: 4 },
    title: 'demo calls',
    parts: [{ name: 'Calls', channel: 0, program: 0, notes }],
  });
}

/** `npm start`: real ports where a MIDI system exists, otherwise the recorded demo. */
export async function runAuto(base: Omit<LiveCliOptions, 'input' | 'output'>): Promise<void> {
  const easymidi = listPorts().find((p) => p.backend === 'easymidi');
  if (easymidi && !easymidi.error) {
    const input = easymidi.inputs[0];
    base.log(input ? `MIDI input found: ${input}` : 'no MIDI input: playing solo over the chords');
    await runLive({
      ...base,
      input: input ? `easymidi:${input}` : null,
      output: 'virtual:Improviser',
      mode: input ? base.mode : 'solo',
    });
    return;
  }
  base.log(
    `no MIDI system here: ${easymidi?.error?.replace(/^easymidi: /, '').split(';')[0] ?? 'easymidi unavailable'}.`,
  );
  base.log(
    'playing a demo instead: four recorded calls go in through a file source, the answers (and the calls, on channel 2) are recorded to out/live-demo.mid',
  );
  mkdirSync('out', { recursive: true });
  writeDemoCalls('out/demo-calls.mid', base.bpm);
  const { live } = await runLive({
    ...base,
    input: 'file:out/demo-calls.mid',
    output: 'file:out/live-demo.mid',
    mode: 'call-response',
    thruChannel: 1,
  });
  const j = percentiles(live.stats.jitter.values());
  process.stdout.write(
    `wrote out/live-demo.mid: ${live.engine.stats.calls} calls answered with ${live.engine.stats.notesOut} notes; ` +
      `send jitter p50 ${j.p50.toFixed(2)} ms, p99 ${j.p99.toFixed(2)} ms, max ${j.max.toFixed(2)} ms; ${live.sounding} notes left sounding\n`,
  );
  const wav = renderWav('out/live-demo.mid', 'out/live-demo.wav');
  if (wav.kind === 'rendered') process.stdout.write(`rendered out/live-demo.wav with fluidsynth\n`);
  else if (wav.kind === 'failed') process.stdout.write(`fluidsynth failed: ${wav.why}\n`);
  else {
    process.stdout.write(
      'install fluidsynth and fluid-soundfont-gm to hear it as out/live-demo.wav, or open the .mid in any player\n',
    );
  }
}
