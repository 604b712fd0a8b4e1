/**
 * `npm run bench [-- section …]`: prints figures and their ratio to the targets. Sections:
 * jazz-step, jazz-train, abc-step, train, live-jitter, call-to-note, smf-write, clock-follow, link-phase,
 * startup, soak (all by default; soak runs SOAK_MINUTES, 1 by default). Targets are reported, never asserted.
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';

/**
 * glibc reads MALLOC_ARENA_MAX once, when a process starts, so a process cannot give it to itself: the
 * soak runs this script again in a child with the value examples/improv.service gives the daemon, and
 * measures what the stage box runs. A value already set is kept (MALLOC_ARENA_MAX=0: glibc's default).
 */
async function soakAsDeployed(): Promise<string[]> {
  const unit = readFileSync('examples/improv.service', 'utf8');
  const arenas = /^Environment=MALLOC_ARENA_MAX=(\d+)$/m.exec(unit)?.[1];
  if (process.env.MALLOC_ARENA_MAX !== undefined || arenas === undefined) {
    return (await import('./soak.ts')).benchSoak(Number(process.env.SOAK_MINUTES ?? 1));
  }
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] as string, 'soak'], {
    env: { ...process.env, MALLOC_ARENA_MAX: arenas },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`bench: the soak's child process exited with ${code}`);
  return out.trimEnd().split('\n').slice(1); // its own header line is this process's
}

// Sections are imported when they run, so the live ones (soak above all, which reports RSS) run in a
// process without the trainer's TensorFlow.js loaded, as the daemon does.
const sections: Record<string, () => Promise<string[]>> = {
  'jazz-step': async () => {
    const { benchJazzStep } = await import('./jazz.ts');
    return [...(await benchJazzStep('models/jazz', 20_000)), ...(await benchJazzStep('models/folk', 20_000))];
  },
  'jazz-train': async () => (await import('./jazz.ts')).benchJazzTraining(3),
  'abc-step': async () =>
    (await import('./abc.ts')).benchAbcStep(process.env.ABC_MODEL ?? 'models/abc', 5_000),
  train: async () => (await import('./train.ts')).benchTrain(),
  'live-jitter': async () =>
    (await import('./live.ts')).benchJitter(10, existsSync('models/abc/manifest.json') ? 'models/abc' : null),
  'call-to-note': async () => (await import('./live.ts')).benchCallToNote(50),
  'smf-write': async () => (await import('./smf.ts')).benchSmf(),
  'clock-follow': async () => (await import('./clockFollow.ts')).benchClockFollow(),
  'link-phase': async () => (await import('./linkPhase.ts')).benchLinkPhase(),
  startup: async () => (await import('./startup.ts')).benchStartup(5),
  soak: soakAsDeployed,
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
