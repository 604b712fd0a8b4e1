/**
 * ABC benchmarks: char step latency, the step with the bar-true mask (what a live answer pays per
 * character), generated characters per second. Training throughput: bench/train.ts.
 */
import { createRng } from '../src/music/rng.ts';
import { parseForm } from '../src/music/abc/form.ts';
import { AbcGuide, corpusTables } from '../src/music/abc/guide.ts';
import { generateAbc, primeIds } from '../src/model/tune.ts';
import { sampleMasked } from '../src/model/sampler.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { percentiles, report } from './stats.ts';

export async function benchAbcStep(model: string, steps: number): Promise<string[]> {
  const session = await LstmSession.load(model);
  const rng = createRng(2);
  const V = session.vocabulary.length;
  for (let i = 0; i < 300; i++) await session.step(rng.int(V));
  session.reset();
  const micros: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = process.hrtime.bigint();
    await session.step(i === 0 ? session.startToken : rng.int(V));
    micros.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const masked = await guidedSteps(session, steps);
  const generation = async (guide: boolean): Promise<number> => {
    const t0 = performance.now();
    const g = await generateAbc(session, {
      tunes: 5,
      start: 'X:1',
      sampler: { temperature: 1, topK: 0, topP: 1 },
      rng: createRng(1),
      maxCharsPerTune: 2000,
      guide: guide && { form: parseForm() },
    });
    return g.characters / ((performance.now() - t0) / 1000);
  };
  const raw = await generation(false);
  const guided = await generation(true);
  await session.dispose();
  const p = percentiles(micros);
  const m = percentiles(masked.mask);
  const all = percentiles(masked.total);
  const [layers, units] = session.manifest.io.stateShape;
  return [
    `char step latency (${model}: ${layers}×${units} LSTM, embedding ${session.manifest.hyperparameters.embedding}, ${steps} steps, 1 thread)`,
    report('  step p50', p.p50, 'µs'),
    report('  step p99', p.p99 / 1000, 'ms', { value: 1, better: 'lower' }),
    report('  step max', p.max / 1000, 'ms'),
    `bar-true mask (AbcGuide, form AABB, the bundle's note lengths; ${masked.mask.length} characters of guided tunes after ${GUIDED_WARMUP} unmeasured)`,
    report('  mask p50', m.p50, 'µs'),
    report('  mask p99', m.p99, 'µs'),
    report('  step + mask + sampling p50', all.p50, 'µs'),
    report('  step + mask + sampling p99', all.p99 / 1000, 'ms', { value: 1, better: 'lower' }),
    report('  step + mask + sampling max', all.max / 1000, 'ms'),
    report('  generation, raw (sampling and ABC reading)', raw, 'chars/s'),
    report('  generation, guided', guided, 'chars/s'),
    report('  guided / raw', guided / raw, '×'),
  ];
}

/** Guided characters drawn before the timing starts. */
const GUIDED_WARMUP = 1_000;

/** Times each character of guided generation: the mask alone, and mask + sampling + model step. */
async function guidedSteps(
  session: LstmSession,
  steps: number,
): Promise<{ mask: number[]; total: number[] }> {
  const vocab = session.vocabulary;
  const guide = new AbcGuide(vocab, {
    form: parseForm(),
    ...corpusTables(session.manifest),
  });
  const allowed = new Uint8Array(vocab.length);
  const rng = createRng(3);
  const sampler = { temperature: 1, topK: 0, topP: 1 };
  session.reset();
  guide.push('X:1');
  let step = await session.prime([session.startToken, ...primeIds('X:1', vocab)]);
  const mask: number[] = [];
  const total: number[] = [];
  // the first characters run unmeasured, as the bare step's first 300 do: the mask's paths are
  // compiled by then (a live answer follows minutes of earlier ones), so the figures are the
  // steady state's, not the JIT's
  const warm = GUIDED_WARMUP;
  for (let i = 0; i < steps + warm; i++) {
    const t0 = process.hrtime.bigint();
    const logits = Float32Array.from(step.logits);
    guide.guide(logits, allowed);
    const t1 = process.hrtime.bigint();
    const { id } = sampleMasked(logits, sampler, rng, allowed);
    step = await session.step(id);
    guide.push(vocab[id] as string);
    const t2 = process.hrtime.bigint();
    if (i < warm) continue;
    mask.push(Number(t1 - t0) / 1000);
    total.push(Number(t2 - t0) / 1000);
  }
  return { mask, total };
}
