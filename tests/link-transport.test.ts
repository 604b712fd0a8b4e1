/**
 * Following a Link timeline, on a virtual clock with a stand-in for the Link SDK: the session's beat is
 * a line that a tempo change bends at the instant it happens, as the SDK's is. (tests/link.test.ts
 * runs the same against real peers in other processes.)
 */
import { describe, expect, it } from 'vitest';
import {
  LINK_DISCOVERY_MS,
  LinkTransport,
  LinkUnavailableError,
  openLinkBinding,
  type LinkBinding,
} from '../src/midi/link.ts';
import { VirtualClock, type Clock } from '../src/midi/clock.ts';
import { liveHarness, noteOns } from './liveHarness.ts';

class FakeLink implements LinkBinding {
  tempo = 120;
  private anchorBeat = 0;
  private anchorAt: number;
  playing = false;
  peers = 0;
  quantum = 0;
  startStopSync = false;
  enabled = false;

  constructor(
    private readonly clock: Clock,
    beat = 0,
  ) {
    this.anchorAt = clock.now();
    this.anchorBeat = beat;
  }
  enable(): void {
    this.enabled = true;
  }
  disable(): void {
    this.enabled = false;
  }
  enableStartStopSync(): void {
    this.startStopSync = true;
  }
  disableStartStopSync(): void {
    this.startStopSync = false;
  }
  getNumPeers(): number {
    return this.peers;
  }
  getTempo(): number {
    return this.tempo;
  }
  setTempo(bpm: number): void {
    this.moveBeat(this.getBeat());
    this.tempo = bpm;
  }
  setQuantum(q: number): void {
    this.quantum = q;
  }
  getBeat(): number {
    return this.anchorBeat + ((this.clock.now() - this.anchorAt) * this.tempo) / 60_000;
  }
  /** Another peer moves the beat (Link's forceBeatAtTime). */
  moveBeat(beat: number): void {
    this.anchorBeat = beat;
    this.anchorAt = this.clock.now();
  }
  isPlaying(): boolean {
    return this.playing;
  }
  play(): void {
    this.playing = true;
  }
  stop(): void {
    this.playing = false;
  }
}

/** How far a time falls from the fake session's grid of twelfths of a beat, in ms (after the last tempo change). */
const offGrid = (link: FakeLink, clock: VirtualClock, at: number): number => {
  const pos = (link.getBeat() - ((clock.now() - at) * link.tempo) / 60_000) * 12;
  return Math.abs(pos - Math.round(pos)) * (5000 / link.tempo);
};

describe('LinkTransport', () => {
  it('says why Link is unavailable: not installed, not built, or failing to load', () => {
    const failing = (err: Error) => () => {
      throw err;
    };
    const missing = Object.assign(new Error("Cannot find module 'abletonlink-addon'\nRequire stack: …"), {
      code: 'MODULE_NOT_FOUND',
    });
    expect(() => openLinkBinding(failing(missing))).toThrow(LinkUnavailableError);
    expect(() => openLinkBinding(failing(missing))).toThrow(
      /^--clock link: Ableton Link is unavailable here \(abletonlink-addon is not installed\).*npm rebuild abletonlink-addon/,
    );
    expect(() =>
      openLinkBinding(
        failing(new Error('Could not locate the bindings file. Tried:\n → …/AbletonLinkAddon.node')),
      ),
    ).toThrow(/its native part was not built/);
    expect(() => openLinkBinding(failing(new Error('GLIBC_2.38 not found')))).toThrow(
      /abletonlink-addon did not load: GLIBC_2.38 not found/,
    );
  });

  it('sets the quantum to the bar, keeps the beat non-negative by whole bars, and starts a session it is alone in', () => {
    const clock = new VirtualClock(5000);
    const link = new FakeLink(clock, -2.5);
    const lines: string[] = [];
    const t = new LinkTransport(link, clock, { quantum: 4, startStop: true, log: (l) => lines.push(l) });
    expect(link.quantum).toBe(4);
    expect(link.startStopSync).toBe(true);
    expect(link.enabled).toBe(true);
    const r = t.read();
    expect(r.beat).toBeCloseTo(1.5, 9); // −2.5 plus one bar: the same place in the bar
    expect(r.playing).toBe(false);
    clock.advance(LINK_DISCOVERY_MS);
    expect(t.read().playing).toBe(true);
    expect(link.playing).toBe(true);
    expect(lines).toContain('Link: no peer has started the session; starting it');
    t.close();
    expect(link.enabled).toBe(false);
  });

  it('waits for a session with peers to start, and plays regardless without start/stop sync', () => {
    const clock = new VirtualClock();
    const link = new FakeLink(clock);
    link.peers = 2;
    const lines: string[] = [];
    const t = new LinkTransport(link, clock, { quantum: 3, startStop: true, log: (l) => lines.push(l) });
    clock.advance(LINK_DISCOVERY_MS * 3);
    expect(t.read().playing).toBe(false);
    expect(link.playing).toBe(false);
    expect(lines).toEqual(['Link: 2 peers', 'Link: waiting for the session to start (2 peers)']);
    const free = new LinkTransport(new FakeLink(clock), clock, {
      quantum: 4,
      startStop: false,
      log: () => {},
    });
    expect(free.read().playing).toBe(true);
  });
});

