/** Percentiles and printing for the benchmark harness. */
export { percentiles, type Percentiles } from '../src/live/stats.ts';

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
