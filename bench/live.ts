/**
 * Live benchmarks: scheduler jitter (|actual − scheduled| send time) while the char model generates in
 * the same process, and the compute time from the end of a call to its first answer note being
 * scheduled. Inference stays off the timing path because notes are generated ahead of their time (the
 * scheduler's fill runs a window early) and sent by precise timers; the char model's steps are short
 * (ORT runs each synchronously once started), so they only delay a send when they overlap its instant.
 */
import { parseForm } from '../src/music/abc/form.ts';
import { AbcGuide } from '../src/music/abc/guide.ts';
import { parseProgression } from '../src/music/chordSymbols.ts';
import { createRng } from '../src/music/rng.ts';
import { buildRig } from '../src/live/rig.ts';
import { parseSetup } from '../src/live/setup.ts';
import type { MidiOutPort } from '../src/midi/ports.ts';
import { RealClock } from '../src/midi/clock.ts';
import { DEFAULT_ENGINE_OPTIONS, Engine } from '../src/live/engine.ts';
import { JazzImproviser } from '../src/model/jazzImproviser.ts';
import { drawGuided } from '../src/model/tune.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { percentiles, report } from './stats.ts';

const nullOut = (): MidiOutPort & { count: number } => ({
  name: 'null',
  count: 0,
  send() {
    this.count++;
  },
  close: () => Promise.resolve(),
});

async function jazzImproviser(): Promise<{ session: LstmSession; improviser: JazzImproviser }> {
  const session = await LstmSession.load('models/jazz');
  const sampler = { temperature: 1, topK: 0, topP: 0.95 };
  return { session, improviser: new JazzImproviser(session, createRng(1), sampler, { low: 55, high: 84 }) };
}

export async function benchJitter(seconds: number, charModel: string | null): Promise<string[]> {
  const clock = new RealClock();
  const out = nullOut();
  const rig = await buildRig(
    parseSetup({ mode: 'solo', bpm: 160, chords: 'Dm7 G7 Cmaj7 A7', clock: 'lead' }),
    { clock, input: null, output: out, log: () => undefined },
  );
  const live = rig.live;
  // the char model generating in the same process, as fast as the event loop lets it, under the
  // bar-true mask as the ABC improviser draws
  let chars = 0;
  let running = true;
  const char = charModel ? await LstmSession.load(charModel) : null;
  const charLoop = async (): Promise<void> => {
    if (!char) return;
    const rng = createRng(2);
    const guide = new AbcGuide(char.vocabulary, { form: parseForm() });
    const allowed = new Uint8Array(char.vocabulary.length);
    let step = await char.step(char.startToken);
    while (running) {
      const { id } = drawGuided(guide, step.logits, { temperature: 1, topK: 0, topP: 1 }, rng, allowed);
      guide.push(char.vocabulary[id] as string);
      step = await char.step(id);
      chars++;
    }
  };
  live.start();
  const gen = charLoop();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  running = false;
  await gen;
  await rig.close();
  await char?.dispose();
  const j = percentiles(live.stats.jitter.values());
  return [
    `scheduler jitter (${seconds} s of solo at 160 BPM with MIDI clock out, ${j.n} sends${char ? `, char model generating ${Math.round(chars / seconds)} chars/s under the bar-true mask in the same process` : ''})`,
    report('  jitter p50', j.p50, 'ms'),
    report('  jitter p99', j.p99, 'ms', { value: 1, better: 'lower' }),
    report('  jitter max', j.max, 'ms', { value: 5, better: 'lower' }),
    report('  late sends (> 1 ms)', live.stats.late, 'events'),
  ];
}

export async function benchCallToNote(calls: number): Promise<string[]> {
  const clock = new RealClock();
  const { session, improviser } = await jazzImproviser();
  const engine = new Engine(
    [improviser],
    clock,
    { ...DEFAULT_ENGINE_OPTIONS, progression: parseProgression('Dm7 G7 Cmaj7 Cmaj7', 48) },
    () => undefined,
  );
  const micros: number[] = [];
  const phrase = [62, 65, 69, 72, 71, 67, 64, 62];
  for (let c = 0; c < calls; c++) {
    for (const note of phrase) {
      engine.input({ type: 'noteon', note, velocity: 90 });
      await new Promise((r) => setTimeout(r, 2));
      engine.input({ type: 'noteoff', note });
    }
    const t0 = process.hrtime.bigint();
    await engine.endCall();
    micros.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  await session.dispose();
  const p = percentiles(micros);
  return [
    `call end → first answer note scheduled (compute only: encode the call, prime, generate the answer; ${calls} calls of ${phrase.length} notes)`,
    report('  p50', p.p50 / 1000, 'ms'),
    report('  p99', p.p99 / 1000, 'ms', { value: 5, better: 'lower' }),
    report('  max', p.max / 1000, 'ms'),
  ];
}
