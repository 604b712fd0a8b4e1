/**
 * `npm run bench [-- section …]`: prints figures and their ratio to the targets. Sections:
 * jazz-train, jazz-step (all by default). Targets are reported, never asserted.
 */
import { cpus } from 'node:os';
import { benchJazzStep, benchJazzTraining } from './jazz.ts';

const sections: Record<string, () => Promise<string[]>> = {
  'jazz-step': () => benchJazzStep('models/jazz', 20_000),
  'jazz-train': () => benchJazzTraining(3),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in sections));
if (unknown.length) {
  process.stderr.write(
    `bench: unknown section ${unknown.join(', ')}; known: ${Object.keys(sections).join(', ')}\n`,
  );
  process.exit(2);
}
process.stdout.write(
  `improv bench on ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, node ${process.version}\n`,
);
for (const name of wanted.length ? wanted : Object.keys(sections)) {
  const lines = await (sections[name] as () => Promise<string[]>)();
  process.stdout.write(`${lines.join('\n')}\n`);
}
