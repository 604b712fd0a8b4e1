/**
 * MIDI clock as DAWs send it: follow mode against synthesised clock streams with ±1 ms of jitter, a
 * tempo ramp, a tempo step, and Stop / Song Position Pointer / Continue. In virtual time, through the
 * live session and the engine as they run: each 10 ms it compares the engine's tempo and beat with the
 * DAW's. Beside each figure: the follower as it was before (a mean over the last 24 ticks, tempo
 * changes under 0.5 BPM ignored, the beat never re-anchored to the ticks), for the ratio.
 */
import { createRng } from '../src/music/rng.ts';
import type { MidiMessage } from '../src/midi/messages.ts';
import { buildRig } from '../src/live/rig.ts';
import { parseSetup } from '../src/live/setup.ts';
import { VirtualClock } from '../src/midi/clock.ts';
import type { Engine } from '../src/live/engine.ts';
import { TICKS_PER_QUARTER } from '../src/live/midiClock.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { feedInput } from '../tests/rigs.ts';
import { percentiles } from './stats.ts';

interface Scenario {
  readonly name: string;
  readonly seconds: number;
  /** The DAW's tempo at t seconds. */
  bpm(t: number): number;
  /** Transport events: [second, message]. */
  readonly transport: readonly [number, MidiMessage][];
  /** Where the DAW's song position jumps: [second, quarters] (with the SPP above). */
  readonly jumps: readonly [number, number][];
  /** For a tempo step: when it happens (the settling time is measured from there). */
  readonly step?: number;
}

const STEP_S = 0.0005; // the DAW's timeline is integrated in half-millisecond steps

/** The DAW's ticks (ms, with jitter) and its position (quarters) at any time. */
function daw(s: Scenario, jitterMs: number, seed: number) {
  const rng = createRng(seed);
  const ticks: { at: number; msg: MidiMessage }[] = [];
  const positions: number[] = []; // quarters at each STEP_S
  let q = 0;
  let running = true;
  let nextTick = 0;
  const transport = [...s.transport];
  const jumps = [...s.jumps];
  for (let i = 0; i * STEP_S <= s.seconds; i++) {
    const t = i * STEP_S;
    while (transport.length && (transport[0]?.[0] ?? Infinity) <= t) {
      const [, msg] = transport.shift() as [number, MidiMessage];
      ticks.push({ at: Math.max(ticks.at(-1)?.at ?? 0, t * 1000), msg });
      if (msg.type === 'stop') running = false;
      if (msg.type === 'continue' || msg.type === 'start') running = true;
    }
    while (jumps.length && (jumps[0]?.[0] ?? Infinity) <= t) {
      q = (jumps.shift() as [number, number])[1];
      nextTick = Math.ceil(q * TICKS_PER_QUARTER - 1e-9);
    }
    positions.push(q);
    if (!running) continue;
    if (q * TICKS_PER_QUARTER >= nextTick - 1e-9) {
      // jittered, but in the order sent: MIDI is a serial stream
      const at = Math.max(ticks.at(-1)?.at ?? 0, t * 1000 + (rng.next() * 2 - 1) * jitterMs);
      ticks.push({ at, msg: { type: 'clock' } });
      nextTick++;
    }
    q += (s.bpm(t) / 60) * STEP_S;
  }
  return { ticks, positionAt: (ms: number): number => positions[Math.round(ms / 1000 / STEP_S)] ?? q };
}

/** The follower as it was: tempo from the mean tick spacing, ignored under 0.5 BPM, no phase lock. */
class OldFollower {
  private times: number[] = [];
  tick(now: number, engine: Engine): void {
    this.times.push(now);
    if (this.times.length > 25) this.times.shift();
    if (this.times.length < 7) return;
    const per = ((this.times.at(-1) as number) - (this.times[0] as number)) / (this.times.length - 1);
    const bpm = 60_000 / (per * TICKS_PER_QUARTER);
    if (Math.abs(bpm - engine.tempo) > 0.5) engine.setTempo(bpm);
  }
  reset(): void {
    this.times = [];
  }
}

