/**
 * Writing a long solo: the project's SMF encoder against midi-file's writer on the same events, at two
 * sizes. A linear writer takes about 4× as long for 4× the notes; midi-file's copies its whole track at
 * every multi-byte delta (quadratic: 4,000 bars of generate took 58 s).
 */
import { performance } from 'node:perf_hooks';
import { parseMidi, writeMidi } from 'midi-file';
import { encodeSmf, type SmfDocument } from '../src/music/smfWriter.ts';

const doc = (notes: number): SmfDocument => ({
  bpm: 120,
  meter: { numerator: 4, denominator: 4 },
  title: 'bench',
  parts: [
    {
      name: 'Solo',
      channel: 0,
      program: 26,
      notes: Array.from({ length: notes }, (_, i) => ({
        start: i * 0.5,
        dur: 0.5 + (i % 3),
        midi: 50 + (i % 30),
        velocity: 90,
      })),
    },
  ],
});

const time = (fn: () => unknown): number => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};

export function benchSmf(): string[] {
  const small = 2_000;
  const large = 8_000;
  encodeSmf(doc(small)); // warm up the JIT
  const ours = [small, large].map((n) => time(() => encodeSmf(doc(n))));
  // midi-file writes the same events (parsed back from ours)
  const data = [small, large].map((n) => parseMidi(encodeSmf(doc(n))));
  const theirs = data.map((d) => time(() => writeMidi(d)));
  const [o1 = 0, o2 = 0] = ours;
  const [t1 = 0, t2 = 0] = theirs;
  return [
    `smf-write: ${small} / ${large} notes (4× more): smfBytes ${o1.toFixed(1)} / ${o2.toFixed(1)} ms (×${(o2 / o1).toFixed(1)}); ` +
      `midi-file's writeMidi ${t1.toFixed(1)} / ${t2.toFixed(1)} ms (×${(t2 / t1).toFixed(1)}); target: ×≈4 (linear)`,
  ];
}
