/**
 * Link peers in processes of their own (tests/link/peer.cjs), and the figures that compare our
 * engine's beat with theirs. Times cross processes on the machine's monotonic clock: a peer stamps
 * its samples with process.hrtime, and we turn that into this process's performance.now().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Whether abletonlink-addon loads here. */
export function linkAvailable(): boolean {
  try {
    createRequire(import.meta.url)('abletonlink-addon');
    return true;
  } catch {
    return false;
  }
}

export interface PeerSample {
  /** When the beat was read, on this process's performance.now() clock. */
  readonly at: number;
  readonly beat: number;
  readonly tempo: number;
  readonly playing: boolean;
  readonly peers: number;
}

/** performance.now() minus the monotonic clock, read back to back (both count from the same ticks). */
const perfOffset = (): number => performance.now() - Number(process.hrtime.bigint()) / 1e6;

export class LinkPeer {
  private readonly waiting: ((line: string) => void)[] = [];
  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.waiting.shift()?.(line));
  }

  static async start(): Promise<LinkPeer> {
    const child = spawn(process.execPath, [fileURLToPath(new URL('peer.cjs', import.meta.url))], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const peer = new LinkPeer(child);
    await peer.next(); // {"ready":true}
    return peer;
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Link peer: no answer in 5 s')), 5000);
      this.waiting.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      });
    });
  }

  async command(line: 'play' | 'stop' | `tempo ${number}`): Promise<void> {
    const answer = this.next();
    this.child.stdin!.write(`${line}\n`);
    await answer;
  }

  async sample(): Promise<PeerSample> {
    const answer = this.next();
    this.child.stdin!.write('sample\n');
    const s = (await answer) as unknown as PeerSample;
    return { ...s, at: s.at + perfOffset() };
  }

  /** Leaves the session and exits. */
  quit(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.stdin!.write('quit\n');
    });
  }
}

/** The peer's beat at a time of ours, from one of its samples (its timeline is linear between tempo changes). */
export const beatAt = (s: PeerSample, at: number): number => s.beat + ((at - s.at) * s.tempo) / 60_000;

/** How far apart two beats are within the bar (`quantum` beats), in ms at `tempo`: the phase error. */
export function phaseMs(ours: number, theirs: number, quantum: number, tempo: number): number {
  let d = (ours - theirs) % quantum;
  if (d > quantum / 2) d -= quantum;
  if (d < -quantum / 2) d += quantum;
  return (d * 60_000) / tempo;
}

/** How far a time falls from the nearest point of the peer's grid (`division` per beat), in ms. */
export function gridMs(s: PeerSample, at: number, division: number): number {
  const pos = beatAt(s, at) * division;
  return ((pos - Math.round(pos)) / division) * (60_000 / s.tempo);
}
