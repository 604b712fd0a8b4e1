#!/usr/bin/env node
/** The `improv` command line: train, generate, eval, demo. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import {
  ABC_DEFAULTS,
  BACKEND_ORDER,
  JAZZ_DEFAULTS,
  TRAIN_DEVICES,
  TRAINERS,
  type BackendName,
  type TrainDevice,
  type TrainerName,
} from '../train/defaults.ts';
import { keyName, type MusicalKey } from '../music/musicalKey.ts';
import type { CommonTrainOptions } from '../train/pipeline.ts';
import { reportError, UsageError } from './errors.ts';
import { DEFAULT_FORM } from '../music/abc/form.ts';
import { DEFAULT_FORM_BIAS, DEFAULT_SHORT_BIAS } from '../music/abc/guide.ts';
import { DEFAULT_LINE_FORM_BIAS } from '../model/jazzImproviser.ts';
import { validateSampler } from '../model/sampler.ts';
import { readManifest, recordEvaluation } from '../music/bundle.ts';
import { InputFileError } from '../music/errors.ts';
import { liveCliOptions, liveFlags } from './liveFlags.ts';
import { SETUP_DEFAULTS } from '../live/setup.ts';
import { listPorts } from '../midi/ports.ts';
import { loadConfig } from '../daemon/config.ts';
import { detachDaemon } from './detach.ts';
import { panicFromConfig, runPanic } from './panic.ts';
import {
  ALL_CHANNELS,
  channelList,
  checkCommandLine,
  float,
  int,
  MAX_COPY_HELP,
  maxCopyOf,
  maxCopyOption,
  featureGroups,
  keyOption,
  meterList,
  oversampleList,
  meterOption,
  midiRange,
  oneOf,
  readLeadsheet,
} from './options.ts';
import type { TimeSignature } from '../music/units.ts';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** A checked "n/d" (meterOption) as numbers. */
const parseMeterText = (s: string): TimeSignature => {
  const slash = s.indexOf('/');
  return { numerator: Number(s.slice(0, slash)), denominator: Number(s.slice(slash + 1)) };
};

/** generate's progression and key: --leadsheet's (and its K: line), or --chords and --key. */
function leadsheetOrChords(o: {
  readonly leadsheet?: string;
  readonly chords?: string;
  readonly key?: MusicalKey;
}): { chords?: string; key?: MusicalKey } {
  const sheet = o.leadsheet !== undefined ? readLeadsheet(o.leadsheet) : null;
  const chords = sheet?.chords ?? o.chords;
  const key = o.key ?? (sheet?.key ? keyOption(sheet.key) : undefined);
  return { ...(chords === undefined ? {} : { chords }), ...(key === undefined ? {} : { key }) };
}

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

// a usage error is one line and a hint, exit 2 (the help is one --help away); settings made here
// carry over to every command added below
const program = new Command()
  .name('improv')
  .description('A realtime MIDI improviser: LSTM models trained offline, played live.')
  .version(version, '-V, --version', 'print the version')
  .showHelpAfterError('(add --help for the options)')
  .exitOverride();

const backendOption = () =>
  new Option('--backend <name>', 'TensorFlow.js backend (default: the fastest that starts)').choices(
    BACKEND_ORDER,
  );

const trainerOption = () =>
  new Option(
    '--trainer <name>',
    'ort: onnxruntime runs the gradient graphs (fast); tfjs: TensorFlow.js (the reference)',
  )
    .choices(TRAINERS)
    .default<TrainerName>('ort');

const threadsOption = () =>
  new Option('--threads <n>', 'ort: threads for the training graph (2 beat 1 here)').argParser(int(1, 64));
const patienceOption = () =>
  new Option(
    '--patience <n>',
    'stop after n epochs without a better validation loss (the best epoch is bundled either way)',
  ).argParser(int(1));
const deviceOption = () =>
  new Option('--device <name>', "ort: cpu, or cuda (onnxruntime-node's CUDA provider)")
    .choices(TRAIN_DEVICES)
    .default<TrainDevice>('cpu');

/** The flags both trainers share, as commander parses them (its typings infer them from the options). */
interface TrainFlags {
  readonly data: string[];
  readonly out: string;
  readonly units: number;
  readonly layers: number;
  readonly dropout: number;
  readonly epochs: number;
  readonly lr: number;
  readonly batch: number;
  readonly val: number;
  readonly seed: number;
  readonly backend?: BackendName;
  readonly trainer: TrainerName;
  readonly threads?: number;
  readonly device: TrainDevice;
  readonly patience?: number;
  readonly licence?: string;
  readonly resume: boolean;
  readonly progress: boolean;
}

