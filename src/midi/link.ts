/**
 * Ableton Link: tempo, beat phase and start/stop shared by the apps on one network. The session's
 * timeline comes from abletonlink-addon (the Link SDK, built from the sources in its package; an
 * optional dependency, so where it cannot build `--clock link` says why). A LinkTransport reads the
 * timeline on the session's wake-ups: Link's beat is a linear function of time between tempo changes,
 * so a reading every few milliseconds, stamped with our clock, is all the engine needs to lock to it.
 * (The addon's callbacks are not used: they hold the event loop open and call in from Link's thread.)
 */
import { createRequire } from 'node:module';
import type { Clock, Millis } from './clock.ts';
import { UserError } from '../music/errors.ts';

/** The calls of abletonlink-addon's class that we use (the package has no types). */
export interface LinkBinding {
  enable(): void;
  disable(): void;
  enableStartStopSync(): void;
  disableStartStopSync(): void;
  getNumPeers(): number;
  getTempo(): number;
  setTempo(bpm: number): void;
  setQuantum(quantum: number): void;
  /** The session's beat now, in the phase of the quantum. */
  getBeat(): number;
  isPlaying(): boolean;
  play(): void;
  stop(): void;
}

export class LinkUnavailableError extends UserError {
  constructor(why: string) {
    super(
      `--clock link: Ableton Link is unavailable here (${why}). It comes from the optional dependency ` +
        `abletonlink-addon, built from its sources at install (needs g++, make and python3; npm must be ` +
        `allowed to run its install script, as package.json's allowScripts does): run \`npm rebuild ` +
        `abletonlink-addon\` and read its output, or use --clock internal | follow | lead.`,
    );
    this.name = 'LinkUnavailableError';
  }
}

const require_ = createRequire(import.meta.url);

/**
 * Joins (creates) a Link session through abletonlink-addon, or throws LinkUnavailableError saying why.
 * `load` is the package's loading (a parameter so that its failures can be tested).
 */
export function openLinkBinding(load: () => unknown = () => require_('abletonlink-addon')): LinkBinding {
  let Link: new () => LinkBinding;
  try {
    Link = load() as new () => LinkBinding;
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    throw new LinkUnavailableError(
      (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && message.includes("'abletonlink-addon'")
        ? 'abletonlink-addon is not installed'
        : /bindings file/.test(message)
          ? 'abletonlink-addon is installed, but its native part was not built: its install script did not run or failed'
          : `abletonlink-addon did not load: ${message}`,
    );
  }
  return new Link();
}

/** What the session's timeline says at one instant of our clock. */
export interface LinkReading {
  readonly bpm: number;
  /** The session's beat (quarter notes) at `at`, shifted by whole bars so it is never negative. */
  readonly beat: number;
  readonly at: Millis;
  readonly playing: boolean;
  readonly peers: number;
}

export interface LinkOptions {
  /** Beats in a bar: Link aligns the bar's downbeat across peers (the SDK takes whole beats). */
  readonly quantum: number;
  /** Honour the session's start/stop: play while it plays. Off: play regardless. */
  readonly startStop: boolean;
  readonly log: (line: string) => void;
}

const peersText = (n: number): string => `${n} peer${n === 1 ? '' : 's'}`;

/** How long after joining a stopped session with no peer in sight we start it ourselves. */
export const LINK_DISCOVERY_MS = 1000;

export class LinkTransport {
  /** Whole bars added to the session's beat: a joining peer can read a negative beat. */
  private barsAdded = 0;
  private readonly joined: Millis;
  private decided = false;
  private lastPeers = 0;

  constructor(
    private readonly link: LinkBinding,
    private readonly clock: Clock,
    readonly opts: LinkOptions,
  ) {
    link.setQuantum(opts.quantum);
    if (opts.startStop) link.enableStartStopSync();
    else link.disableStartStopSync();
    link.enable();
    this.joined = clock.now();
  }

  /**
   * Reads the timeline now. The beat is sampled between two readings of our clock (a few µs apart),
   * and stamped with their midpoint. A stopped session with no peer after LINK_DISCOVERY_MS is
   * started by us: we are alone, and the one playing should not wait for a play button nobody has.
   */
  read(): LinkReading {
    const before = this.clock.now();
    const raw = this.link.getBeat();
    const after = this.clock.now();
    const bpm = this.link.getTempo();
    const peers = this.link.getNumPeers();
    let playing = !this.opts.startStop || this.link.isPlaying();
    if (peers !== this.lastPeers) {
      this.opts.log(`Link: ${peersText(peers)}`);
      this.lastPeers = peers;
    }
    if (!playing && !this.decided && after - this.joined >= LINK_DISCOVERY_MS) {
      this.decided = true;
      if (peers === 0) {
        this.opts.log('Link: no peer has started the session; starting it');
        this.link.play();
        playing = true;
      } else this.opts.log(`Link: waiting for the session to start (${peersText(peers)})`);
    }
    if (playing) this.decided = true;
    while (raw + this.barsAdded * this.opts.quantum < 0) this.barsAdded++;
    return { bpm, beat: raw + this.barsAdded * this.opts.quantum, at: (before + after) / 2, playing, peers };
  }

  /** Proposes a tempo to the session (every peer adopts it; our next reading follows it). */
  proposeTempo(bpm: number): void {
    this.link.setTempo(bpm);
  }

  /** Leaves the session. */
  close(): void {
    this.link.disable();
  }
}

/** Joins the Link session for a live setup: the quantum is the bar (a meter's length in quarters, at least 1). */
export function openLink(opts: {
  readonly clock: Clock;
  readonly barQuarters: number;
  readonly startStop: boolean;
  readonly log: (line: string) => void;
}): LinkTransport {
  const quantum = Math.max(1, Math.round(opts.barQuarters));
  if (quantum !== opts.barQuarters)
    opts.log(
      `Link: the bar is ${opts.barQuarters} quarters; Link's quantum takes whole beats, so ${quantum}`,
    );
  return new LinkTransport(openLinkBinding(), opts.clock, {
    quantum,
    startStop: opts.startStop,
    log: opts.log,
  });
}
