/**
 * A quality report for an ABC model that a lint cannot fool: N tunes are generated with a fixed seed
 * and judged from outside — abc2midi (Debian's abcmidi) converts each one and reports errors and bar
 * warnings; the bars are counted against their own `M:`; the parts, the length, the last note against
 * the key; and how much is copied verbatim from the training text. Targets are those of the product:
 * ≥ 99 % of bars of the right length, ≥ 90 % of tunes with no error and no bar warning, a median of
 * 16–32 bars, no tune whose body is mostly copied.
 */
import { abc2midi, abc2midiAvailable } from '../music/abc/abc2midi.ts';
import { shapeOf } from '../music/abc/shape.ts';
import { readAbc } from '../music/abc/reader.ts';
import { CopyFinder } from '../music/copies.ts';
import type { AbcGeneration } from '../model/tune.ts';

/** A copied run this long is about two bars of a reel: shorter ones are the idiom, not a copy. */
export const COPY_RUN = 24;

export interface AbcQuality {
  readonly tunes: number;
  /** abc2midi's figures, or null where it is not installed. */
  readonly abc2midi: {
    /** Converted with no error. */
    readonly noError: number;
    /** No error, and no warning but "Assuming repeat" (abc2midi's note on a first part without `|:`). */
    readonly clean: number;
    /** No error and no bar-length warning. */
    readonly noBarWarning: number;
    /** Bar-length warnings in all (abc2midi warns again for each repeat). */
    readonly barWarnings: number;
  } | null;
  /** Bars of the right length, counted by the reader against each tune's `M:` (pickups included). */
  readonly barsRight: number;
  readonly barsJudged: number;
  /** Tunes whose every part has 8 or 16 bars. */
  readonly partsOf8or16: number;
  /** Tunes whose last note is the tonic of their `K:`. */
  readonly tonicEndings: number;
  /** Median bars as written (pickups not counted, repeats not played out). */
  readonly medianBars: number;
  /** The longest verbatim run from the training text in any tune's body, in characters. */
  readonly longestCopy: number;
  /** The largest share of a body inside copied runs of COPY_RUN characters or more. */
  readonly mostCopied: number;
  /** Tunes whose body is mostly (> 50 %) inside such runs. */
  readonly mostlyCopied: number;
  /** Share of characters where the mask changed the model's own draw (null: no mask). */
  readonly maskChanged: number | null;
  /** Draws per tune (redraws after the lint). */
  readonly drawsPerTune: number;
}