/** The options both trainers share, from commander's parsed values. */
const commonTraining = (o: TrainFlags, sequenceLength: number): CommonTrainOptions => ({
  data: o.data,
  out: o.out,
  units: o.units,
  layers: o.layers,
  dropout: o.dropout,
  epochs: o.epochs,
  learningRate: o.lr,
  batchSize: o.batch,
  sequenceLength,
  validation: o.val,
  seed: o.seed,
  backend: o.backend,
  trainer: o.trainer,
  threads: o.threads,
  device: o.device,
  patience: o.patience,
  ...(o.licence === undefined ? {} : { licence: o.licence }),
  resume: o.resume,
  progress: o.progress && Boolean(process.stderr.isTTY),
  log,
});

const train = program.command('train').description('train a model and export it as an ONNX bundle');

train
  .command('jazz')
  .description(
    'train the grammar value-LSTM on MIDI files (melody + accompaniment) or ABC tunes with chord symbols',
  )
  .requiredOption('--data <files...>', 'MIDI files, or ABC files whose tunes have chord symbols ("G", "D7")')
  .option('--out <dir>', 'bundle folder', 'models/jazz')
  .addOption(
    new Option('--profile <name>', 'corpus: full (whole melody, rests) or faithful (the original 18 bars)')
      .choices(['full', 'faithful'] as const)
      .default(JAZZ_DEFAULTS.profile),
  )
  .option('--melody-track <n>', 'file track index of the melody (default: detected)', int(0))
  .option('--chord-track <n>', 'file track index of the chords (default: detected)', int(0))
  .option('--units <n>', 'LSTM units (n_a)', int(1), JAZZ_DEFAULTS.units)
  .option('--layers <n>', 'stacked LSTM layers', int(1, 8), JAZZ_DEFAULTS.layers)
  .option('--dropout <p>', 'dropout after each LSTM', float(0, 0.9), JAZZ_DEFAULTS.dropout)
  .option('--epochs <n>', 'epochs', int(1), JAZZ_DEFAULTS.epochs)
  .option('--lr <rate>', 'Adam learning rate', float(1e-6, 1), JAZZ_DEFAULTS.learningRate)
  .option('--batch <n>', 'batch size', int(1), JAZZ_DEFAULTS.batchSize)
  .option('--tx <n>', 'training window length in tokens (Tx)', int(2), JAZZ_DEFAULTS.sequenceLength)
  .option('--stride <n>', 'distance between window starts', int(1), JAZZ_DEFAULTS.stride)
  .option('--licence <text>', "the training data's licence, recorded in the manifest")
  .option('--condition', 'hear the chord, the place in the bar and the phrase (default for the full profile)')
  .option('--no-condition', 'tokens only, as the seed model')
  .option(
    '--harmonize <meters>',
    'ABC tunes without chord symbols in these meters (comma-separated: 3/4,6/8; or all) get chords inferred from the melody',
    meterList,
  )
  .option(
    '--oversample <meter:times>',
    'train on the tunes in a meter this many times over (comma-separated: 3/4:3); validation stays as it is',
    oversampleList,
  )
  .option(
    '--features <groups>',
    'what a conditioned model hears beside chord and place: key, lookback (comma-separated; "none": neither)',
    featureGroups,
  )
  .option(
    '--val <share>',
    'share held out for validation: whole tunes when there are several, else the last bars',
    float(0, 0.5),
    JAZZ_DEFAULTS.validation,
  )
  .option('--seed <n>', 'random seed', int(0), JAZZ_DEFAULTS.seed)
  .option(
    '--init <dir>',
    "start from this grammar bundle's weights (fine-tuning: its units and layers, its vocabulary and the data's)",
  )
  .addOption(backendOption())
  .addOption(trainerOption())
  .addOption(threadsOption())
  .addOption(patienceOption())
  .addOption(deviceOption())
  .option('--resume', 'continue from the checkpoint in the output folder', false)
  .option('--no-progress', 'no progress bar')
  .action(async (o) => {
    const { trainJazz } = await import('../train/jazz.ts');
    await trainJazz({
      ...commonTraining(o, o.tx),
      profile: o.profile,
      melodyTrack: o.melodyTrack,
      chordTrack: o.chordTrack,
      stride: o.stride,
      ...(o.condition === undefined ? {} : { condition: o.condition }),
      ...(o.features === undefined ? {} : { features: o.features }),
      ...(o.harmonize === undefined ? {} : { harmonize: o.harmonize }),
      ...(o.oversample === undefined ? {} : { oversample: o.oversample }),
      ...(o.init === undefined ? {} : { init: o.init }),
    });
  });

