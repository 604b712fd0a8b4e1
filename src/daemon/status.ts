/**
 * A live session's status, as /status, the daemon's log and the stage page show it: one builder for
 * the daemon and `improv live --ui`.
 */
import { progressionBars } from '../music/chordSymbols.ts';
import { TWELFTHS_PER_QUARTER } from '../music/time.ts';
import type { Control } from '../live/controls.ts';
import type { QuietCollector } from '../live/quietCollector.ts';
import type { Rig } from '../live/rig.ts';
import type { Clock } from '../midi/clock.ts';
import type { Rejection, ServerHandlers } from './server.ts';
import type { LiveStatus, StageFrame } from './statusSchema.ts';

export interface StatusSource {
  /** The rig: its live session, the setup it plays, what its input dropped. */
  readonly rig: Pick<Rig, 'live' | 'setup' | 'inputDropped'>;
  readonly clock: Clock;
  readonly collector?: QuietCollector | null;
  /** Date.now() at start. */
  readonly started: number;
}

/** `/status` (its schema: statusSchema.ts). */
export function liveStatus(s: StatusSource): LiveStatus {
  const { live, setup } = s.rig;
  const controls = live.controls.values;
  return {
    mode: controls.mode,
    state: live.engine.currentState,
    stopped: controls.stopped,
    model: { index: controls.model, bundles: setup.models },
    bpm: controls.bpm,
    temperature: controls.temperature,
    topP: controls.topP,
    responseBars: controls.responseBars,
    chords: controls.chords,
    clock: {
      source: setup.clock,
      running: live.running,
      link: live.link && { peers: live.link.peers, playing: live.link.playing },
    },
    ports: {
      input: setup.input ? { name: setup.input, state: live.inputState } : null,
      output: { name: setup.output, state: live.outputState },
    },
    notesSent: live.stats.notesSent,
    sounding: live.sounding,
    lateEvents: live.stats.late,
    droppedOutput: live.stats.droppedOut,
    droppedInput: live.stats.droppedIn + s.rig.inputDropped,
    failures: live.stats.failures,
    collections: s.collector?.stats ?? null,
    page: { open: live.feed.pagesOpen, droppedFrames: live.feed.dropped },
    uptime: (Date.now() - s.started) / 1000,
  };
}

/** The stage page's status frame: the status, and where the music is (to draw bars and the cursor). */
export function stageStatus(s: StatusSource): Omit<StageFrame, 't'> {
  const now = s.clock.now();
  const engine = s.rig.live.engine;
  const status = liveStatus(s);
  return {
    now,
    position: engine.twelfthsAt(now) / TWELFTHS_PER_QUARTER,
    barQuarters: engine.barLength / TWELFTHS_PER_QUARTER,
    bars: progressionBars(status.chords),
    tune: engine.improviser.tune ?? null,
    status,
  };
}

/**
 * What a rig's HTTP server answers (the daemon's and `improv live --ui`'s): /status, /control through
 * the rig's control surface (then `applied`, for a log line), and the stage page's events and frames.
 */
export function rigHandlers(
  s: StatusSource,
  applied: (c: Control) => void = () => undefined,
  rejected: (r: Rejection) => void = () => undefined,
): Required<ServerHandlers> {
  const { live } = s.rig;
  return {
    status: () => liveStatus(s),
    control: (c) => {
      live.controls.apply(c);
      applied(c);
    },
    rejected,
    stage: { feed: live.feed, frame: () => stageStatus(s) },
  };
}
