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
import { corpusConditions, corpusTokens, idsInVocabulary, type JazzCorpus } from '../music/corpus.ts';
import { readManifest } from '../music/bundle.ts';
import { BundleError } from '../music/errors.ts';
import { parseToken, type GrammarToken } from '../music/grammar.ts';
import { createRng } from '../music/rng.ts';
import { readCorpora, tuneId } from '../train/jazz.ts';
import { generateSolo } from '../model/solo.ts';
import type { SamplerOptions } from '../model/sampler.ts';
import { LstmSession } from '../model/lstmSession.ts';

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
  };
  readonly heldOutMelodies: {
    readonly chordTones: number;
    readonly chordOrScale: number;
    readonly rhythmCopied: number;
  };
}

/** A line's rhythm: each token's length, a rest marked apart from a note. */
const rhythmOf = (tokens: readonly GrammarToken[]): string[] =>
  tokens.map((t) => (t.type === 'R' ? `r${t.dur}` : String(t.dur)));

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
  opts: { seed: number; sampler: SamplerOptions; maxLines?: number; data?: readonly string[] },
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
  // baselines, counted on the training tokens (start = V)
  const uni = new Float64Array(V);
  const bi = new Map<number, Map<number, number>>();
  const ctx = new Float64Array(V + 1);
  for (const c of train) {
    let prev = V;
    for (const t of corpusTokens(c)) {
      const id = index.get(t);
      if (id === undefined) continue;
      uni[id] = (uni[id] as number) + 1;
      const row = bi.get(prev) ?? new Map<number, number>();
      row.set(id, (row.get(id) ?? 0) + 1);
      bi.set(prev, row);
      ctx[prev] = (ctx[prev] as number) + 1;
      prev = id;
    }
  }
  const N = uni.reduce((a, b) => a + b, 0);
  const pUni = (id: number): number => ((uni[id] as number) + 1) / (N + V);
  const session = await LstmSession.load(modelDir);
  let scored = 0;
  let total = 0;
  let oov = 0;
  let nllModel = 0;
  let nllUni = 0;
  const smoothings = [1, 5, 20, 100, 500];
  const nllBi = smoothings.map(() => 0);
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
      let prev = V;
      ids.forEach((id, t) => {
        scored++;
        nllModel -= Math.log(Math.max(probs[t * V + id] as number, 1e-12));
        nllUni -= Math.log(pUni(id));
        const row = bi.get(prev);
        smoothings.forEach((mu, s) => {
          const p = ((row?.get(id) ?? 0) + mu * pUni(id)) / ((ctx[prev] as number) + mu);
          nllBi[s] = (nllBi[s] as number) - Math.log(p);
        });
        prev = id;
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
      const solo = await generateSolo(session, {
        bars: bars.length,
        progression: bars.map((b) => b.chords),
        barLength: c.barLength,
        beat: c.beat,
        sampler: opts.sampler,
        range: {
          low: Math.min(...c.melodyPitches),
          high: Math.max(Math.max(...c.melodyPitches), Math.min(...c.melodyPitches) + 12),
        },
        rng: createRng(`${opts.seed}:${i}`),
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
    const best = Math.min(...nllBi);
    return {
      heldOutTunes: held.length,
      heldOutTokens: total,
      outOfVocabulary: oov,
      model: nllModel / scored,
      unigram: nllUni / scored,
      bigram: best / scored,
      bigramSmoothing: smoothings[nllBi.indexOf(best)] as number,
      generated: {
        lines: generated.length,
        notes,
        chordTones: notes ? chordTones / notes : 0,
        chordOrScale: notes ? chordOrScale / notes : 0,
        rhythmCopied: copiedShare(generated, known),
      },
      heldOutMelodies: {
        ...own,
        rhythmCopied: copiedShare(
          held.map((c) => c.bars.flatMap((b) => b.tokens)),
          known,
        ),
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
  ];
}
