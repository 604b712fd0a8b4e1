/**
 * A live session's status, as /status, the daemon's log and the stage page show it: one builder for
 * the daemon and `improv live --ui`.
 */
import { progressionBars } from '../music/chordSymbols.ts';
import { TWELFTHS_PER_QUARTER } from '../music/time.ts';
import type { LiveSession } from '../midi/live.ts';
import type { QuietCollector } from '../midi/quietCollector.ts';
import type { Clock } from '../runtime/clock.ts';

export interface StatusSource {
  readonly live: LiveSession;
  readonly clock: Clock;
  readonly input: string | null;
  readonly output: string;
  readonly models: readonly string[];
  readonly clockSource: string;
  /** Bytes the input port could not parse. */
  readonly inputDropped: () => number;
  readonly collector?: QuietCollector | null;
  /** Date.now() at start. */
  readonly started: number;
}

export function liveStatus(s: StatusSource): Record<string, unknown> {
  const { live } = s;
  const controls = live.controls.values;
  return {
    mode: controls.mode,
    state: live.engine.currentState,
    model: { index: controls.model, bundles: s.models },
    bpm: controls.bpm,
    temperature: controls.temperature,
    topP: controls.topP,
    chords: controls.chords,
    clock: {
      source: s.clockSource,
      running: live.running,
      link: live.link && { peers: live.link.peers, playing: live.link.playing },
    },
    ports: {
      input: s.input ? { name: s.input, state: live.inputState } : null,
      output: { name: s.output, state: live.outputState },
    },
    notesSent: live.stats.notesSent,
    sounding: live.sounding,
    lateEvents: live.stats.late,
    droppedOutput: live.stats.droppedOut,
    droppedInput: live.stats.droppedIn + s.inputDropped(),
    failures: live.stats.failures,
    collections: s.collector?.stats ?? null,
    page: { open: live.feed.pagesOpen, droppedFrames: live.feed.dropped },
    uptime: (Date.now() - s.started) / 1000,
  };
}

/** The stage page's status frame: the status, and where the music is (to draw bars and the cursor). */
export function stageStatus(s: StatusSource): { now: number; [key: string]: unknown } {
  const now = s.clock.now();
  const engine = s.live.engine;
  const status = liveStatus(s);
  return {
    now,
    position: engine.twelfthsAt(now) / TWELFTHS_PER_QUARTER,
    barQuarters: engine.barLength / TWELFTHS_PER_QUARTER,
    bars: progressionBars(status.chords as string),
    tune: engine.improviser.tune ?? null,
    status,
  };
}
