/**
 * How good a grammar model is, judged from outside on what it did not train on (`improv eval` and
 * `npm run eval`):
 * - held-out negative log-likelihood per token against unigram and bigram baselines over the same
 *   vocabulary, counted on the training tokens (the bigram smoothed toward the unigram, with the
 *   smoothing that scores the held-out data best, so the baseline is as strong as it can be);
 * - the share of held-out tokens outside the vocabulary (skipped by all three);
 * - lines generated over the held-out progressions: chord-tone and chord-or-scale-tone shares next to
 *   the held-out melodies' own, and the share of their 8-note rhythm n-grams found in the training data
 *   (the held-out melodies' own share beside it: what a new tune of the style reaches).
 * The held-out part is the trainer's (manifest `jazz.heldOut`), read again from the training files.
 */
import {
  corpusConditions,
  corpusTokens,
  idsInVocabulary,
  pitchSpan,
  type JazzCorpus,
} from '../music/corpus.ts';
import { readManifest } from '../music/bundle.ts';
import { BundleError } from '../music/errors.ts';
import { SuffixAutomaton } from '../music/copies.ts';
import { formatToken, parseToken, rhythmClass, type GrammarToken } from '../music/grammar.ts';
import { copyLimitFor } from '../model/copyGuard.ts';
import { createRng } from '../music/rng.ts';
import { readCorpora, tuneId } from '../train/jazz.ts';
import { generateSolo } from '../model/solo.ts';
import type { SamplerOptions } from '../model/sampler.ts';
import { LstmSession } from '../model/lstmSession.ts';
import { NgramBaselines } from './baselines.ts';

export const RHYTHM_N = 8;

export interface GrammarEval {
  readonly heldOutTunes: number;
  readonly heldOutTokens: number;
  readonly outOfVocabulary: number;
  /** Nats per scored token. */
  readonly model: number;
  readonly unigram: number;
  readonly bigram: number;
  readonly bigramSmoothing: number;
  readonly generated: {
    readonly lines: number;
    readonly notes: number;
    readonly chordTones: number;
    readonly chordOrScale: number;
    readonly rhythmCopied: number;
    /** The longest run of a line found in the training data: tokens, and lengths (rhythm). */
    readonly longestCopy: LongestCopy;
    /** The copy bound the lines were drawn under (null: none). */
    readonly maxCopy: { readonly tokens: number; readonly rhythm: number | null } | null;
  };
  readonly heldOutMelodies: {
    readonly chordTones: number;
    readonly chordOrScale: number;
    readonly rhythmCopied: number;
    readonly longestCopy: LongestCopy;
  };
}

export interface LongestCopy {
  readonly tokens: number;
  readonly rhythm: number;
}

/** A line's rhythm: each token's length, a rest marked apart from a note. */
const rhythmOf = (tokens: readonly GrammarToken[]): string[] => tokens.map(rhythmClass);

function nGrams(seq: readonly string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= seq.length; i++) out.push(seq.slice(i, i + n).join(' '));
  return out;
}

/** Share of a line set's rhythm n-grams that occur in `known`. */
function copiedShare(lines: readonly (readonly GrammarToken[])[], known: ReadonlySet<string>): number {
  let total = 0;
  let found = 0;
  for (const l of lines)
    for (const g of nGrams(rhythmOf(l), RHYTHM_N)) {
      total++;
      if (known.has(g)) found++;
    }
  return total ? found / total : 0;
}

function typeShares(tokens: readonly GrammarToken[]): { chordTones: number; chordOrScale: number } {
  const notes = tokens.filter((t) => t.type !== 'R');
  const n = Math.max(notes.length, 1);
  return {
    chordTones: notes.filter((t) => t.type === 'C').length / n,
    chordOrScale: notes.filter((t) => t.type === 'C' || t.type === 'S').length / n,
  };
}