train
  .command('abc')
  .description('train the char-LSTM on ABC tunes')
  .requiredOption('--data <files...>', 'ABC files (tunes start at X: lines)')
  .option('--out <dir>', 'bundle folder', 'models/abc')
  .option('--embedding <n>', 'embedding width (lab: 256)', int(1), ABC_DEFAULTS.embedding)
  .option('--units <n>', 'LSTM units (lab: 1024)', int(1), ABC_DEFAULTS.units)
  .option('--layers <n>', 'stacked LSTM layers', int(1, 8), ABC_DEFAULTS.layers)
  .option('--dropout <p>', 'dropout after each LSTM', float(0, 0.9), ABC_DEFAULTS.dropout)
  .option('--epochs <n>', 'epochs', int(1), ABC_DEFAULTS.epochs)
  .option('--batches <n>', 'random batches per epoch', int(1), ABC_DEFAULTS.batchesPerEpoch)
  .option('--lr <rate>', 'Adam learning rate (lab: 5e-3)', float(1e-6, 1), ABC_DEFAULTS.learningRate)
  .option('--batch <n>', 'batch size (lab: 25–32)', int(1), ABC_DEFAULTS.batchSize)
  .option('--seq <n>', 'sequence length (lab: 100–200)', int(2), ABC_DEFAULTS.sequenceLength)
  .option('--val <share>', 'share of tunes held out for validation', float(0, 0.5), ABC_DEFAULTS.validation)
  .option('--seed <n>', 'random seed', int(0), ABC_DEFAULTS.seed)
  .addOption(backendOption())
  .addOption(trainerOption())
  .addOption(threadsOption())
  .addOption(patienceOption())
  .addOption(deviceOption())
  .option(
    '--quantize',
    'also export a quantized variant (4-bit blocks) for live play (the runtime plays it)',
    false,
  )
  .option('--licence <text>', "the training data's licence, recorded in the manifest")
  .option(
    '--whole-tunes',
    'learn each tune whole from a fresh state (X: line to its blank line), every tune once an epoch; --seq and --batches are unused',
    false,
  )
  .option('--warmup <steps>', 'learning rate: linear warm-up over these steps, then cosine decay', int(0))
  .option('--lr-floor <share>', 'where the cosine decay ends, as a share of --lr', float(0, 1), 0.1)
  .option('--resume', 'continue from the checkpoint in the output folder', false)
  .option('--no-progress', 'no progress bar')
  .action(async (o) => {
    const { trainAbc } = await import('../train/abc.ts');
    await trainAbc({
      ...commonTraining(o, o.seq),
      embedding: o.embedding,
      quantize: o.quantize,
      batchesPerEpoch: o.batches,
      wholeTunes: o.wholeTunes,
      ...(o.warmup === undefined ? {} : { schedule: { warmup: o.warmup, floor: o.lrFloor } }),
    });
  });

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

/** `--start`, with `--kind` added as the R: line that follows the X: line. */
function primingText(o: { readonly start?: string; readonly kind?: string }): string {
  const start = (o.start ?? 'X:1').replace(/\\n/g, '\n');
  if (o.kind === undefined) return start;
  const kind = o.kind.trim().toLowerCase();
  if (!/^[a-z][a-z ]*$/.test(kind))
    throw new UsageError(`--kind ${o.kind}: a word or two, letters only (reel, slip jig)`);
  if (!/^X:\s*\d*\s*$/.test(start))
    throw new UsageError('--kind goes with a --start of an X: line only (it writes the R: line after it)');
  return `${start.trim()}\nR:${kind}\n`;
}

/** The ABC drawing flags shared by generate and eval --generate. */
interface AbcDrawFlags {
  readonly tunes?: number;
  readonly start?: string;
  readonly kind?: string;
  readonly seed: number;
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  readonly maxChars?: number;
  readonly attempts: number;
  readonly form: string;
  readonly bars?: number;
  readonly guide: boolean;
  readonly maxCopy: number | 'default';
  readonly formBias?: number;
  readonly shortBias?: number;
}

