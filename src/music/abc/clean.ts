/**
 * One house style for ABC tunes from many collections, so that one char model can learn from all of
 * them without learning each transcriber's habits: what a tune's music is stays, everything else goes.
 *
 * - The header becomes `X:n`, `R:kind` (where the source says it), `M:`, `L:` (always written, ABC's
 *   default from the meter where the source left it out) and `K:` in irish.abc's spelling (`G Major`,
 *   `A Dorian`); titles, sources, transcribers' notes, tempi, parts and play orders go (a title is text,
 *   not music, and a model that learns titles spends its characters on them).
 * - Field lines before the first music line are the header whatever their order (the Nottingham files
 *   write `M:` after `K:`); inside the body `K:`, `M:` and `L:` stay, other fields go.
 * - Chord symbols (Ryan's fingerings are written the same way), decorations (`!trill!`, `~`, `.`, `+…+`),
 *   grace notes, beaming marks and comments go; `!` at a line's end (irish.abc's line break) goes too.
 * - A tune is kept only if the project's own reader reads it with no malformed token and every bar it
 *   judges has the right length: a model learns bar lengths from what it is shown.
 *
 * Hand-written because no library normalises ABC for learning: abcjs and abc2midi read it, and
 * folk-rnn's cleaning is Python on one collection.
 */
import { defaultUnit, modeOf, parseMeter } from './key.ts';
import { readAbc } from './reader.ts';
import { shapeOf } from './shape.ts';

export interface CleanOptions {
  /** The tune kind for `R:` when the tune does not say (a file of jigs); null: none. */
  readonly kind?: string | null;
  /** Keep chord symbols in the body (off: they go with the fingerings). */
  readonly chords?: boolean;
}

/** Why a tune was left out, for the preparation's report. */
export type Rejection = 'no key' | 'no meter' | 'unreadable' | 'wrong bars' | 'too short';

export interface Cleaned {
  readonly tune: string | null;
  readonly rejected: Rejection | null;
}

/** `Gm`, `Ador`, `D mix`, `G Major` → irish.abc's `G Minor`, `A Dorian`, `D Mixolydian`, `G Major`; null if not a key. */
export function keyName(value: string): string | null {
  const m = /^([A-G])([#b]?)\s*([A-Za-z]*)/.exec(value.trim());
  if (!m) return null;
  const mode = modeOf(m[3] ?? '');
  if (mode === undefined) return null;
  // tonal's names, as irish.abc writes them: ionian is Major, aeolian Minor
  const name =
    mode === 'ionian' ? 'Major' : mode === 'aeolian' ? 'Minor' : mode[0]?.toUpperCase() + mode.slice(1);
  return `${m[1]}${m[2]} ${name}`;
}

const FIELD = /^([A-Za-z]):\s*(.*)$/;
const KEPT_BODY_FIELDS = new Set(['K', 'M', 'L']);

/** A tune kind as one lower-case word or phrase (`R: REEL` → `reel`); null when empty. */
export function kindName(value: string): string | null {
  const v = value.trim().toLowerCase().replace(/\s+/g, ' ');
  return /^[a-z][a-z ]*$/.test(v) ? v : null;
}

const IRISH_KINDS: Record<string, string> = { slipjig: 'slip jig', setdance: 'set dance' };

/** irish.abc names a tune's kind in its id (`Z: id:dc-hornpipe-1`); a miscellany is no kind. */
function irishKind(z: string): string | null {
  const m = /id:dc-([a-z]+)-\d/.exec(z);
  if (!m || m[1] === 'miscellaneous') return null;
  return IRISH_KINDS[m[1] as string] ?? (m[1] as string);
}

/** The body line without what the house style drops. */
function cleanMusicLine(line: string, chords: boolean): string {
  let s = line.replace(/%.*$/, '');
  if (!chords) s = s.replace(/"[^"]*"/g, '');
  s = s
    .replace(/![^!\n]*!/g, '')
    .replace(/\+[^+\n]*\+/g, '')
    .replace(/\{[^}\n]*\}/g, '')
    .replace(/[~.`$*]/g, '')
    .replace(/!/g, '')
    .replace(/\\\s*$/, '')
    .replace(/[ \t]+/g, ' ')
    .trim();
  return s;
}

/** Cleans one tune (its text from `X:` on); `number` becomes its `X:`. */
export function cleanTune(text: string, number: number, opts: CleanOptions = {}): Cleaned {
  const reject = (why: Rejection): Cleaned => ({ tune: null, rejected: why });
  const header = new Map<string, string>();
  const body: string[] = [];
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('%')) continue;
    const field = FIELD.exec(line);
    if (field && !/^[|:[]/.test(line)) {
      const [, name, value] = field as unknown as [string, string, string];
      if (body.length === 0) {
        if (!header.has(name) || name === 'M' || name === 'K' || name === 'L') header.set(name, value.trim());
      } else if (KEPT_BODY_FIELDS.has(name)) {
        const v = name === 'K' ? keyName(value) : value.trim().split(/\s+/)[0];
        if (v) body.push(`${name}:${v}`);
      }
      continue;
    }
    if (header.size === 0) continue; // before the X: line
    const music = cleanMusicLine(line, opts.chords ?? false);
    if (music !== '') body.push(music);
  }
  const key = keyName(header.get('K') ?? '');
  if (!key) return reject('no key');
  const meter = (header.get('M') ?? '').split(/\s+/)[0] ?? '';
  const parsed = /^(C\|?|\d+\/\d+)$/.test(meter) ? parseMeter(meter) : null;
  if (!parsed) return reject('no meter');
  const unit = (header.get('L') ?? '').split(/\s+/)[0] || (defaultUnit(parsed) === 0.25 ? '1/16' : '1/8');
  const kind = kindName(header.get('R') ?? '') ?? irishKind(header.get('Z') ?? '') ?? opts.kind ?? null;
  const lines = [
    `X:${number}`,
    ...(kind ? [`R:${kind}`] : []),
    `M:${meter}`,
    `L:${unit}`,
    `K:${key}`,
    ...body,
  ];
  const tune = lines.join('\n');
  const read = readAbc(tune);
  if (read.stats.skippedTokens > 0 || read.stats.tunes !== 1) return reject('unreadable');
  const shape = shapeOf(read.events);
  if (shape.barsRight < shape.barsJudged) return reject('wrong bars');
  if (shape.barsJudged < 4) return reject('too short');
  return { tune, rejected: null };
}
