/**
 * `npm run bench [-- section …]`: prints figures and their ratio to the targets. Sections:
 * jazz-step, jazz-train, abc-step, abc-train, live-jitter, call-to-note, soak (all by default; soak
 * runs SOAK_MINUTES, 1 by default). Targets are reported, never asserted.
 */
import { cpus } from 'node:os';
import { benchAbcStep, benchAbcTraining } from './abc.ts';
import { benchJazzStep, benchJazzTraining } from './jazz.ts';
import { benchCallToNote, benchJitter } from './live.ts';
import { benchSoak } from './soak.ts';
import { existsSync } from 'node:fs';

const sections: Record<string, () => Promise<string[]>> = {
  'jazz-step': () => benchJazzStep('models/jazz', 20_000),
  'jazz-train': () => benchJazzTraining(3),
  'abc-step': () => benchAbcStep('models/abc', 5_000),
  'abc-train': () => benchAbcTraining(4),
  'live-jitter': () => benchJitter(10, existsSync('models/abc/manifest.json') ? 'models/abc' : null),
  'call-to-note': () => benchCallToNote(50),
  soak: () => benchSoak(Number(process.env.SOAK_MINUTES ?? 1)),
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
