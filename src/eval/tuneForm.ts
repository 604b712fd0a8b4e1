/**
 * Whether tunes say things twice and end at home, measured the same way on generated tunes and on the
 * corpus they learnt from (a figure means little without the corpus's own beside it):
 * - bars that recur within their tune: a bar's text (chord symbols, decorations and spaces removed)
 *   equal to another bar's of the same tune;
 * - tunes with at least one recurring bar;
 * - notes shorter than an eighth that are not tuplet notes, in tunes written with `L:1/8`, by meter
 *   (the mask's 16th-note filler shows here);
 * - tunes whose last note is the tonic of `K:`.
 */
import { readAbc } from '../music/abc/reader.ts';
import { shapeOf } from '../music/abc/shape.ts';
import { isShortNote, meterText } from '../music/abc/shortNotes.ts';

export interface ShortCount {
  readonly short: number;
  readonly notes: number;
  /** Tunes in the meter, and each one's counts (what the share's spread between tunes is read from). */
  readonly tunes: number;
  readonly perTune: readonly (readonly [short: number, notes: number])[];
}

export interface FormFigures {
  readonly tunes: number;
  readonly bars: number;
  readonly recurringBars: number;
  readonly tunesWithRecurring: number;
  /** Per meter as written in `M:` (L:1/8 tunes only): short non-tuplet notes, and all notes. */
  readonly shortNotes: Readonly<Record<string, ShortCount>>;
  readonly tonicEndings: number;
  /** Tunes with a key and a last note, so that the ending could be judged. */
  readonly endingsJudged: number;
}

/** A tune's bars as text: its body (after K:) without chord symbols, decorations, spaces and endings. */
export function barTexts(tune: string): string[] {
  const lines = tune.split('\n');
  const k = lines.findIndex((l) => /^K:/.test(l));
  const body = lines
    .slice(k + 1)
    .filter((l) => !/^[A-Za-z]:/.test(l))
    .join('|');
  return body
    .replace(/"[^"]*"/g, '')
    .replace(/![^!|]*!/g, '')
    .replace(/[\s!]/g, '')
    .replace(/\[\d|\|\d|:?\|\]?|\[\||::|:/g, '|')
    .split('|')
    .filter((b) => /[A-Ga-gz]/.test(b));
}

export function formFigures(tunes: readonly string[]): FormFigures {
  let bars = 0;
  let recurringBars = 0;
  let tunesWithRecurring = 0;
  let tonicEndings = 0;
  let endingsJudged = 0;
  const shortNotes: Record<
    string,
    { short: number; notes: number; tunes: number; perTune: [number, number][] }
  > = {};
  for (const tune of tunes) {
    const texts = barTexts(tune);
    const count = new Map<string, number>();
    for (const b of texts) count.set(b, (count.get(b) ?? 0) + 1);
    const recurring = texts.filter((b) => (count.get(b) ?? 0) > 1).length;
    bars += texts.length;
    recurringBars += recurring;
    if (recurring > 0) tunesWithRecurring++;
    const { events } = readAbc(tune);
    const shape = shapeOf(events);
    if (shape.tonicEnding !== null) {
      endingsJudged++;
      if (shape.tonicEnding) tonicEndings++;
    }
    let meter = '';
    let unit = '';
    let own: [number, number] | null = null;
    for (const e of events) {
      if (e.type === 'header' && e.field === 'M' && !meter) meter = meterText(e.value);
      if (e.type === 'header' && e.field === 'L' && !unit) unit = e.value.split(/\s+/)[0] ?? '';
      if (e.type !== 'note' || unit !== '1/8') continue;
      const m = (shortNotes[meter] ??= { short: 0, notes: 0, tunes: 0, perTune: [] });
      if (!own) {
        own = [0, 0];
        m.tunes++;
        m.perTune.push(own);
      }
      m.notes++;
      own[1]++;
      if (isShortNote(e.dur)) {
        m.short++;
        own[0]++;
      }
    }
  }
  return {
    tunes: tunes.length,
    bars,
    recurringBars,
    tunesWithRecurring,
    shortNotes,
    tonicEndings,
    endingsJudged,
  };
}

const pct = (n: number, of: number): string => (of > 0 ? `${((100 * n) / of).toFixed(1)} %` : '-');

/**
 * The standard error of a meter's share, in points, from its spread between tunes (tunes, not notes,
 * are what is drawn: a tune's notes go short or long together).
 */
export function shareError(m: ShortCount): number {
  if (m.tunes < 2 || m.notes === 0) return Infinity;
  const share = m.short / m.notes;
  const spread = m.perTune.reduce((a, [s, n]) => a + (s - share * n) ** 2, 0);
  return (100 * Math.sqrt((spread * m.tunes) / (m.tunes - 1))) / m.notes;
}

/** All meters' short notes together. */
function allShort(f: FormFigures): ShortCount {
  const all = Object.values(f.shortNotes);
  return {
    short: all.reduce((a, m) => a + m.short, 0),
    notes: all.reduce((a, m) => a + m.notes, 0),
    tunes: all.reduce((a, m) => a + m.tunes, 0),
    perTune: all.flatMap((m) => m.perTune),
  };
}

/** A generated share with its standard error between tunes. */
const shareText = (m: ShortCount): string => {
  const e = shareError(m);
  return `${pct(m.short, m.notes)}${Number.isFinite(e) ? ` ±${e.toFixed(1)}` : ''}`;
};

/**
 * The figures of generated tunes beside the corpus's, one line each; meters are those with at least
 * `minNotes` notes among the generated tunes.
 */
export function formLines(generated: FormFigures, corpus: FormFigures, minNotes = 50): string[] {
  const row = (name: string, g: string, c: string): string =>
    `  ${name.padEnd(52)} ${g.padEnd(14)} corpus ${c}`;
  const gs = allShort(generated);
  const cs = allShort(corpus);
  const lines = [
    row(
      'bars that recur within their tune',
      pct(generated.recurringBars, generated.bars),
      pct(corpus.recurringBars, corpus.bars),
    ),
    row(
      'tunes with a recurring bar',
      pct(generated.tunesWithRecurring, generated.tunes),
      pct(corpus.tunesWithRecurring, corpus.tunes),
    ),
    row(`short non-tuplet notes (L:1/8 tunes; ${gs.tunes} tunes)`, shareText(gs), pct(cs.short, cs.notes)),
  ];
  for (const [meter, m] of Object.entries(generated.shortNotes).sort((a, b) => b[1].notes - a[1].notes)) {
    if (m.notes < minNotes) continue;
    const c = corpus.shortNotes[meter];
    lines.push(row(`  in M:${meter} (${m.tunes} tunes)`, shareText(m), c ? pct(c.short, c.notes) : '-'));
  }
  lines.push(
    row(
      'tunes ending on the tonic of K:',
      pct(generated.tonicEndings, generated.endingsJudged),
      pct(corpus.tonicEndings, corpus.endingsJudged),
    ),
  );
  return lines;
}
