/**
 * Soak: minutes of simulated performance with both models at once, a jazz call-and-response fed by
 * scripted calls and an ABC solo, on the real clock. Reports RSS and the live JS heap at start (after
 * warm-up) and end, late events, jitter p99/max, and notes left hanging after stop. Target over 30
 * minutes: RSS growth ≤ 5 %, zero hanging notes, jitter p99 ≤ 1 ms. `npm run bench -- soak` runs
 * 1 minute; `SOAK_MINUTES=30 npm run bench -- soak` runs the real thing.
 */
import type { MidiMessage } from '../src/midi/messages.ts';
import { QuietCollector } from '../src/live/quietCollector.ts';
import { buildRig } from '../src/live/rig.ts';
import { parseSetup } from '../src/live/setup.ts';
import { RealClock } from '../src/midi/clock.ts';
import type { EngineMode } from '../src/live/engine.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { feedInput } from '../tests/rigs.ts';
import { percentiles, report } from './stats.ts';

function countingPort(name: string): {
  name: string;
  send(m: MidiMessage): void;
  close(): Promise<void>;
  open: Map<number, number>;
} {
  const open = new Map<number, number>();
  return {
    name,
    open,
    send(m) {
      const k = m.type === 'noteon' || m.type === 'noteoff' ? m.channel * 128 + m.note : -1;
      if (m.type === 'noteon') open.set(k, (open.get(k) ?? 0) + 1);
      if (m.type === 'noteoff') open.set(k, Math.max(0, (open.get(k) ?? 0) - 1));
    },
    close: () => Promise.resolve(),
  };
}

const mb = (b: number): number => b / 1024 / 1024;

const arenas = (): string => {
  const max = process.env.MALLOC_ARENA_MAX;
  return max === undefined || max === '0' ? "glibc's default malloc arenas" : `MALLOC_ARENA_MAX=${max}`;
};

/**
 * Memory once garbage is gone: a full GC (when node runs with --expose-gc), then a second for V8 to hand
 * freed pages back to the system, which it does in the background. Measured the same way at start and
 * end, the difference in RSS is memory the process keeps, and the difference in heapUsed is what its
 * JavaScript keeps alive (a leak shows there; V8's own heap sizing does not). Plain gc() it must be:
 * node 20's V8 takes an options object such as {type: 'major'} for a young-generation collection,
 * which leaves the old generation's garbage in the figure (megabytes of it after a few minutes, as no
 * major GC may have run).
 */
async function settled(): Promise<NodeJS.MemoryUsage> {
  (global.gc as (() => void) | undefined)?.();
  await new Promise((r) => setTimeout(r, 1000));
  return process.memoryUsage();
}

export async function benchSoak(minutes: number): Promise<string[]> {
  const clock = new RealClock();
  // as the daemon does with its default gc.everyMinutes (and the unit's --expose-gc); SOAK_GC=0: off
  const every = Number(process.env.SOAK_GC ?? 5);
  const collector = every > 0 ? new QuietCollector(clock, every * 60_000) : null;
  const make = async (model: string, mode: EngineMode, seed: number) => {
    const session = await LstmSession.load(model);
    const input = feedInput(`${model} calls`);
    const out = countingPort(`${model} out`);
    const rig = await buildRig(
      parseSetup({ models: [model], mode, seed, bpm: 132, chords: 'Dm7 G7 Cmaj7 A7' }),
      { clock, sessions: [session], input, output: out, collector, log: () => undefined },
    );
    return { session, live: rig.live, out, deliver: input.deliver };
  };
  const jazz = await make('models/jazz', 'call-response', 1);
  const abc = await make('models/abc', 'solo', 2);
  jazz.live.start();
  abc.live.start();
  // a call every 6 s: four notes over one beat and a half
  const phrase = [62, 65, 69, 72];
  const calls = setInterval(() => {
    phrase.forEach((note, i) => {
      setTimeout(() => jazz.deliver({ type: 'noteon', channel: 0, note, velocity: 90 }), i * 110);
      setTimeout(() => jazz.deliver({ type: 'noteoff', channel: 0, note, velocity: 0 }), i * 110 + 100);
    });
  }, 6000);
  await new Promise((r) => setTimeout(r, 10_000)); // warm-up
  const { rss: rssStart, heapUsed: liveStart } = await settled();
  // RSS every 30 s (no forced GC), so a plateau can be told from a steady climb
  const trace: number[] = [];
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    trace.push(m.rss);
    if (process.env.SOAK_TRACE) {
      const f = (b: number): string => mb(b).toFixed(1);
      process.stderr.write(
        `soak ${trace.length * 0.5} min: rss ${f(m.rss)} heap ${f(m.heapUsed)} of ${f(m.heapTotal)} external ${f(m.external)} MB\n`,
      );
    }
  }, 30_000);
  await new Promise((r) => setTimeout(r, minutes * 60_000));
  clearInterval(sampler);
  const { rss: rssEnd, heapUsed: liveEnd } = await settled();
  clearInterval(calls);
  await jazz.live.stop();
  await abc.live.stop();
  await jazz.session.dispose();
  await abc.session.dispose();
  const hanging = [...jazz.out.open.values(), ...abc.out.open.values()].reduce((a, b) => a + b, 0);
  const j = percentiles([...jazz.live.stats.jitter.values(), ...abc.live.stats.jitter.values()]);
  const step = Math.max(1, Math.round(minutes / 6)) * 2; // about six samples of the 30-s trace
  const samples = trace.filter((_, i) => (i + 1) % step === 0).map((b) => mb(b).toFixed(1));
  return [
    ...(global.gc ? [] : ['soak: no forced GC before the RSS figures; run it with node --expose-gc']),
    `soak (${minutes} min after a 10 s warm-up: jazz call and response every 6 s + ABC solo, real clock; ${jazz.live.engine.stats.responses} answers, ${jazz.live.stats.notesSent + abc.live.stats.notesSent} notes; ${arenas()})`,
    report('  RSS at start', mb(rssStart), 'MB'),
    report('  RSS at end', mb(rssEnd), 'MB'),
    ...(samples.length > 0
      ? [`  RSS every ${step / 2} min (no forced GC)      ${samples.join(' ')} MB`]
      : []),
    report('  RSS growth', (100 * (rssEnd - rssStart)) / rssStart, '%', { value: 5, better: 'lower' }),
    report('  live JS heap at start (after full GC)', mb(liveStart), 'MB'),
    report('  live JS heap at end (after full GC)', mb(liveEnd), 'MB'),
    report('  late events (> 1 ms)', jazz.live.stats.late + abc.live.stats.late, 'events'),
    report('  jitter p99 (last 10 000 sends of each)', j.p99, 'ms', { value: 1, better: 'lower' }),
    report('  jitter max', j.max, 'ms'),
    report('  notes left hanging after stop', hanging, 'notes'),
    collector
      ? `  quiet collections (every ${every} min)      ${collector.stats.collections}, longest ${collector.stats.maxMs.toFixed(1)} ms`
      : '  quiet collections                     off (SOAK_GC=0)',
  ];
}
