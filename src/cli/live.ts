/**
 * `improv live`: ports, models, engine and status line, with a clean shutdown on SIGINT/SIGTERM (every
 * sounding note released, All Notes Off sent). With a file input it ends once the input has ended and
 * the last answer has finished. `improv live --auto` (what `npm start` runs) opens real ports where a MIDI
 * system exists, and otherwise plays a demo into a file sink and renders it to WAV where fluidsynth is.
 */
import { mkdirSync } from 'node:fs';
import { renderWav } from './render.ts';
import { Chord } from 'tonal';
import { pitchName, spell } from '../music/pitch.ts';
import { startServer, type ControlServer } from '../daemon/server.ts';
import { rigHandlers, type StatusSource } from '../daemon/status.ts';
import { UsageError } from './errors.ts';
import type { LiveCliOptions } from './liveFlags.ts';
import { listPorts } from '../midi/ports.ts';
import { buildRig, type Rig } from '../live/rig.ts';
import { writeSmf } from '../music/smfWriter.ts';
import { RealClock } from '../midi/clock.ts';
import { percentiles } from '../live/stats.ts';

function chordName(pitches: readonly number[]): string {
  const names = [...new Set(pitches.map((p) => pitchName(spell(p)).replace('-', 'b')))];
  return Chord.detect(names)[0] ?? names.join(' ');
}

/** Runs a live session until SIGINT/SIGTERM, or until a file input has been played and answered. */
export async function runLive(opts: LiveCliOptions): Promise<{ live: Rig['live'] }> {
  const { setup } = opts;
  const clock = new RealClock();
  const rig = await buildRig(setup, { clock, log: opts.log, outputFallback: opts.outputFallback });
  const live = rig.live;
  let ui: ControlServer | null = null;
  try {
    ui = opts.ui === null ? null : await startStage(rig, opts, clock);
  } catch (err) {
    await rig.close(); // closes the ports, leaves a Link session, disposes the models
    throw err;
  }
  if (opts.learn) {
    live.engine.learn(opts.learn);
    opts.log(`learn mode: move a controller to map it to ${opts.learn}`);
  }
  const chords = setup.chords;
  opts.log(
    `live: ${setup.input ?? '(no input)'} → ${setup.output}, ${setup.mode}, ${setup.bpm} BPM, chords ${chords.length > 60 ? `${chords.slice(0, 60)}… (${live.engine.chords.length} bars)` : chords}`,
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
    await rig.close();
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
  if (setup.input?.startsWith('file:')) {
    await live.whenDone();
    await shutdown('input ended');
  } else {
    await new Promise<void>(() => undefined); // until a signal
  }
  return { live };
}

/** Serves the stage page and /status, /control for a live session (loopback only, as the daemon's). */
async function startStage(rig: Rig, opts: LiveCliOptions, clock: RealClock): Promise<ControlServer> {
  const source: StatusSource = { rig, clock, started: Date.now() };
  const srv = await startServer({ host: '127.0.0.1', port: opts.ui ?? 0 }, rigHandlers(source)).catch(
    (err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      throw code === 'EADDRINUSE'
        ? new UsageError(`--ui ${opts.ui}: port in use; choose another, or --ui 0 for any free one`)
        : err;
    },
  );
  opts.log(`stage page: http://127.0.0.1:${srv.port}/`);
  return srv;
}

/**
 * Calls for the demo: four short phrases over the ii–V–I loop, three bars apart. A call lasts 3.5 beats
 * and its answer as long, from a beat or two after the call's 1.5 beats of silence: it ends by beat 12,
 * before the next call (two bars apart, the next call cut three answers in four).
 */
export const DEMO_CALL_SPACING_BEATS = 12;

/** Writes the demo's calls as a MIDI file for the file source. */
function writeDemoCalls(file: string, bpm: number): void {
  const phrases = [
    [62, 65, 69, 72, 71, 67],
    [67, 71, 74, 77, 76, 72],
    [64, 67, 71, 74, 72, 69],
    [69, 72, 76, 74, 71, 67],
  ];
  const notes = phrases.flatMap((p, i) =>
    p.map((midi, j) => ({
      start: 1 + i * DEMO_CALL_SPACING_BEATS + j * 0.5,
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

/** The input --auto listens to: the first that is not the kernel's loopback ("Midi Through"), a keyboard's. */
export function playerInput(inputs: readonly string[]): string | undefined {
  return inputs.find((name) => !/^midi through\b/i.test(name));
}

/** `npm start`: real ports where a MIDI system exists, otherwise the recorded demo. */
export async function runAuto(base: LiveCliOptions): Promise<void> {
  const easymidi = listPorts().find((p) => p.backend === 'easymidi');
  if (easymidi && !easymidi.error) {
    const input = playerInput(easymidi.inputs);
    base.log(input ? `MIDI input found: ${input}` : 'no MIDI input: playing solo over the chords');
    await runLive({
      ...base,
      outputFallback: true,
      setup: {
        ...base.setup,
        input: input ? `easymidi:${input}` : null,
        mode: input ? base.setup.mode : 'solo',
      },
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
  writeDemoCalls('out/demo-calls.mid', base.setup.bpm);
  const { live } = await runLive({
    ...base,
    setup: {
      ...base.setup,
      input: 'file:out/demo-calls.mid',
      output: 'file:out/live-demo.mid',
      mode: 'call-response',
      channels: { ...base.setup.channels, thru: 2 },
    },
  });
  const j = percentiles(live.stats.jitter.values());
  process.stdout.write(
    `wrote out/live-demo.mid: ${live.engine.stats.calls} calls answered with ${live.stats.notesSent} notes sent; ` +
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
