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

/**
 * The last `capacity` samples in a fixed ring, for figures over recent sends: pushing allocates
 * nothing, so a performance that runs all night keeps a flat heap.
 */
export class RecentSamples {
  private readonly ring: Float64Array;
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.ring = new Float64Array(capacity);
  }

  push(x: number): void {
    this.ring[this.next] = x;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  get length(): number {
    return this.count;
  }

  /** The samples, oldest first. */
  values(): number[] {
    const start = this.count < this.capacity ? 0 : this.next;
    return Array.from({ length: this.count }, (_, i) => this.ring[(start + i) % this.capacity] as number);
  }
}