/** The ABC drawing options shared by generate and eval --generate. */
function abcDrawOptions(o: AbcDrawFlags) {
  return {
    tunes: o.tunes ?? 3,
    start: primingText(o),
    seed: o.seed,
    sampler: { temperature: o.temperature, topK: o.topK, topP: o.topP },
    maxCharsPerTune: o.maxChars ?? 3000,
    attempts: o.attempts,
    form: o.form,
    bars: o.bars,
    guide: o.guide,
    maxCopy: maxCopyOf(o.maxCopy),
    ...(o.formBias === undefined ? {} : { formBias: o.formBias }),
    ...(o.shortBias === undefined ? {} : { shortBias: o.shortBias }),
  };
}

program
  .command('generate')
  .description('generate from a model: a jazz solo (.mid) or ABC tunes (.abc plus one .mid per tune)')
  .option('--model <dir>', 'bundle folder (jazz-grammar or abc-char)', 'models/jazz')
  .option('--seed <n>', 'random seed (same seed, same output)', int(0), 7)
  .option('--temperature <t>', 'sampling temperature (0 = argmax)', float(0, 100), 1)
  .option('--top-k <k>', 'sample only among the k likeliest tokens (0 = all)', int(0), 0)
  .option('--top-p <p>', 'nucleus sampling mass (1 = all)', float(1e-6, 1), 1)
  .option('--out <file>', 'output file (default solo.mid for jazz, tunes.abc for ABC)')
  .option(
    '--bars <n>',
    'jazz: bars to generate (16); ABC: bars of a tune as written, shared by its parts (8 a part)',
    int(1, 10_000),
  )
  .option(
    '--chords <progression>',
    'jazz: your own progression, one chord per bar: "Dm7 G7 Cmaj7"; two in a bar: "Dm7,G7"',
  )
  .option('--leadsheet <file>', 'jazz: read the progression from a text file (as live --leadsheet does)')
  .option(
    '--range <low-high>',
    "jazz: MIDI pitch range of the solo, e.g. 55-84 (default: the training melody's)",
    midiRange,
  )
  .option('--bpm <n>', "jazz: tempo (default: the training file's)", float(20, 400))
  .option('--meter <n/d>', "jazz: the meter, e.g. 3/4 or 6/8 (default: the model's)", meterOption)
  .option(
    '--key <name>',
    "jazz: the key (G, Em, 'A dorian'; default: a leadsheet's K: line, else heard from the chords)",
    keyOption,
  )
  .option('--tunes <n>', 'ABC: how many tunes', int(1, 1000), 3)
  .option('--start <text>', 'ABC: priming text', 'X:1')
  .option(
    '--kind <name>',
    'ABC: the kind of tune (reel, jig, hornpipe, polka, …): primes each tune with R:<name> (a model trained on the house-style corpus knows them)',
  )
  .option('--max-chars <n>', 'ABC: character budget per tune', int(100), 3000)
  .option(
    '--attempts <n>',
    'ABC: draws per tune until one passes the lint (1: keep the first)',
    int(1, 100),
    8,
  )
  .option('--form <parts>', `ABC: the parts, a letter twice for a repeated part (AB, AABBCC)`, DEFAULT_FORM)
  .option(
    '--no-guide',
    "ABC: draw the raw text, without the bar-true mask and the form; grammar: the model's own rhythm, without the rhythm guide",
  )
  .option(
    '--form-bias <n>',
    `how strongly a bar restates an earlier one (0: not at all; ABC: where folk forms restate, default ${DEFAULT_FORM_BIAS}; grammar: a bar, two bars or a phrase back, default ${DEFAULT_LINE_FORM_BIAS})`,
    float(0, 20),
  )
  .option(
    '--short-bias <n>',
    `ABC: how strongly notes shorter than an eighth keep to the corpus's share for the meter (0: not at all; default ${DEFAULT_SHORT_BIAS})`,
    float(0, 20),
  )
  .option('--max-copy <n|off|default>', MAX_COPY_HELP, maxCopyOption, 'default')
  .action(async (o) => {
    const model = o.model;
    const sampler = { temperature: o.temperature, topK: o.topK, topP: o.topP };
    const abc = readManifest(model).kind === 'abc-char';
    const out = o.out;
    // the output's name says what it holds: ABC text in a .mid (or a solo in a .abc) helps nobody
    if (out !== undefined && abc && /\.midi?$/i.test(out))
      throw new UsageError(
        `--out ${out}: an ABC model writes ABC text (and one .mid per tune beside it); name the --out file .abc`,
      );
    if (out !== undefined && !abc && !/\.midi?$/i.test(out))
      throw new UsageError(`--out ${out}: a jazz model writes a MIDI file; name the --out file .mid`);
    if (o.chords !== undefined && o.leadsheet !== undefined)
      throw new UsageError('--chords and --leadsheet both give the progression: use one');
    if (abc) {
      const { generateAbcFiles } = await import('./abcCommands.ts');
      const r = await generateAbcFiles({
        model,
        ...abcDrawOptions(o),
        out: o.out ?? 'tunes.abc',
      });
      const g = r.generation;
      const changed = g.tunes.reduce((n, t) => n + (t.guide?.changed ?? 0), 0);
      const mask = o.guide ? `, the mask changed ${pct(changed / Math.max(g.characters, 1))} of draws` : '';
      process.stdout.write(
        `wrote ${r.abcFile}: ${g.tunes.length} tunes, ${g.characters} characters generated, ${g.skippedTokens} malformed tokens skipped${mask}\n` +
          g.tunes
            .map((t, i) => {
              const notes = t.events.filter((e) => e.type === 'note').length;
              const title = t.text.split('\n').find((l) => l.startsWith('T:')) ?? '(no title)';
              const lint = t.problems.length ? `, kept despite: ${t.problems.join('; ')}` : '';
              return `  ${r.midiFiles[i] ?? ''}: ${title}, ${notes} notes, ${t.attempts} draw(s), ${t.skippedTokens} skipped, ${r.warnings[i] ?? 0} abcjs warnings${lint}`;
            })
            .join('\n') +
          '\n',
      );
      return;
    }
    const { generateJazz } = await import('./jazzCommands.ts');
    const r = await generateJazz({
      model,
      bars: o.bars ?? 16,
      seed: o.seed,
      sampler,
      ...leadsheetOrChords(o),
      range: o.range,
      bpm: o.bpm,
      ...(o.meter === undefined ? {} : { meter: parseMeterText(o.meter) }),
      maxCopy: maxCopyOf(o.maxCopy),
      rhythmGuide: o.guide,
      ...(o.formBias === undefined ? {} : { formBias: o.formBias }),
      out: o.out ?? 'solo.mid',
    });
    const s = r.summary;
    process.stdout.write(
      `wrote ${o.out ?? 'solo.mid'}: ${s.bars} bars of ${r.meter.numerator}/${r.meter.denominator} at ${r.bpm} BPM${r.key ? ` in ${keyName(r.key)}` : ''}, ${s.notes} notes, range ${s.low ?? '-'}–${s.high ?? '-'}\n` +
        `chord tones ${pct(s.chordToneShare)}, chord or scale tones ${pct(s.chordOrScaleShare)} (training melody: ${pct(r.trainingShare)})\n`,
    );
  });

