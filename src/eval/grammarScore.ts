/**
 * A grammar model's likelihood of a corpus's music, per grammar token. A lookback model reads a
 * restated element as its repeat marker (as it was trained); the music's likelihood at that step is
 * the grammar token's probability plus that of every marker that plays it (a lower bound: the path
 * fed is the marker's). So models with and without markers, and the n-gram baselines over grammar
 * tokens, are scored on the same thing. Tokens outside the vocabulary are counted and skipped.
 */
import { corpusConditions, corpusTokens, restatements, tokensFor, type JazzCorpus } from '../music/corpus.ts';
import { repeatLagOf } from '../music/conditioning.ts';
import type { LstmSession } from '../model/lstmSession.ts';
import type { NllReport } from './evaluate.ts';

export interface MusicScore extends NllReport {
  /** The grammar-token ids scored, in order (for the baselines, on the same tokens). */
  readonly musicIds: readonly number[];
}

export async function scoreMusic(session: LstmSession, c: JazzCorpus): Promise<MusicScore> {
  const vocab = session.vocabulary;
  const V = vocab.length;
  const index = new Map(vocab.map((v, i) => [v, i]));
  const W = session.conditionWidth;
  const music = corpusTokens(c);
  const reading = tokensFor(c, vocab);
  const ways = vocab.some((v) => repeatLagOf(v) !== null) ? restatements(c) : [];
  const keep = music.flatMap((t, k) => (index.has(t) ? [k] : []));
  const base = { tokens: music.length, scored: keep.length, outOfVocabulary: music.length - keep.length };
  if (keep.length === 0) return { ...base, nll: NaN, bitsPerToken: NaN, perplexity: NaN, musicIds: [] };
  const ids = keep.map((k) => index.get(reading[k] as string) ?? (index.get(music[k] as string) as number));
  const musicIds = keep.map((k) => index.get(music[k] as string) as number);
  const rows = W > 0 ? corpusConditions(c, session.conditionFeatures) : null;
  const conditions = rows ? new Float32Array(keep.length * W) : undefined;
  if (rows && conditions) keep.forEach((k, j) => conditions.set(rows.subarray(k * W, (k + 1) * W), j * W));
  session.reset();
  const { probs } = await session.run([session.startToken, ...ids.slice(0, -1)], conditions);
  let nll = 0;
  musicIds.forEach((id, t) => {
    let p = probs[t * V + id] as number;
    for (const m of ways[keep[t] as number] ?? []) p += probs[t * V + (index.get(m) as number)] as number;
    nll -= Math.log(Math.max(p, 1e-12));
  });
  const mean = nll / keep.length;
  return { ...base, nll: mean, bitsPerToken: mean / Math.LN2, perplexity: Math.exp(mean), musicIds };
}
