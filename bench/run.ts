/**
 * `npm run bench [-- section …]`: prints figures and their ratio to the targets. Sections:
 * jazz-step, jazz-train, abc-step, abc-train, live-jitter, call-to-note, soak (all by default; soak
 * runs SOAK_MINUTES, 1 by default). Targets are reported, never asserted.
 */
import { cpus } from 'node:os';
import { existsSync } from 'node:fs';

// Sections are imported when they run, so the live ones (soak above all, which reports RSS) run in a
// process without the trainer's TensorFlow.js loaded, as the daemon does.
const sections: Record<string, () => Promise<string[]>> = {
  'jazz-step': async () => (await import('./jazz.ts')).benchJazzStep('models/jazz', 20_000),
  'jazz-train': async () => (await import('./jazz.ts')).benchJazzTraining(3),
  'abc-step': async () => (await import('./abc.ts')).benchAbcStep('models/abc', 5_000),
  'abc-train': async () => (await import('./abc.ts')).benchAbcTraining(4),
  'live-jitter': async () =>
    (await import('./live.ts')).benchJitter(10, existsSync('models/abc/manifest.json') ? 'models/abc' : null),
  'call-to-note': async () => (await import('./live.ts')).benchCallToNote(50),
  soak: async () => (await import('./soak.ts')).benchSoak(Number(process.env.SOAK_MINUTES ?? 1)),
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