program
  .command('eval')
  .description(
    'how well a model predicts a file (--data): NLL per token (grammar models) or bits per character (ABC); ' +
      'a grammar model without --data: judged on its held-out tunes against unigram and bigram baselines',
  )
  .option('--model <dir>', 'bundle folder', 'models/jazz')
  .option('--data <file>', 'MIDI file (jazz model) or ABC file (char model) to score')
  .option(
    '--generate <n>',
    'ABC: generate n tunes as improv generate does and report their quality',
    int(1, 10_000),
  )
  .option('--seed <n>', 'lines or tunes generated: random seed', int(0), 1)
  .option('--temperature <t>', 'lines or tunes generated: sampling temperature', float(0, 100), 1)
  .option('--top-k <k>', 'lines or tunes generated: top-k', int(0), 0)
  .option('--top-p <p>', 'lines or tunes generated: top-p', float(1e-6, 1), 1)
  .option('--attempts <n>', 'ABC --generate: draws per tune', int(1, 100), 8)
  .option('--form <parts>', 'ABC --generate: the parts', DEFAULT_FORM)
  .option('--bars <n>', 'ABC --generate: bars of a tune as written', int(1, 10_000))
  .option('--no-guide', 'ABC --generate: no mask, no form (the raw model); grammar: no rhythm guide')
  .option(
    '--changes <progressions...>',
    "grammar: also play lines over these chord progressions ('Dm7 G7 Cmaj7 Cmaj7'; 'standard': four jazz progressions) and judge them",
  )
  .option('--record', "grammar: write the report's figures into the bundle's manifest (evaluation)")
  .option(
    '--form-bias <n>',
    `form memory's bias (ABC --generate: default ${DEFAULT_FORM_BIAS}; grammar: default ${DEFAULT_LINE_FORM_BIAS})`,
    float(0, 20),
  )
  .option(
    '--short-bias <n>',
    `ABC --generate: the short-note bias (default ${DEFAULT_SHORT_BIAS})`,
    float(0, 20),
  )
  .option(
    '--max-copy <n|off|default>',
    `lines or tunes generated: ${MAX_COPY_HELP}`,
    maxCopyOption,
    'default',
  )
  .option(
    '--training <files...>',
    "ABC --generate: text to look for copies in (default: the manifest's training files)",
  )
  .addOption(
    new Option('--profile <name>', 'jazz: how to read the file')
      .choices(['full', 'faithful'])
      .default('full'),
  )
  .option('--melody-track <n>', 'jazz: file track index of the melody', int(0))
  .option('--chord-track <n>', 'jazz: file track index of the chords', int(0))
  .action(async (o) => {
    const model = o.model;
    const abc = readManifest(model).kind === 'abc-char';
    if (o.generate !== undefined) {
      if (!abc) throw new UsageError('--generate needs an ABC model (--model models/abc)');
      const { qualityAbc } = await import('./abcCommands.ts');
      const { formLines } = await import('../eval/tuneForm.ts');
      const { formatLine, qualityLines } = await import('../eval/abcQuality.ts');
      const r = await qualityAbc(
        model,
        { ...abcDrawOptions(o), tunes: o.generate, start: 'X:1', maxCharsPerTune: 3000 },
        o.training,
      );
      const how = o.guide ? `form ${o.form}, mask on` : 'raw, no mask';
      process.stdout.write(
        `${model}: ${r.quality.tunes} tunes generated (seed ${o.seed}, temperature ${o.temperature}, ${how}); copies against ${r.training.join(', ') || '(no training file found)'}\n` +
          (r.quality.abc2midi
            ? ''
            : '  abc2midi is not installed (apt-get install abcmidi): its figures are left out\n') +
          qualityLines(r.quality).map(formatLine).join('\n') +
          `\n  form, beside the training tunes' own (same code):\n${formLines(r.form.generated, r.form.corpus).join('\n')}\n`,
      );
      return;
    }
    if (o.data === undefined && !abc) {
      // a grammar model without --data: judged on what its trainer held out
      const { evaluateGrammar, grammarEvalLines, STANDARD_CHANGES } = await import('../eval/grammarEval.ts');
      const r = await evaluateGrammar(model, {
        seed: o.seed,
        sampler: validateSampler({
          temperature: o.temperature,
          topK: o.topK,
          topP: o.topP,
        }),
        maxCopy: maxCopyOf(o.maxCopy),
        rhythmGuide: o.guide,
        ...(o.formBias === undefined ? {} : { formBias: o.formBias }),
        ...(o.changes === undefined
          ? {}
          : {
              changes: o.changes.flatMap((c) => (c === 'standard' ? STANDARD_CHANGES : [c])),
            }),
      });
      const lines = grammarEvalLines(r);
      process.stdout.write(`${model}:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
      if (o.record) {
        const command =
          `improv eval --model ${model} --seed ${o.seed} --temperature ${o.temperature}` +
          `${o.topK ? ` --top-k ${o.topK}` : ''}${o.topP < 1 ? ` --top-p ${o.topP}` : ''}` +
          `${o.guide ? '' : ' --no-guide'}` +
          `${o.changes ? ` --changes ${o.changes.map((c) => JSON.stringify(c)).join(' ')}` : ''}`;
        recordEvaluation(model, { command, lines });
        process.stdout.write(`recorded in ${model}/manifest.json (evaluation: ${command})\n`);
      }
      return;
    }
    if (o.data === undefined)
      throw new UsageError(
        "required option '--data <file>' not specified (or --generate n for an ABC model)",
      );
    const data = o.data;
    const r = abc
      ? await (await import('./abcCommands.ts')).evalAbc(model, data)
      : await (
          await import('./jazzCommands.ts')
        ).evalJazz({
          model,
          data,
          profile: oneOf(['full', 'faithful'] as const)(o.profile),
          melodyTrack: o.melodyTrack,
          chordTrack: o.chordTrack,
        });
    const unit = abc ? 'characters' : 'tokens';
    if (r.scored === 0)
      throw new InputFileError(
        data,
        r.tokens === 0
          ? `holds no ${unit} to score`
          : `none of its ${r.tokens} ${unit} is in the model's vocabulary: nothing to score`,
      );
    const score = abc
      ? `${r.bitsPerToken.toFixed(4)} bits/character (NLL ${r.nll.toFixed(4)} nats)`
      : `NLL ${r.nll.toFixed(4)} nats/token (${r.bitsPerToken.toFixed(3)} bits, perplexity ${r.perplexity.toFixed(2)})`;
    const t = r.training;
    const beats = (a: number, b: number): string => (a < b ? 'beats' : 'does NOT beat');
    const against = t
      ? `  baselines counted on the model's training part: unigram ${t.baselines.unigram.toFixed(4)}, bigram ${t.baselines.bigram.toFixed(4)} nats/${abc ? 'character' : 'token'} (smoothing ${t.baselines.bigramSmoothing}); the model ${beats(r.nll, t.baselines.unigram)} the unigram and ${beats(r.nll, t.baselines.bigram)} the bigram\n` +
        `  longest run found in the training data: ${t.longestCopy.tokens} ${unit}` +
        (t.longestCopy.rhythm !== null
          ? `, ${t.longestCopy.rhythm} of rhythm (lengths), ${t.longestCopy.onsets ?? '-'} of onsets`
          : '') +
        '\n'
      : '  (this bundle carries no training index: no baselines or copies; retrain it to have them)\n';
    process.stdout.write(
      `${data}: ${r.scored} ${unit} scored, ${score}; ${r.outOfVocabulary} of ${r.tokens} ${unit} outside the vocabulary ` +
        `(${((100 * r.outOfVocabulary) / Math.max(r.tokens, 1)).toFixed(1)} %), skipped\n` +
        against,
    );
  });

liveFlags(program.command('live'))
  .description(
    'jam: listen on a MIDI input and answer on a MIDI output (call and response, solo, follow the left hand)',
  )
  .option(
    '--auto',
    'what npm start runs: real ports where a MIDI system exists, else a recorded demo to out/',
  )
  .action(async (o) => {
    const options = liveCliOptions(o, log);
    const { runAuto, runLive } = await import('./live.ts');
    await (o.auto ? runAuto(options) : runLive(options));
  });

program
  .command('daemon')
  .description('run headless from a config file: signals, reload on SIGHUP, HTTP status and control')
  .requiredOption('--config <file>', 'improv.config.json or .yaml')
  .option('--foreground', 'stay in the foreground (systemd, containers); without it the daemon detaches')
  .addOption(
    new Option('--log-level <level>', 'log level (overrides log.level in the config)').choices([
      'trace',
      'debug',
      'info',
      'warn',
      'error',
      'fatal',
    ]),
  )
  .action(async (o) => {
    const file = o.config;
    if (!o.foreground) {
      loadConfig(file); // fail here, in the terminal, rather than in the background
      await detachDaemon(file);
      return;
    }
    const { startDaemon } = await import('../daemon/daemon.ts');
    const daemon = await startDaemon(file, { logLevel: o.logLevel });
    const stop = (signal: string) => (): void => {
      process.stderr.write(`${JSON.stringify({ level: 30, msg: `${signal}: stopping` })}\n`);
      void daemon.stop().then(() => process.exit(0));
    };
    process.on('SIGINT', stop('SIGINT'));
    process.on('SIGTERM', stop('SIGTERM'));
    process.on('SIGHUP', () => void daemon.reload());
    if (process.send) {
      // started by `improv daemon` without --foreground: tell it that everything is up, then let go
      process.send({ ready: true, port: daemon.port });
      process.disconnect();
    }
    await new Promise<void>(() => undefined);
  });

program
  .command('panic')
  .description(
    'silence a rig after a crash: All Sound Off, All Notes Off and a note-off for every note on the channels used',
  )
  .option('--out <port>', "output port (default: the config's, else virtual:Improviser)")
  .option('--config <file>', "take the output port and channels from a daemon's config")
  .option(
    '--channels <list>',
    "channels to silence, e.g. 1,2,10 or all (default: the config's, else all)",
    channelList,
  )
  .action(async (o) => {
    const fromConfig = o.config !== undefined ? panicFromConfig(o.config) : null;
    const out = o.out ?? fromConfig?.out ?? SETUP_DEFAULTS.output;
    const channels = o.channels ?? fromConfig?.channels ?? ALL_CHANNELS;
    const sent = await runPanic({ out, channels });
    process.stdout.write(
      `improv panic: ${sent} messages sent to ${out} on channel(s) ${channels.map((c) => c + 1).join(',')}\n`,
    );
  });

program
  .command('ports')
  .description('list the MIDI ports each backend can see')
  .action(() => {
    for (const p of listPorts()) {
      process.stdout.write(`${p.backend}:
`);
      if (p.error)
        process.stdout.write(`  unavailable: ${p.error}
`);
      else {
        process.stdout.write(`  inputs:  ${p.inputs.map((n) => `${p.backend}:${n}`).join(', ') || '(none)'}
`);
        process.stdout.write(`  outputs: ${p.outputs.map((n) => `${p.backend}:${n}`).join(', ') || '(none)'}
`);
      }
    }
    process.stdout.write(
      'also: virtual:Name (a new port other programs can see), file:path.mid (record, or play in)\n',
    );
  });

/** The share a char bundle was trained with: what index and quantize need to re-make its split. */
function trainedShareOption() {
  return new Option('--validation <share>', 'the share the model was trained with')
    .argParser(float(0, 0.9))
    .default(ABC_DEFAULTS.validation);
}

program
  .command('index')
  .description(
    'give a char bundle trained before bundles carried their training data its copy index and copy bound (for --max-copy), and any char bundle its note lengths by meter (for the mask), from the files and the split its manifest records',
  )
  .requiredOption('--model <dir>', 'bundle folder (abc-char)')
  .addOption(trainedShareOption())
  .action(async (o) => {
    const { indexAbcBundle } = await import('../train/abc.ts');
    const m = indexAbcBundle(o.model, { validation: o.validation });
    const b = m.copyBound;
    process.stdout.write(
      `${o.model}: copy index ${m.training.copyIndex?.file ?? '-'} (${m.training.copyIndex?.tokens ?? 0} characters); default --max-copy ${b?.tokens ?? '-'} (${b?.rule ?? ''}; held-out tunes' longest copies: median ${b?.heldOut.tokens?.median ?? '-'}, max ${b?.heldOut.tokens?.max ?? '-'}); note lengths for ${Object.keys(m.abcLengths ?? {}).length} meters\n`,
    );
  });

program
  .command('quantize')
  .description(
    'give a char bundle the quantized variant this version plays live (4-bit blocks), built from its fp32 graph and measured against it and on the held-out tunes its manifest records',
  )
  .requiredOption('--model <dir>', 'bundle folder (abc-char)')
  .addOption(trainedShareOption())
  .action(async (o) => {
    const { quantizeAbcBundle } = await import('../train/abc.ts');
    const m = await quantizeAbcBundle(o.model, { validation: o.validation });
    const q = m.quantized;
    process.stdout.write(
      `${o.model}: ${q?.model ?? '-'} (${q?.bits ?? 8}-bit, blocks of ${q?.blockSize ?? '-'}): max |Δ| ${q?.maxAbsDiff.toExponential(2) ?? '-'} against fp32; held-out ${q?.bitsPerToken?.toFixed(4) ?? '-'} bits/token against ${q?.fp32BitsPerToken?.toFixed(4) ?? '-'} in fp32\n`,
    );
  });

program
  .command('demo', { isDefault: false })
  .description(
    'what `npm start` runs: a solo from the shipped model, written to out/ (and rendered to WAV where fluidsynth exists)',
  )
  .option('--model <dir>', 'bundle folder', 'models/jazz')
  .option('--seed <n>', 'random seed', int(0), 7)
  .action(async (o) => {
    const { runDemo } = await import('./demo.ts');
    await runDemo({ model: o.model, seed: o.seed, log });
  });

try {
  checkCommandLine([process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError)
    // commander has printed its line; help and --version are not errors
    process.exitCode =
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.help' ||
      err.code === 'commander.version'
        ? 0
        : 2;
  else process.exitCode = reportError(err);
}