/** The tune without its header: what a copy of the music would show. */
function bodyOf(text: string): string {
  const lines = text.split('\n');
  const k = lines.findIndex((l) => l.startsWith('K:'));
  return lines.slice(k + 1).join('\n');
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Judges generated tunes; `training` is the text the model learned from (for copies). */
export function judgeTunes(generation: AbcGeneration, training: string | CopyFinder): AbcQuality {
  const tunes = generation.tunes;
  const finder = typeof training === 'string' ? new CopyFinder(training) : training;
  const judge = abc2midiAvailable();
  let noError = 0;
  let clean = 0;
  let noBarWarning = 0;
  let barWarnings = 0;
  let barsRight = 0;
  let barsJudged = 0;
  let partsOf8or16 = 0;
  let tonicEndings = 0;
  let longestCopy = 0;
  let mostCopied = 0;
  let mostlyCopied = 0;
  const lengths: number[] = [];
  for (const tune of tunes) {
    const shape = shapeOf(readAbc(tune.text).events);
    barsRight += shape.barsRight;
    barsJudged += shape.barsJudged;
    lengths.push(shape.bars);
    if (shape.parts.length > 0 && shape.parts.every((n) => n === 8 || n === 16)) partsOf8or16++;
    if (shape.tonicEnding) tonicEndings++;
    const copy = finder.measure(bodyOf(tune.text), COPY_RUN);
    longestCopy = Math.max(longestCopy, copy.longest);
    mostCopied = Math.max(mostCopied, copy.covered);
    if (copy.covered > 0.5) mostlyCopied++;
    if (!judge) continue;
    const r = abc2midi(tune.text);
    const bars = r.warnings.filter((w) => /time units/.test(w)).length;
    barWarnings += bars;
    if (!r.ok) continue;
    noError++;
    if (r.warnings.every((w) => /Assuming repeat/.test(w))) clean++;
    if (bars === 0) noBarWarning++;
  }
  const guided = tunes.filter((t) => t.guide);
  const steps = guided.reduce((n, t) => n + (t.guide?.steps ?? 0), 0);
  return {
    tunes: tunes.length,
    abc2midi: judge ? { noError, clean, noBarWarning, barWarnings } : null,
    barsRight,
    barsJudged,
    partsOf8or16,
    tonicEndings,
    medianBars: median(lengths),
    longestCopy,
    mostCopied,
    mostlyCopied,
    maskChanged: guided.length
      ? guided.reduce((n, t) => n + (t.guide?.changed ?? 0), 0) / Math.max(steps, 1)
      : null,
    drawsPerTune: tunes.reduce((n, t) => n + t.attempts, 0) / Math.max(tunes.length, 1),
  };
}

export interface QualityLine {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly target?:
    | { readonly value: number; readonly better: 'lower' | 'higher' }
    | { readonly low: number; readonly high: number };
}

const share = (n: number, of: number): number => (100 * n) / Math.max(of, 1);

/** The report as lines (figure, unit and target), for the CLI and `npm run eval`. */
export function qualityLines(q: AbcQuality): QualityLine[] {
  const lines: QualityLine[] = [];
  const a = q.abc2midi;
  if (a) {
    lines.push(
      { name: 'abc2midi: no error', value: share(a.noError, q.tunes), unit: '%' },
      {
        name: 'abc2midi: no error, no bar warning',
        value: share(a.noBarWarning, q.tunes),
        unit: '%',
        target: { value: 90, better: 'higher' },
      },
      { name: 'abc2midi: no warning but "Assuming repeat"', value: share(a.clean, q.tunes), unit: '%' },
      { name: 'abc2midi: bar warnings', value: a.barWarnings, unit: 'warnings' },
    );
  }
  lines.push(
    {
      name: 'bars of the right length (own count)',
      value: share(q.barsRight, q.barsJudged),
      unit: '%',
      target: { value: 99, better: 'higher' },
    },
    { name: 'tunes with 8- or 16-bar parts', value: share(q.partsOf8or16, q.tunes), unit: '%' },
    { name: 'tunes ending on the tonic', value: share(q.tonicEndings, q.tunes), unit: '%' },
    {
      name: 'median length (bars as written)',
      value: q.medianBars,
      unit: 'bars',
      target: { low: 16, high: 32 },
    },
    { name: 'longest verbatim copy from training', value: q.longestCopy, unit: 'chars' },
    { name: `largest body share in copies ≥ ${COPY_RUN} chars`, value: 100 * q.mostCopied, unit: '%' },
    {
      name: 'tunes mostly copied (> 50 % of body)',
      value: q.mostlyCopied,
      unit: 'tunes',
      target: { value: 0, better: 'lower' },
    },
  );
  if (q.maskChanged !== null)
    lines.push({ name: "mask changed the model's own draw", value: 100 * q.maskChanged, unit: '% of chars' });
  lines.push({ name: 'draws per tune', value: q.drawsPerTune, unit: 'draws' });
  return lines;
}

/** One line of a report: the figure and, where a target exists, met or missed. */
export function formatLine(l: QualityLine): string {
  const figure = `${l.value.toFixed(l.value >= 100 || Number.isInteger(l.value) ? 0 : 2)} ${l.unit}`;
  if (!l.target) return `  ${l.name.padEnd(44)} ${figure}`;
  const t = l.target;
  const [ok, goal] =
    'low' in t
      ? [l.value >= t.low && l.value <= t.high, `${t.low}–${t.high}`]
      : [
          t.better === 'lower' ? l.value <= t.value : l.value >= t.value,
          `${t.better === 'lower' ? '≤' : '≥'} ${t.value}`,
        ];
  return `  ${l.name.padEnd(44)} ${figure.padEnd(14)} target ${goal} ${l.unit}  ${ok ? 'met' : 'MISSED'}`;
}