/** The trainer's split: held-out corpora (or tails, `file@bar`) and the training ones. */
function split(
  corpora: readonly JazzCorpus[],
  heldOut: readonly string[],
): { train: JazzCorpus[]; held: JazzCorpus[] } {
  const tails = new Map(
    heldOut.filter((h) => /@\d+$/.test(h)).map((h) => [h.replace(/@\d+$/, ''), Number(h.split('@').pop())]),
  );
  const ids = new Set(heldOut);
  const train: JazzCorpus[] = [];
  const held: JazzCorpus[] = [];
  for (const c of corpora) {
    const from = tails.get(tuneId(c));
    if (from !== undefined) {
      train.push({ ...c, bars: c.bars.slice(0, from) });
      held.push({ ...c, bars: c.bars.slice(from) });
    } else if (ids.has(tuneId(c))) held.push(c);
    else train.push(c);
  }
  return { train, held };
}

export async function evaluateGrammar(
  modelDir: string,
  opts: {
    seed: number;
    sampler: SamplerOptions;
    maxLines?: number;
    data?: readonly string[];
    /** The copy bound the lines are drawn under (null or undefined: the bundle's default; 0: none). */
    maxCopy?: number | null;
  },
): Promise<GrammarEval> {
  const manifest = readManifest(modelDir);
  const heldOut = manifest.jazz?.heldOut;
  if (!heldOut?.length)
    throw new BundleError(
      modelDir,
      'jazz.heldOut',
      'this bundle records no held-out data to judge it on (retrain it)',
    );
  const files = opts.data ?? manifest.training.data.map((d) => d.file);
  const corpora = readCorpora(files, { profile: 'full' });
  const { train, held } = split(corpora, heldOut);
  if (held.length === 0)
    throw new BundleError(modelDir, 'jazz.heldOut', `none of it is in ${files.join(', ')}`);
  const vocab = manifest.vocabulary;
  const V = vocab.length;
  const index = new Map(vocab.map((v, i) => [v, i]));
  // baselines, counted on the training tokens
  const idsOf = (c: JazzCorpus): number[] => idsInVocabulary(corpusTokens(c), index, null, 0).ids;
  const trainIds = train.map(idsOf);
  const baselines = new NgramBaselines(trainIds, vocab.length);
  // copies, by an automaton over the training part (the same split as the bundle's copy index)
  const rhythmIds = new Map<string, number>();
  const rhythmId = (t: GrammarToken): number => {
    const c = rhythmClass(t);
    let id = rhythmIds.get(c);
    if (id === undefined) rhythmIds.set(c, (id = rhythmIds.size));
    return id;
  };
  const tokenCopies = new SuffixAutomaton(trainIds);
  const rhythmCopies = new SuffixAutomaton(train.map((c) => c.bars.flatMap((b) => b.tokens).map(rhythmId)));
  const longestCopy = (lines: readonly (readonly GrammarToken[])[]): LongestCopy => ({
    tokens: lines.reduce(
      (m, l) => Math.max(m, tokenCopies.longest(l.map((t) => index.get(formatToken(t)) ?? -2))),
      0,
    ),
    rhythm: lines.reduce((m, l) => Math.max(m, rhythmCopies.longest(l.map(rhythmId))), 0),
  });
  const session = await LstmSession.load(modelDir);
  let scored = 0;
  let total = 0;
  let oov = 0;
  let nllModel = 0;
  const scoredIds: number[][] = [];
  const W = session.conditionWidth;
  try {
    for (const c of held) {
      const tokens = corpusTokens(c);
      total += tokens.length;
      const kept = idsInVocabulary(tokens, index, W > 0 ? corpusConditions(c) : null, W);
      oov += kept.outOfVocabulary;
      const { ids } = kept;
      if (ids.length === 0) continue;
      session.reset();
      const conditions = W > 0 ? kept.conditions : undefined;
      const { probs } = await session.run([session.startToken, ...ids.slice(0, -1)], conditions);
      scoredIds.push(ids);
      ids.forEach((id, t) => {
        scored++;
        nllModel -= Math.log(Math.max(probs[t * V + id] as number, 1e-12));
      });
    }
    // lines over the held-out progressions, as long as the held-out melodies
    const known = new Set(train.flatMap((c) => nGrams(rhythmOf(c.bars.flatMap((b) => b.tokens)), RHYTHM_N)));
    // at least 10 lines: a one-file model's one held-out tail is played with 10 seeds
    const count = Math.min(opts.maxLines ?? 50, Math.max(10, held.length));
    const lines = Array.from({ length: count }, (_, i) => held[i % held.length] as JazzCorpus);
    const generated: GrammarToken[][] = [];
    let notes = 0;
    let chordTones = 0;
    let chordOrScale = 0;
    for (const [i, c] of lines.entries()) {
      const bars = c.bars.filter((b) => b.bar >= 0);
      if (bars.length === 0) continue;
      const [low, high] = pitchSpan(c.melodyPitches);
      const solo = await generateSolo(session, {
        bars: bars.length,
        progression: bars.map((b) => b.chords),
        barLength: c.barLength,
        beat: c.beat,
        sampler: opts.sampler,
        range: { low, high: Math.max(high, low + 12) },
        rng: createRng(`${opts.seed}:${i}`),
        maxCopy: opts.maxCopy ?? null,
      });
      generated.push(solo.tokens.map(parseToken));
      // each note as it sounds against the chord at its start (what the decoder found, fallbacks included)
      for (const n of solo.notes) {
        notes++;
        if (n.type === 'C') chordTones++;
        if (n.type === 'C' || n.type === 'S') chordOrScale++;
      }
    }
    const own = typeShares(held.flatMap((c) => c.bars.flatMap((b) => b.tokens)));
    const base = baselines.score(scoredIds);
    return {
      heldOutTunes: held.length,
      heldOutTokens: total,
      outOfVocabulary: oov,
      model: nllModel / scored,
      unigram: base.unigram,
      bigram: base.bigram,
      bigramSmoothing: base.bigramSmoothing,
      generated: {
        lines: generated.length,
        notes,
        chordTones: notes ? chordTones / notes : 0,
        chordOrScale: notes ? chordOrScale / notes : 0,
        rhythmCopied: copiedShare(generated, known),
        longestCopy: longestCopy(generated),
        maxCopy: copyLimitFor(manifest, opts.maxCopy ?? null),
      },
      heldOutMelodies: {
        ...own,
        rhythmCopied: copiedShare(
          held.map((c) => c.bars.flatMap((b) => b.tokens)),
          known,
        ),
        longestCopy: longestCopy(held.map((c) => c.bars.flatMap((b) => b.tokens))),
      },
    };
  } finally {
    await session.dispose();
  }
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

/** The report as lines of text. */
export function grammarEvalLines(r: GrammarEval): string[] {
  const beats = (a: number, b: number): string => (a < b ? 'beats' : 'does NOT beat');
  return [
    `held out: ${r.heldOutTunes} tunes, ${r.heldOutTokens} tokens, ${pct(r.outOfVocabulary / Math.max(r.heldOutTokens, 1))} outside the vocabulary (skipped)`,
    `NLL nats/token: model ${r.model.toFixed(3)}, unigram ${r.unigram.toFixed(3)}, bigram ${r.bigram.toFixed(3)} (smoothing ${r.bigramSmoothing}); the model ${beats(r.model, r.unigram)} the unigram and ${beats(r.model, r.bigram)} the bigram`,
    `generated over the held-out progressions (${r.generated.lines} lines, ${r.generated.notes} notes): chord tones ${pct(r.generated.chordTones)}, chord or scale ${pct(r.generated.chordOrScale)}; the held-out melodies: ${pct(r.heldOutMelodies.chordTones)}, ${pct(r.heldOutMelodies.chordOrScale)}`,
    `${RHYTHM_N}-note rhythm n-grams found in the training data: generated ${pct(r.generated.rhythmCopied)}, held-out melodies ${pct(r.heldOutMelodies.rhythmCopied)}`,
    `longest run found in the training data (tokens / rhythm): generated ${r.generated.longestCopy.tokens} / ${r.generated.longestCopy.rhythm}` +
      ` under ${r.generated.maxCopy ? `--max-copy ${r.generated.maxCopy.tokens}${r.generated.maxCopy.rhythm !== null && r.generated.maxCopy.rhythm !== r.generated.maxCopy.tokens ? ` (rhythm ${r.generated.maxCopy.rhythm})` : ''}` : 'no bound'}` +
      `, held-out melodies ${r.heldOutMelodies.longestCopy.tokens} / ${r.heldOutMelodies.longestCopy.rhythm}`,
  ];
}
