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

if (!abc2midiAvailable()) {
  process.stderr.write('eval: abc2midi is not installed (apt-get install abcmidi)\n');
  process.exit(2);
}
const manifest = readManifest(model);
const session = await LstmSession.load(model);
const g = await generateAbc(session, {
  tunes: count,
  start: 'X:1',
  sampler: { temperature: 1, topK: 0, topP: 1 },
  rng: createRng(seed),
  maxCharsPerTune: 3000,
});
const converted = g.tunes.filter((t) => abc2midi(t.text).ok).length;
const clean = g.tunes.filter((t) => checkWithAbcjs(t.text).warnings.length === 0).length;
const withNotes = g.tunes.filter((t) => t.events.some((e) => e.type === 'note')).length;

// The held-out tunes are the ones the trainer held out: same split, same seed.
const tunes = splitTunes(readFileSync('data/irish.abc', 'utf8'));
const { validation } = splitValidation(tunes, 0.05, createRng(`split:${manifest.hyperparameters.seed}`));
const held = await scoreTokens(session, [...joinTunes(validation)]);
await session.dispose();

const lines = [
  `ABC model quality (${model}; ${g.tunes.length} tunes generated with seed ${seed}, temperature 1)`,
  report('  abc2midi converts without error', (100 * converted) / g.tunes.length, '%', {
    value: 90,
    better: 'higher',
  }),
  report('  abcjs parses without warnings', (100 * clean) / g.tunes.length, '%'),
  report('  tunes with notes', (100 * withNotes) / g.tunes.length, '%'),
  report('  malformed tokens skipped by the reader', g.skippedTokens, 'tokens'),
  report('  held-out bits per character', held.bitsPerToken, 'bits/char'),
  report(
    '  trainer validation loss (manifest)',
    (manifest.training.validationLoss ?? NaN) / Math.LN2,
    'bits/char',
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