async function run(s: Scenario, session: LstmSession, old: boolean) {
  const clock = new VirtualClock(0);
  const input = feedInput('daw');
  const output = { name: 'out', send: () => undefined, close: () => Promise.resolve() };
  const rig = await buildRig(parseSetup({ mode: 'call-response', bpm: 100, chords: 'C', clock: 'follow' }), {
    clock,
    sessions: [session],
    input,
    output,
    log: () => undefined,
  });
  const live = rig.live;
  live.start();
  const oldFollower = new OldFollower();
  const deliver = (m: MidiMessage): void => {
    if (!old || m.type !== 'clock') {
      if (old && (m.type === 'start' || m.type === 'continue')) oldFollower.reset();
      input.deliver(m);
      return;
    }
    oldFollower.tick(clock.now(), live.engine);
  };
  const { ticks, positionAt } = daw(s, 1, 7);
  const tempoErr: number[] = [];
  const phaseErr: number[] = [];
  let settledAt: number | null = null;
  let i = 0;
  for (let ms = 0; ms <= s.seconds * 1000; ms += 10) {
    while (i < ticks.length && (ticks[i]?.at ?? Infinity) <= ms) {
      const t = ticks[i++] as { at: number; msg: MidiMessage };
      clock.advance(Math.max(0, t.at - clock.now()));
      deliver(t.msg);
    }
    clock.advance(Math.max(0, ms - clock.now()));
    if (ms < 1000) continue; // the first beat: the follower has not heard enough yet
    const bpm = s.bpm(ms / 1000);
    const te = Math.abs(live.engine.tempo - bpm);
    const pe = Math.abs((live.engine.twelfthsAt(ms) / 12 - positionAt(ms)) * (60_000 / bpm));
    const transportGap = s.transport.some(([t, m]) => m.type !== 'start' && Math.abs(ms / 1000 - t) < 1.5);
    if (!transportGap) {
      tempoErr.push(te);
      phaseErr.push(pe);
    }
    if (s.step !== undefined && ms / 1000 >= s.step) {
      if (te < 0.5 && pe < 2) settledAt ??= ms / 1000 - s.step;
      else settledAt = null;
    }
  }
  await live.stop();
  return { tempo: percentiles(tempoErr), phase: percentiles(phaseErr), settle: settledAt };
}

const start: [number, MidiMessage] = [0, { type: 'start' }];
const SCENARIOS: Scenario[] = [
  { name: 'steady 120 BPM', seconds: 60, bpm: () => 120, transport: [start], jumps: [] },
  {
    name: 'ramp 100→140 BPM over 60 s',
    seconds: 60,
    bpm: (t) => 100 + (40 * t) / 60,
    transport: [start],
    jumps: [],
  },
  {
    name: 'step 120→90 BPM at 30 s',
    seconds: 60,
    bpm: (t) => (t < 30 ? 120 : 90),
    transport: [start],
    jumps: [],
    step: 30,
  },
  {
    name: 'Stop at 20 s, SPP to bar 9, Continue at 22 s',
    seconds: 45,
    bpm: () => 120,
    transport: [
      start,
      [20, { type: 'stop' }],
      [21, { type: 'songposition', sixteenths: 128 }],
      [22, { type: 'continue' }],
    ],
    jumps: [[21, 32]],
  },
];

export async function benchClockFollow(): Promise<string[]> {
  const session = await LstmSession.load('models/jazz');
  const lines = [
    'clock-follow (MIDI clock in, ±1 ms jitter on every tick; errors sampled every 10 ms after the first second; now | before)',
  ];
  for (const s of SCENARIOS) {
    const now = await run(s, session, false);
    const was = await run(s, session, true);
    const f = (x: number): string => x.toFixed(2);
    lines.push(
      `  ${s.name.padEnd(46)} tempo error p50/p99 ${f(now.tempo.p50)}/${f(now.tempo.p99)} | ${f(was.tempo.p50)}/${f(was.tempo.p99)} BPM;` +
        ` phase error p50/p99 ${f(now.phase.p50)}/${f(now.phase.p99)} | ${f(was.phase.p50)}/${f(was.phase.p99)} ms` +
        (s.step !== undefined
          ? `; settles in ${now.settle?.toFixed(2) ?? 'never'} | ${was.settle?.toFixed(2) ?? 'never'} s`
          : ''),
    );
  }
  await session.dispose();
  return lines;
}
