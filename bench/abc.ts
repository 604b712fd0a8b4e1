/** ABC benchmarks: char step latency and generated characters per second; training tokens/s with the backend. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { charVocabulary, joinTunes, splitTunes, vectorize } from '../src/music/abc/corpus.ts';
import { createRng } from '../src/music/rng.ts';
import { generateAbc } from '../src/runtime/abc.ts';
import { LstmSession } from '../src/runtime/session.ts';
import { ABC_DEFAULTS } from '../src/train/abc.ts';
import { selectBackend } from '../src/train/backend.ts';
import { trainLm } from '../src/train/trainer.ts';
import { readFileSync } from 'node:fs';
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
  const t0 = performance.now();
  const g = await generateAbc(session, {
    tunes: 5,
    start: 'X:1',
    sampler: { temperature: 1, topK: 0, topP: 1 },
    rng: createRng(1),
    maxCharsPerTune: 2000,
  });
  const seconds = (performance.now() - t0) / 1000;
  await session.dispose();
  const p = percentiles(micros);
  const [layers, units] = session.manifest.io.stateShape;
  return [
    `char step latency (${model}: ${layers}×${units} LSTM, embedding ${session.manifest.hyperparameters.embedding}, ${steps} steps, 1 thread)`,
    report('  step p50', p.p50, 'µs'),
    report('  step p99', p.p99 / 1000, 'ms', { value: 1, better: 'lower' }),
    report('  step max', p.max / 1000, 'ms'),
    report('  generation incl. sampling and ABC reading', g.characters / seconds, 'chars/s'),
  ];
}

export async function benchAbcTraining(batches: number): Promise<string[]> {
  const backend = await selectBackend();
  const tunes = splitTunes(readFileSync('data/irish.abc', 'utf8'));
  const vocab = charVocabulary(tunes.map((t) => `${t}\n\n`));
  const ids = vectorize(joinTunes(tunes), vocab).ids;
  const checkpointDir = mkdtempSync(join(tmpdir(), 'improv-bench-'));
  const r = await trainLm({
    spec: {
      vocabSize: vocab.length,
      units: ABC_DEFAULTS.units,
      layers: 1,
      dropout: 0,
      embedding: ABC_DEFAULTS.embedding,
      seed: 1,
    },
    train: [ids],
    validation: [],
    sequenceLength: ABC_DEFAULTS.sequenceLength,
    batchSize: ABC_DEFAULTS.batchSize,
    epochs: 1,
    learningRate: ABC_DEFAULTS.learningRate,
    stride: ABC_DEFAULTS.sequenceLength,
    randomBatches: batches,
    contextual: true,
    checkpointDir,
    resume: false,
    progress: false,
  });
  r.model.dispose();
  rmSync(checkpointDir, { recursive: true, force: true });
  return [
    `ABC char-LSTM training (default size: embedding ${ABC_DEFAULTS.embedding}, ${ABC_DEFAULTS.units} units, seq ${ABC_DEFAULTS.sequenceLength}, batch ${ABC_DEFAULTS.batchSize}; ${batches} batches; backend ${backend.name})`,
    report('  training throughput', r.tokensPerSecond, 'tokens/s'),
  ];
}
