/**
 * Phase against the band, in real time: our engine in an Ableton Link session with a peer in another
 * process (tests/link/peer.cjs), and, beside it in the same run, an engine following a synthesised MIDI
 * clock (±1 ms jitter on every tick, sent from a timer as a DAW's arrive). Both play the jazz model
 * solo for LINK_SECONDS (60 by default); the tempo changes twice (Link: the peer sets 133 BPM at a
 * third, we propose 110 at two thirds; MIDI: the DAW steps to 133 and then 110 at the same times).
 * Every 100 ms the engine's beat is compared with the peer's (or the DAW's) timeline; every note-on
 * sent is compared with the nearest point of that timeline's grid (twelfths of a beat, the grammar's
 * finest), at the time it was actually sent.
 */
import { createRng } from '../src/music/rng.ts';
import { TICKS_PER_QUARTER } from '../src/live/midiClock.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { gridMs, linkAvailable, LinkPeer, phaseMs, type PeerSample } from '../tests/link/peers.ts';
import { until } from '../tests/until.ts';
import { linkRig, noteOnsAfter } from '../tests/link/rig.ts';
import { captureRig, feedInput } from '../tests/rigs.ts';
import { percentiles } from './stats.ts';

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const f = (x: number): string => x.toFixed(2);
const line = (name: string, phase: number[], grid: number[]): string => {
  const p = percentiles(phase.map(Math.abs));
  const g = percentiles(grid.map(Math.abs));
  return `  ${name.padEnd(22)} beat phase p50/p99/max ${f(p.p50)}/${f(p.p99)}/${f(p.max)} ms (${p.n} samples); note-ons off the grid p50/p99/max ${f(g.p50)}/${f(g.p99)}/${f(g.max)} ms (${g.n} notes)`;
};

/** A DAW's timeline: tempo segments [from ms, bpm], and the beat at any time. */
class DawTimeline {
  private readonly segments: { at: number; beat: number; bpm: number }[];
  constructor(start: number, bpm: number) {
    this.segments = [{ at: start, beat: 0, bpm }];
  }
  change(at: number, bpm: number): void {
    this.segments.push({ at, beat: this.beatAt(at), bpm });
  }
  private segment(at: number): { at: number; beat: number; bpm: number } {
    let s = this.segments[0] as { at: number; beat: number; bpm: number };
    for (const x of this.segments) if (x.at <= at) s = x;
    return s;
  }
  beatAt(at: number): number {
    const s = this.segment(at);
    return s.beat + ((at - s.at) * s.bpm) / 60_000;
  }
  bpmAt(at: number): number {
    return this.segment(at).bpm;
  }
  /** When the beat reaches `beat` (ms). */
  timeOf(beat: number): number {
    let s = this.segments[0] as { at: number; beat: number; bpm: number };
    for (const x of this.segments) if (x.beat <= beat) s = x;
    return s.at + ((beat - s.beat) * 60_000) / s.bpm;
  }
}

/** An engine following MIDI clock from a timer that sends ticks, each ±1 ms off its time. */
async function midiRig(session: LstmSession, seconds: number) {
  const input = feedInput('daw');
  const { live, sent, clock } = await captureRig(
    [session],
    { mode: 'solo', seed: 4, clock: 'follow' },
    () => ({
      input,
    }),
  );
  const deliver = input.deliver;
  const start = performance.now() + 50;
  const daw = new DawTimeline(start, 120);
  const rng = createRng(11);
  let tick = 0;
  const end = start + seconds * 1000;
  const next = (): void => {
    if (tick === 0) deliver({ type: 'start' });
    deliver({ type: 'clock' });
    tick++;
    const due = daw.timeOf(tick / TICKS_PER_QUARTER) + (rng.next() * 2 - 1);
    if (due < end) clock.setPreciseTimer(next, due - performance.now());
  };
  clock.setPreciseTimer(next, start - performance.now());
  return { live, sent, daw, start };
}

export async function benchLinkPhase(seconds = Number(process.env.LINK_SECONDS ?? 60)): Promise<string[]> {
  const header = `link-phase (${seconds} s of solo in real time, tempo changed at a third and two thirds; errors absolute)`;
  if (!linkAvailable()) return [header, '  skipped: abletonlink-addon does not load here'];
  const session = await LstmSession.load('models/jazz');
  const peer = await LinkPeer.start();
  const rig = await linkRig('solo');
  await until(
    'the peer and the engine to find each other',
    async () => (await peer.sample()).peers === 1,
    5000,
  );
  await peer.command('play');
  await until('the engine to play', () => rig.live.running);
  const midi = await midiRig(session, seconds);
  const t0 = performance.now();
  const samples: PeerSample[] = [];
  const linkPhase: number[] = [];
  const midiPhase: number[] = [];
  const changes: number[] = [];
  let step = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const elapsed = performance.now() - t0;
    if (step === 0 && elapsed >= (seconds * 1000) / 3) {
      step = 1;
      await peer.command('tempo 133');
      midi.daw.change(performance.now(), 133);
      changes.push(performance.now());
    } else if (step === 1 && elapsed >= (seconds * 2000) / 3) {
      step = 2;
      rig.live.proposeTempo(110);
      midi.daw.change(performance.now(), 110);
      changes.push(performance.now());
    }
    const s = await peer.sample();
    samples.push(s);
    if (elapsed > 1000) {
      linkPhase.push(phaseMs(rig.live.engine.twelfthsAt(s.at) / 12, s.beat, 4, s.tempo));
      const now = performance.now();
      midiPhase.push(
        phaseMs(midi.live.engine.twelfthsAt(now) / 12, midi.daw.beatAt(now), 4, midi.daw.bpmAt(now)),
      );
    }
    await pause(100);
  }
  // a note is judged against the peer's sample nearest before it, in the same tempo
  const linkGrid = noteOnsAfter(rig, t0 + 1000).flatMap((n) => {
    const s = samples.filter((x) => x.at <= n.at).at(-1);
    return s && !changes.some((c) => c > s.at - 200 && c <= n.at) ? [gridMs(s, n.at, 12)] : [];
  });
  const midiGrid = midi.sent.flatMap((x) => {
    if (x.m.type !== 'noteon' || x.at < t0 + 1000) return [];
    const pos = midi.daw.beatAt(x.at) * 12;
    return [((pos - Math.round(pos)) / 12) * (60_000 / midi.daw.bpmAt(x.at))];
  });
  const tempos = `Link tempo at the end ${f(rig.live.engine.tempo)} (peer ${f(samples.at(-1)?.tempo ?? NaN)}), MIDI ${f(midi.live.engine.tempo)} BPM`;
  await midi.live.stop();
  await rig.close();
  await peer.quit();
  await session.dispose();
  return [
    header,
    line('Ableton Link', linkPhase, linkGrid),
    line('MIDI clock follow', midiPhase, midiGrid),
    `  ${tempos}`,
  ];
}