describe('a live session following Link', () => {
  const withLink = (link: { current: FakeLink | null }) => (clock: VirtualClock) => {
    link.current = new FakeLink(clock, 7.3);
    link.current.playing = true;
    link.current.peers = 1;
    const transport = new LinkTransport(link.current, clock, { quantum: 4, startStop: true, log: () => {} });
    return { link: transport };
  };

  it('carries what is scheduled through a tempo change, and drops it on a jump of the beat', async () => {
    const ref: { current: FakeLink | null } = { current: null };
    const h = await liveHarness({ mode: 'solo', clock: 'link' }, withLink(ref));
    const link = ref.current as FakeLink;
    await h.run(3000);
    const before = noteOns(h.out);
    expect(before.length).toBeGreaterThan(4);
    for (const n of before) expect(offGrid(link, h.clock, n.time)).toBeLessThan(0.01);
    // a peer changes the tempo: notes already queued (up to two beats ahead) move with it
    link.setTempo(150);
    const changed = h.clock.now();
    await h.run(3000);
    const after = noteOns(h.out).filter((n) => n.time > changed + 25); // from the next reading on
    expect(after.length).toBeGreaterThan(4);
    for (const n of after) expect(offGrid(link, h.clock, n.time)).toBeLessThan(0.01);
    expect(h.live.engine.tempo).toBe(150);
    // a peer moves the beat by a beat and a half: nothing queued is slid; play resumes on the grid
    link.moveBeat(link.getBeat() + 1.5);
    const jumped = h.clock.now();
    const sentBefore = h.out.length;
    await h.run(3000);
    // (from the next reading on, that reading's instant included: a slid note would be sent then)
    const later = noteOns(h.out).filter((n) => n.time >= jumped + 25);
    expect(later.length).toBeGreaterThan(4);
    for (const n of later) expect(offGrid(link, h.clock, n.time)).toBeLessThan(0.01);
    expect(h.out.length).toBeGreaterThan(sentBefore);
    await h.close();
  });

  it('stops and starts with the session; the tempo CC and proposeTempo go to Link', async () => {
    const ref: { current: FakeLink | null } = { current: null };
    const h = await liveHarness({ mode: 'solo', clock: 'link' }, withLink(ref));
    const link = ref.current as FakeLink;
    await h.run(1000);
    link.stop();
    await h.run(50);
    expect(h.live.running).toBe(false);
    expect(h.live.sounding).toBe(0);
    const stopped = noteOns(h.out).length;
    await h.run(2000);
    expect(noteOns(h.out).length).toBe(stopped);
    link.play();
    await h.run(2000);
    expect(noteOns(h.out).length).toBeGreaterThan(stopped);
    await h.send([0xb0, 28, 73]); // tempo CC: value + 60
    expect(link.tempo).toBe(133);
    await h.run(50);
    expect(h.live.engine.tempo).toBe(133);
    expect(h.live.proposeTempo(97)).toBe(true);
    expect(link.tempo).toBe(97);
    await h.close();
    expect(link.enabled).toBe(false); // stopping the session leaves the Link session
  });

  it('under MIDI clock follow a tempo request is refused; with the internal clock it is set', async () => {
    const lines: string[] = [];
    const follow = await liveHarness({ clock: 'follow' }, () => ({ log: (l) => lines.push(l) }));
    expect(follow.live.proposeTempo(90)).toBe(false);
    expect(lines).toContain('tempo 90 not taken: the tempo follows the incoming MIDI clock');
    await follow.close();
    const internal = await liveHarness();
    await internal.send([0xb0, 28, 40]);
    expect(internal.live.engine.tempo).toBe(100);
    await internal.close();
  });
});
