/**
 * `npm run bench -- train`: the same char model trained by both trainers in one run — TensorFlow.js on
 * its fastest backend here (wasm) and onnxruntime's gradient graphs — at the default size (embedding 64,
 * 256 units) and the MIT lab's (embedding 256, 1024 units), sequence 100, batch 32, on data/irish.abc.
 * Targets: ort ≥ 20× tfjs at the default size; ≥ 2,500 tokens/s at 1024 units.
 *
 * Each measurement runs in a child process: tfjs-wasm aborts its whole wasm module at the lab size
 * ("memory access out of bounds", even at batch 4), and the report should say so, not die of it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { charVocabulary, joinTunes, splitTunes, vectorize } from '../src/music/abc/corpus.ts';
import { selectBackend } from '../src/train/backend.ts';
import { ORT_TRAINER_DEFAULTS } from '../src/train/ortTrainer.ts';
import { trainLm, type TrainerName } from '../src/train/trainer.ts';
import { report } from './stats.ts';

const SIZES = [
  { name: 'default', embedding: 64, units: 256, batches: { ort: 8, tfjs: 3 } },
  { name: 'lab', embedding: 256, units: 1024, batches: { ort: 4, tfjs: 1 } },
] as const;

/** Trains `batches` random batches of 32 × 100 characters and prints tokens/s (the child's work). */
async function measure(
  trainer: TrainerName,
  embedding: number,
  units: number,
  batches: number,
): Promise<number> {
  await selectBackend();
  const tunes = splitTunes(readFileSync('data/irish.abc', 'utf8'));
  const vocab = charVocabulary(tunes.map((t) => `${t}\n\n`));
  const ids = vectorize(joinTunes(tunes), vocab).ids;
  const checkpointDir = mkdtempSync(join(tmpdir(), 'improv-bench-'));
  try {
    const r = await trainLm({
      spec: { vocabSize: vocab.length, units, layers: 1, dropout: 0, embedding, seed: 1 },
      train: [ids],
      validation: [],
      sequenceLength: 100,
      batchSize: 32,
      epochs: 1,
      learningRate: 5e-3,
      stride: 100,
      randomBatches: batches,
      contextual: true,
      checkpointDir,
      resume: false,
      progress: false,
      trainer,
    });
    r.model.dispose();
    return r.tokensPerSecond;
  } finally {
    rmSync(checkpointDir, { recursive: true, force: true });
  }
}

/** Runs one measurement in a child process: tokens/s, or why it failed. */
function inChild(trainer: TrainerName, embedding: number, units: number, batches: number): number | string {
  const r = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      'bench/train.ts',
      'child',
      trainer,
      String(embedding),
      String(units),
      String(batches),
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const figure = /^tokens\/s (\S+)$/m.exec(r.stdout)?.[1];
  if (r.status === 0 && figure) return Number(figure);
  const why = `${r.stderr}`.split('\n').find((l) => /Error|Abort/.test(l)) ?? `exit ${r.status}`;
  return why.trim().slice(0, 80);
}

export async function benchTrain(): Promise<string[]> {
  const backend = await selectBackend();
  const lines = [
    `training throughput, char model on data/irish.abc (seq 100, batch 32; tfjs on ${backend.name}, ort on onnxruntime with ${ORT_TRAINER_DEFAULTS.threads} threads)`,
  ];
  for (const size of SIZES) {
    const ort = inChild('ort', size.embedding, size.units, size.batches.ort);
    const tfjs = inChild('tfjs', size.embedding, size.units, size.batches.tfjs);
    const line = (name: string, v: number | string, target?: { value: number; better: 'higher' }): string =>
      typeof v === 'number' ? report(name, v, 'tokens/s', target) : `${name.padEnd(40)} failed: ${v}`;
    lines.push(
      `  ${size.name} size (embedding ${size.embedding}, ${size.units} units)`,
      line(`    tfjs (${backend.name}, ${size.batches.tfjs} batches)`, tfjs),
      line(
        `    ort (${size.batches.ort} batches)`,
        ort,
        size.units === 1024 ? { value: 2500, better: 'higher' } : undefined,
      ),
    );
    if (typeof ort === 'number' && typeof tfjs === 'number')
      lines.push(
        report(
          '    ort / tfjs',
          ort / tfjs,
          '×',
          size.units === 256 ? { value: 20, better: 'higher' } : undefined,
        ),
      );
  }
  return lines;
}

if (process.argv[2] === 'child') {
  const [trainer, embedding, units, batches] = process.argv.slice(3);
  const tps = await measure(trainer as TrainerName, Number(embedding), Number(units), Number(batches));
  process.stdout.write(`tokens/s ${tps}\n`);
}
