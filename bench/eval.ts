/**
 * `npm run eval`: quality of the shipped ABC model, not a test. Generates N tunes with a fixed seed and
 * reports the share that abc2midi (Debian's abcmidi, an outside parser) converts without error (target
 * ≥ 90 %), the share abcjs parses without warnings, and the bits per character on the held-out tunes.
 */
import { readFileSync } from 'node:fs';
import { splitTunes, splitValidation, joinTunes } from '../src/music/abc/corpus.ts';
import { checkWithAbcjs } from '../src/music/abc/validate.ts';
import { readManifest } from '../src/music/bundle.ts';
import { createRng } from '../src/music/rng.ts';
import { generateAbc } from '../src/runtime/abc.ts';
import { scoreTokens } from '../src/runtime/evaluate.ts';
import { LstmSession } from '../src/runtime/session.ts';
import { abc2midi, abc2midiAvailable } from '../tests/judges/abc2midi.ts';
import { report } from './stats.ts';

const model = process.argv[2] ?? 'models/abc';
const count = Number(process.argv[3] ?? 50);
const seed = 1;
/** What `improv generate` uses by default. */
const ATTEMPTS = 8;

if (!abc2midiAvailable()) {
  process.stderr.write('eval: abc2midi is not installed (apt-get install abcmidi)\n');
  process.exit(2);
}
const manifest = readManifest(model);
const session = await LstmSession.load(model);
const generate = (attempts: number) =>
  generateAbc(session, {
    tunes: count,
    start: 'X:1',
    sampler: { temperature: 1, topK: 0, topP: 1 },
    rng: createRng(seed),
    maxCharsPerTune: 3000,
    attempts,
  });
const raw = await generate(1);
const g = await generate(ATTEMPTS);
const share = (gen: typeof g, ok: (t: (typeof g.tunes)[number]) => boolean): number =>
  (100 * gen.tunes.filter(ok).length) / gen.tunes.length;
const converts = (t: { text: string }): boolean => abc2midi(t.text).ok;

// The held-out tunes are the ones the trainer held out: same split, same seed.
const tunes = splitTunes(readFileSync('data/irish.abc', 'utf8'));
const { validation } = splitValidation(tunes, 0.05, createRng(`split:${manifest.hyperparameters.seed}`));
const held = await scoreTokens(session, [...joinTunes(validation)]);
await session.dispose();

const lines = [
  `ABC model quality (${model}; ${g.tunes.length} tunes generated with seed ${seed}, temperature 1)`,
  report(`  abc2midi converts without error (${ATTEMPTS} draws, lint)`, share(g, converts), '%', {
    value: 90,
    better: 'higher',
  }),
  report('  abc2midi converts without error (1 draw, raw)', share(raw, converts), '%'),
  report(
    '  abcjs parses without warnings (lint)',
    share(g, (t) => checkWithAbcjs(t.text).warnings.length === 0),
    '%',
  ),
  report(
    '  tunes with notes',
    share(g, (t) => t.events.some((e) => e.type === 'note')),
    '%',
  ),
  report('  draws per tune', g.tunes.reduce((n, t) => n + t.attempts, 0) / g.tunes.length, 'draws'),
  report('  malformed tokens skipped by the reader (raw)', raw.skippedTokens, 'tokens'),
  report('  held-out bits per character', held.bitsPerToken, 'bits/char'),
  report(
    '  trainer validation loss (manifest)',
    (manifest.training.validationLoss ?? NaN) / Math.LN2,
    'bits/char',
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
