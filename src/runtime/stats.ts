/** Percentiles of a sample (latencies, jitter). */
export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  readonly n: number;
}

export function percentiles(samples: readonly number[]): Percentiles {
  if (samples.length === 0) return { p50: NaN, p99: NaN, max: NaN, mean: NaN, n: 0 };
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  return {
    p50: at(0.5),
    p99: at(0.99),
    max: s[s.length - 1] as number,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    n: s.length,
  };
}
