/** Jazz benchmarks: training time per epoch and tokens/s with the backend used; step latency through the runtime session. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { LstmSession } from '../src/model/lstmSession.ts';
import { selectBackend } from '../src/train/backend.ts';
import { JAZZ_DEFAULTS, readCorpora } from '../src/train/jazz.ts';
import { buildVocabulary, corpusTokens } from '../src/music/corpus.ts';
import { trainLm } from '../src/train/trainer.ts';
import { createRng } from '../src/music/rng.ts';
import { percentiles, report } from './stats.ts';
import { chordAnalyzer } from '../src/music/chord.ts';
import { Conditioner, repeatLagOf } from '../src/music/conditioning.ts';
import { governingChord, parseToken } from '../src/music/grammar.ts';
import { TWELFTHS_PER_QUARTER } from '../src/music/time.ts';
import { copyGuardFor, type CopyGuard } from '../src/model/copyGuard.ts';
import { sample } from '../src/model/sampler.ts';
import { placeChords } from '../src/model/solo.ts';

export async function benchJazzTraining(epochs: number): Promise<string[]> {
  const backend = await selectBackend();
  const corpora = readCorpora(['data/original_metheny.mid'], { profile: 'full' });
  const tokens = corpora.flatMap(corpusTokens);
  const vocab = buildVocabulary(tokens);
  const index = new Map(vocab.map((v, i) => [v, i]));
  const checkpointDir = mkdtempSync(join(tmpdir(), 'improv-bench-'));
  const r = await trainLm({
    spec: {
      vocabSize: vocab.length,
      units: JAZZ_DEFAULTS.units,
      layers: 1,
      dropout: 0,
      embedding: 0,
      seed: 1,
    },
    train: [tokens.map((t) => index.get(t) as number)],
    validation: [],
    sequenceLength: JAZZ_DEFAULTS.sequenceLength,
    batchSize: JAZZ_DEFAULTS.batchSize,
    epochs,
    learningRate: JAZZ_DEFAULTS.learningRate,
    stride: JAZZ_DEFAULTS.stride,
    checkpointDir,
    resume: false,
    progress: false,
  });
  r.model.dispose();
  rmSync(checkpointDir, { recursive: true, force: true });
  return [
    `jazz training (full Metheny corpus, ${r.trainedTokens / epochs} tokens/epoch, n_a 64, batch 32, backend ${backend.name})`,
    report('  time per epoch', r.secondsPerEpoch, 's'),
    report('  training throughput', r.tokensPerSecond, 'tokens/s'),
  ];
}

/**
 * A shipped grammar model stepped as the engine steps it: each token fed with what the model hears
 * where it will start (its conditioning: chord, bar, beat, phrase), over the bundle's own
 * progression, then the next token drawn at temperature 0.5 (where the jazz model copies most). The same
 * line is drawn twice from the same seed, without and with the copy bound (the bundle's default), and
 * each part is timed: the step (onnxruntime), the draw, and the bound's own work (restrict + push).
 */
export async function benchJazzStep(model: string, steps: number): Promise<string[]> {
  const session = await LstmSession.load(model);
  const m = session.manifest;
  const jazz = m.jazz;
  if (!jazz) throw new Error(`${model}: not a grammar bundle`);
  const V = session.vocabulary.length;
  // repeat markers (a lookback model's) play what the line played before: left out of this bench's draws
  const tokens = session.vocabulary.map((v) => (repeatLagOf(v) ? null : parseToken(v)));
  const music = (k: number): boolean => tokens[k] !== null;
  const analysisOf = chordAnalyzer();
  const bars = Math.ceil((steps * 12) / jazz.barLength) + 1;
  const placed = placeChords(jazz.progression, bars, jazz.barLength).map((c) => ({
    onset: c.start,
    analysis: analysisOf(c.pitches),
  }));
  const meter = { barLength: jazz.barLength, beat: jazz.beat ?? TWELFTHS_PER_QUARTER };
  const sampler = { temperature: 0.5, topK: 0, topP: 1 };
  const run = async (
    guard: CopyGuard | null,
  ): Promise<{ step: number[]; draw: number[]; bound: number[]; binding: number }> => {
    session.reset();
    const conditioner = new Conditioner(session.conditionFeatures);
    const cond = new Float32Array(session.conditionWidth);
    const rng = createRng(1);
    const allowed = new Uint8Array(V);
    const step: number[] = [];
    const draw: number[] = [];
    const bound: number[] = [];
    let t = 0;
    let id = session.startToken;
    for (let i = 0; i < steps; i++) {
      const t0 = process.hrtime.bigint();
      if (session.conditionWidth > 0) conditioner.at(t, governingChord(placed, t).analysis, meter, cond);
      const out = await session.step(id, session.conditionWidth > 0 ? cond : undefined);
      const t1 = process.hrtime.bigint();
      let b = 0n;
      if (guard) {
        allowed.fill(1);
        const g0 = process.hrtime.bigint();
        const masked = guard.restrict(allowed);
        b += process.hrtime.bigint() - g0;
        id = masked
          ? sample(out.logits, sampler, rng, (k) => allowed[k] === 1 && music(k))
          : sample(out.logits, sampler, rng, music);
        const g1 = process.hrtime.bigint();
        guard.push(id);
        b += process.hrtime.bigint() - g1;
      } else id = sample(out.logits, sampler, rng, music);
      const t2 = process.hrtime.bigint();
      step.push(Number(t1 - t0) / 1000);
      draw.push(Number(t2 - t1) / 1000);
      bound.push(Number(b) / 1000);
      t += (tokens[id] as { dur: number }).dur;
    }
    return { step, draw, bound, binding: guard?.binding ?? 0 };
  };
  await run(null); // warm-up
  const free = await run(null);
  const guard = copyGuardFor(session, null);
  const bounded = await run(guard);
  await session.dispose();
  const p = percentiles(free.step);
  const pb = percentiles(bounded.step);
  const d = percentiles(free.draw);
  const db = percentiles(bounded.draw);
  const g = percentiles(bounded.bound);
  const total = (r: { step: number[]; draw: number[] }): number[] =>
    r.step.map((x, i) => x + (r.draw[i] as number));
  const limit = guard
    ? `${guard.limit.tokens} tokens, ${guard.limit.rhythm ?? '-'} of rhythm`
    : 'none in the bundle';
  return [
    `grammar step as the engine steps it (${model}, ${steps} tokens, ${session.conditionWidth} conditioning values, vocabulary ${V}, T 0.5; bound: ${limit}, masked ${bounded.binding} draws)`,
    report('  step p50 (conditioning + onnxruntime)', p.p50, 'µs'),
    report('  step p99', p.p99, 'µs', { value: 100, better: 'lower' }),
    report('  step max', p.max, 'µs'),
    report('  draw p50 / p99, no bound', d.p50, 'µs') + ` / ${d.p99.toFixed(2)} µs`,
    report('  draw p50 / p99, bound on', db.p50, 'µs') + ` / ${db.p99.toFixed(2)} µs`,
    report('  the bound alone (restrict + push) p50', g.p50, 'µs'),
    report('  the bound alone (restrict + push) p99', g.p99, 'µs', { value: 10, better: 'lower' }),
    report('  the bound alone max', g.max, 'µs'),
    report('  step + draw p99, no bound', percentiles(total(free)).p99, 'µs'),
    report('  step + draw p99, bound on', percentiles(total(bounded)).p99, 'µs'),
    report('  (bound-on run) step p99', pb.p99, 'µs'),
  ];
}
