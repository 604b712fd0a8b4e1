/** Shared test fixtures: tiny trained bundles and synthetic MIDI files. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { readMidiTimeline } from '../src/midi/filePorts.ts';
import { encodeSmf, writeSmf, type SmfNote, type SmfPart } from '../src/music/smfWriter.ts';
import { selectBackend } from '../src/train/backend.ts';
import { trainJazz } from '../src/train/jazz.ts';
import { tempDir } from './tempDirs.ts';

export const METHENY = 'data/original_metheny.mid';

export { tempDir };

let tinyJazz: Promise<string> | null = null;

/** A tiny jazz bundle (8 units, 3 epochs, faithful corpus), trained once per test file. */
export function tinyJazzBundle(): Promise<string> {
  tinyJazz ??= (async () => {
    await selectBackend('cpu');
    const out = join(tempDir('tiny-jazz'), 'bundle');
    await trainJazz({
      data: [METHENY],
      out,
      profile: 'faithful',
      units: 8,
      layers: 1,
      dropout: 0,
      epochs: 3,
      learningRate: 0.01,
      batchSize: 16,
      sequenceLength: 12,
      stride: 4,
      validation: 0,
      seed: 1,
      backend: 'cpu',
      resume: false,
      progress: false,
      log: () => undefined,
    });
    return out;
  })();
  return tinyJazz;
}

/** A melody line (top) over a chord track, on arbitrary track numbers: the shape any lead sheet MIDI has. */
export function songParts(bars: number): { melody: SmfPart; chords: SmfPart; bass: SmfPart } {
  const prog = [
    [50, 53, 57, 60],
    [55, 59, 62, 65],
    [48, 52, 55, 59],
    [48, 52, 55, 59],
  ];
  const line = [74, 72, 69, 71, 72, 74, 76, 77, 79, 77, 76, 74];
  const melody: SmfPart['notes'][number][] = [];
  const chords: SmfPart['notes'][number][] = [];
  const bass: SmfPart['notes'][number][] = [];
  for (let b = 0; b < bars; b++) {
    const chord = prog[b % prog.length] as number[];
    for (const p of chord) chords.push({ start: b * 4, dur: 3.5, midi: p, velocity: 60 });
    bass.push({ start: b * 4, dur: 2, midi: (chord[0] as number) - 12, velocity: 70 });
    for (let i = 0; i < 6; i++) {
      melody.push({
        start: b * 4 + i * 0.5 + (i > 3 ? 0.5 : 0),
        dur: i === 5 ? 0.75 : 0.4,
        midi: line[(b * 6 + i) % line.length] as number,
        velocity: 90,
      });
    }
  }
  return {
    melody: { name: 'Lead', channel: 3, program: 65, notes: melody },
    chords: { name: 'Keys', channel: 1, program: 4, notes: chords },
    bass: { name: 'Bass', channel: 2, program: 32, notes: bass },
  };
}

export function smfBytes(parts: SmfPart[]): Uint8Array {
  return encodeSmf({ bpm: 120, meter: { numerator: 4, denominator: 4 }, title: 'test', parts });
}

let tinyAbc: Promise<string> | null = null;

/** A tiny char bundle (16 units, a few batches) trained on the first 60 tunes of the corpus, once per test file. */
export function tinyAbcBundle(): Promise<string> {
  tinyAbc ??= (async () => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const { splitTunes, joinTunes } = await import('../src/music/abc/corpus.ts');
    const { trainAbc } = await import('../src/train/abc.ts');
    await selectBackend('cpu');
    const dir = tempDir('tiny-abc');
    const data = join(dir, 'tunes.abc');
    writeFileSync(data, joinTunes(splitTunes(readFileSync('data/irish.abc', 'utf8')).slice(0, 60)));
    const out = join(dir, 'bundle');
    await trainAbc({
      data: [data],
      out,
      embedding: 8,
      units: 16,
      layers: 1,
      dropout: 0,
      epochs: 2,
      batchesPerEpoch: 4,
      learningRate: 0.01,
      batchSize: 8,
      sequenceLength: 40,
      validation: 0.05,
      seed: 1,
      backend: 'cpu',
      resume: false,
      progress: false,
      log: () => undefined,
    });
    return out;
  })();
  return tinyAbc;
}

/** A real daemon child (`improv daemon --foreground`), resolved once it has logged "started", with its log so far. */
export async function spawnDaemon(
  config: string,
): Promise<{ child: ChildProcess; log: () => string; port: number }> {
  // node itself, through the real entry point: a signal (SIGKILL above all) reaches the daemon, not
  // a wrapper that would leave it running as an orphan
  const child = spawn(process.execPath, ['bin/improv.js', 'daemon', '--config', config, '--foreground'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (stderr.includes('"started"')) {
        clearInterval(t);
        resolve();
      }
    }, 50);
    setTimeout(() => reject(new Error(`daemon did not start: ${stderr}`)), 30_000);
  });
  const port = Number(/"http":"[^"]*:(\d+)"/.exec(stderr)?.[1] ?? 0);
  return { child, log: () => stderr, port };
}

/** Note-ons in a recorded MIDI file still waiting for their note-off. */
export const pairsHanging = (file: string): number => {
  const open = new Map<string, number>();
  for (const { bytes } of readMidiTimeline(file)) {
    const [status = 0, note = 0, vel = 0] = bytes;
    const key = `${status & 0x0f}:${note}`;
    if ((status & 0xf0) === 0x90 && vel > 0) open.set(key, (open.get(key) ?? 0) + 1);
    if ((status & 0xf0) === 0x80 || ((status & 0xf0) === 0x90 && vel === 0))
      open.set(key, Math.max(0, (open.get(key) ?? 0) - 1));
  }
  return [...open.values()].reduce((a, b) => a + b, 0);
};

/** `improv train jazz` on the Metheny file's 18 faithful bars with a tiny model: the arguments. */
export const tinyTrainArgs = (out: string, units: number, epochs: number): string[] => [
  'train',
  'jazz',
  '--data',
  METHENY,
  '--out',
  out,
  '--profile',
  'faithful',
  '--units',
  String(units),
  '--epochs',
  String(epochs),
  '--no-progress',
];

/** Writes what a player played as a MIDI file (one "Keys" part, channel 1): a call for the live tests. */
export function writePhrase(file: string, bpm: number, notes: SmfNote[]): void {
  writeSmf(file, {
    bpm,
    meter: { numerator: 4, denominator: 4 },
    title: 'phrase',
    parts: [{ name: 'Keys', channel: 0, program: 0, notes }],
  });
}
