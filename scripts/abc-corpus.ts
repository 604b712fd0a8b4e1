/**
 * `npm run data:abc`: the char model's corpus in one house style (music/abc/clean.ts), written to
 * data/abc-folk/ from the raw collections in data/ (see data/SOURCES.md): one file per collection, so
 * each keeps its own licence, and a report of what was kept and why the rest was left out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanTune, type Rejection } from '../src/music/abc/clean.ts';
import { splitTunes } from '../src/music/abc/corpus.ts';
import { writeFileAtomicSync } from '../src/music/files.ts';

const OUT = 'data/abc-folk';

/** The Nottingham files say a tune's kind by their name. */
const nottinghamKind = (file: string): string | null =>
  file === 'jigs.abc' ? 'jig' : file.startsWith('reels') ? 'reel' : file === 'slip.abc' ? 'slip jig' : null;

const collections: { out: string; sources: { file: string; kind: string | null }[] }[] = [
  { out: 'irish.abc', sources: [{ file: 'data/irish.abc', kind: null }] },
  {
    out: 'nottingham.abc',
    sources: readdirSync('data/nottingham')
      .filter((f) => f.endsWith('.abc'))
      .sort()
      .map((f) => ({ file: join('data/nottingham', f), kind: nottinghamKind(f) })),
  },
  { out: 'oneills.abc', sources: [{ file: 'data/music21-folk/oneills1850.abc', kind: null }] },
  { out: 'ryans.abc', sources: [{ file: 'data/music21-folk/ryans-mammoth.abc', kind: null }] },
  { out: 'airds.abc', sources: [{ file: 'data/music21-folk/airds-airs.abc', kind: null }] },
];

for (const c of collections) {
  const kept: string[] = [];
  const left: Partial<Record<Rejection, number>> = {};
  let read = 0;
  for (const s of c.sources)
    for (const tune of splitTunes(readFileSync(s.file, 'utf8'))) {
      read++;
      const r = cleanTune(tune, kept.length + 1, { kind: s.kind });
      if (r.tune) kept.push(r.tune);
      else if (r.rejected) left[r.rejected] = (left[r.rejected] ?? 0) + 1;
    }
  writeFileAtomicSync(join(OUT, c.out), kept.map((t) => `${t}\n\n`).join(''));
  const why = Object.entries(left)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  console.log(`${join(OUT, c.out)}: ${kept.length} of ${read} tunes${why ? ` (left out: ${why})` : ''}`);
}
