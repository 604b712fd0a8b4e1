/** Percentiles and printing for the benchmark harness. */
export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  readonly n: number;
}

export function percentiles(samples: readonly number[]): Percentiles {
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

/** One result line: name, figure, unit, and (where a target exists) figure / target. */
export function report(
  name: string,
  value: number,
  unit: string,
  target?: { value: number; better: 'lower' | 'higher' },
): string {
  const figure = `${value.toFixed(value >= 100 ? 0 : 2)} ${unit}`;
  if (!target) return `${name.padEnd(40)} ${figure}`;
  const ratio = value / target.value;
  const ok = target.better === 'lower' ? ratio <= 1 : ratio >= 1;
  return `${name.padEnd(40)} ${figure.padEnd(16)} target ${target.better === 'lower' ? '≤' : '≥'} ${target.value} ${unit}  ratio ${ratio.toFixed(2)} ${ok ? 'met' : 'MISSED'}`;
}
