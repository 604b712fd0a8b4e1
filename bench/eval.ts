/**
 * `npm run eval`: quality of the shipped ABC model, not a test. Generates N tunes with a fixed seed and
 * judges them from outside (abc2midi, bar lengths against M:, parts, tonic endings, copies from the
 * training text; see src/eval/abcQuality.ts), twice: with `improv generate`'s defaults (the bar-true
 * mask, form AABB, lint with up to 8 draws) and raw (no mask, first draw), each with the form figures
 * (recurring bars, short notes by meter, tonic endings; src/eval/tuneForm.ts) beside the training
 * tunes' own. Then the bits per character on the tunes the trainer held out (tune by tune from a
 * fresh state for a whole-tune model). Then the grammar models (models/folk, models/jazz), judged on what
 * their trainer held out (src/eval/grammarEval.ts): likelihood against unigram and bigram baselines,
 * chord tones over held-out progressions (the jazz model's over other changes too), rhythm copied from the
 * training data, call and response, key and meter beside the held-out melodies'.
 */
import { joinTunes } from '../src/music/abc/corpus.ts';
import { parseForm } from '../src/music/abc/form.ts';
import { readManifest } from '../src/music/bundle.ts';
import { CopyFinder } from '../src/music/copies.ts';
import { createRng } from '../src/music/rng.ts';
import { generateAbc } from '../src/model/tune.ts';
import { formatLine, judgeTunes, qualityLines } from '../src/eval/abcQuality.ts';
import { scoreAbc } from '../src/eval/evaluate.ts';
import { abcSplit } from '../src/train/abc.ts';
import { formFigures, formLines } from '../src/eval/tuneForm.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { abc2midiAvailable } from '../src/music/abc/abc2midi.ts';
import { report } from './stats.ts';
import { evaluateGrammar, grammarEvalLines, STANDARD_CHANGES } from '../src/eval/grammarEval.ts';

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
// the split the trainer made: the same files, share and seed
const files = manifest.training.data.map((d) => d.file);
const split = abcSplit(files, manifest.training.split?.share ?? 0.05, manifest.hyperparameters.seed);
const training = joinTunes(split.train);
const finder = new CopyFinder(training);
const corpusForm = formFigures(split.train);
const generate = (guided: boolean) =>
  generateAbc(session, {
    tunes: count,
    start: 'X:1',
    sampler: { temperature: 1, topK: 0, topP: 1 },
    rng: createRng(seed),
    maxCharsPerTune: 3000,
    attempts: guided ? ATTEMPTS : 1,
    guide: guided && { form: parseForm() },
  });
const t0 = performance.now();
const guidedTunes = await generate(true);
const guided = judgeTunes(guidedTunes, finder);
const guidedSeconds = (performance.now() - t0) / 1000;
const rawTunes = await generate(false);
const raw = judgeTunes(rawTunes, finder);
const formOf = (g: typeof rawTunes): string[] =>
  formLines(formFigures(g.tunes.map((t) => t.text)), corpusForm);

// The held-out tunes are the ones the trainer held out: same split, same seed.
const held = await scoreAbc(session, joinTunes(split.validation));
await session.dispose();

const lines = [
  `ABC model quality (${model}; ${count} tunes generated with seed ${seed}, temperature 1)`,
  `with improv generate's defaults (bar-true mask, form AABB, lint with up to ${ATTEMPTS} draws; ${guidedSeconds.toFixed(1)} s):`,
  ...qualityLines(guided).map(formatLine),
  ...formOf(guidedTunes),
  'raw (no mask, no form, first draw):',
  ...qualityLines(raw).map(formatLine),
  ...formOf(rawTunes),
  report(`held-out bits per character (${split.validation.length} tunes)`, held.bitsPerToken, 'bits/char'),
  report(
    'trainer validation loss (manifest)',
    (manifest.training.validationLoss ?? NaN) / Math.LN2,
    'bits/char',
  ),
];
for (const grammar of ['models/folk', 'models/jazz']) {
  for (const temperature of [1, 0.5]) {
    const r = await evaluateGrammar(grammar, {
      seed,
      sampler: { temperature, topK: 0, topP: 1 },
      // the jazz model learnt one solo's changes: judged over four it never heard as well
      ...(grammar === 'models/jazz' ? { changes: STANDARD_CHANGES } : {}),
    });
    lines.push(
      `grammar model ${grammar} (seed ${seed}, temperature ${temperature}):`,
      ...grammarEvalLines(r).map((l) => `  ${l}`),
    );
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
