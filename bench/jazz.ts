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

export async function benchJazzStep(model: string, steps: number): Promise<string[]> {
  const session = await LstmSession.load(model);
  const rng = createRng(1);
  const V = session.vocabulary.length;
  for (let i = 0; i < 500; i++) await session.step(rng.int(V)); // warm-up
  session.reset();
  const micros: number[] = [];
  for (let i = 0; i < steps; i++) {
    const id = i === 0 ? session.startToken : rng.int(V);
    const t0 = process.hrtime.bigint();
    await session.step(id);
    micros.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const prime = Array.from({ length: 64 }, () => rng.int(V));
  const primeMicros: number[] = [];
  for (let i = 0; i < 200; i++) {
    session.reset();
    const t0 = process.hrtime.bigint();
    await session.prime(prime);
    primeMicros.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  await session.dispose();
  const p = percentiles(micros);
  const q = percentiles(primeMicros);
  return [
    `jazz step latency (${model}, ${steps} steps, onnxruntime-node, 1 thread, vocabulary ${V})`,
    report('  step p50', p.p50, 'µs'),
    report('  step p99', p.p99, 'µs', { value: 100, better: 'lower' }),
    report('  step max', p.max, 'µs'),
    report('  prime 64 tokens p50', q.p50, 'µs'),
    report('  prime 64 tokens p99', q.p99, 'µs'),
  ];
}
