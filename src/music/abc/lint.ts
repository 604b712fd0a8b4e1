/**
 * Checks a whole tune before it is kept: the streaming reader must skip nothing, every bar must add up
 * to the meter (pickups and closing bars allowed), abcjs (a maintained parser) must have no warnings,
 * and two structural rules that ABC players rely on must hold:
 * a first ending follows an open repeat (after a `:|`, a new `|:` comes before the next `[1`), and
 * lower-case notes take `'`, never `,`, for octaves.
 */
import { readAbc } from './reader.ts';
import { shapeOf } from './shape.ts';
import { checkWithAbcjs } from './validate.ts';

export function lintTune(text: string): string[] {
  const problems: string[] = [];
  const { events, stats } = readAbc(text);
  if (stats.skippedTokens > 0) problems.push(`${stats.skippedTokens} malformed token(s)`);
  let closed = false; // a repeat has ended and no new one has started
  let ending = 0; // the ending open now (0: none)
  let sawFirst = false; // a first ending in this section
  for (const e of events) {
    if (e.type !== 'bar') continue;
    if (e.ending === 1) {
      if (closed) problems.push('a first ending without an open repeat');
      sawFirst = true;
    } else if (e.ending !== null && !sawFirst) problems.push('a second ending without a first');
    if (e.repeatEnd && ending >= 2) problems.push('a repeat sign inside a second ending');
    if (e.ending !== null) ending = e.ending;
    else if (e.repeatEnd || e.repeatStart || /\|\]|\|\|/.test(e.text)) {
      if (ending >= 2 || (e.repeatEnd && ending === 0)) sawFirst = false;
      if (!(e.repeatEnd && ending === 1)) ending = 0;
    }
    if (e.repeatStart) closed = false;
    else if (e.repeatEnd && ending === 0) closed = true;
  }
  if (stats.danglingTies > 0) problems.push(`${stats.danglingTies} tie(s) to a different note`);
  const shape = shapeOf(events);
  const wrong = shape.barsJudged - shape.barsRight;
  if (wrong > 0) problems.push(`${wrong} bar(s) of the wrong length for the meter`);
  if (stats.notes === 0) problems.push('no notes');
  const body = text
    .split('\n')
    .filter((l) => !/^[A-Za-z]:/.test(l))
    .join('\n')
    .replace(/"[^"\n]*"|![^!\n]*!/g, '');
  if (/[a-g],/.test(body)) problems.push("a lower-case note with a ',' octave mark");
  problems.push(...checkWithAbcjs(text).warnings.map((w) => `abcjs: ${w}`));
  return [...new Set(problems)];
}
