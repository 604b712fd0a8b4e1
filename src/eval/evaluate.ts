/** Mean negative log-likelihood per token of a token stream under a bundle (tokens outside its vocabulary are counted and skipped). */
import { idsInVocabulary } from '../music/corpus.ts';
import type { LstmSession } from '../model/lstmSession.ts';
import { splitTunes } from '../music/abc/corpus.ts';

export interface NllReport {
  readonly tokens: number;
  readonly scored: number;
  readonly outOfVocabulary: number;
  /** Mean NLL in nats per scored token. */
  readonly nll: number;
  /** The same in bits. */
  readonly bitsPerToken: number;
  readonly perplexity: number;
}

/**
 * Scores `tokens` from a fresh state; a token outside the vocabulary is skipped (not fed, not scored).
 * A conditioned model takes each token's conditioning (`conditions`, conditionWidth values a token).
 */
export async function scoreTokens(
  session: LstmSession,
  tokens: readonly string[],
  conditions?: Float32Array,
): Promise<NllReport> {
  const index = new Map(session.vocabulary.map((v, i) => [v, i]));
  const W = session.conditionWidth;
  if (W > 0 && !conditions)
    throw new RangeError('a conditioned model is scored with the conditioning of its tokens');
  const kept = idsInVocabulary(tokens, index, W > 0 ? (conditions ?? null) : null, W);
  const { ids } = kept;
  const oov = kept.outOfVocabulary;
  const heard = W > 0 ? kept.conditions : undefined;
  if (ids.length === 0)
    return {
      tokens: tokens.length,
      scored: 0,
      outOfVocabulary: oov,
      nll: NaN,
      bitsPerToken: NaN,
      perplexity: NaN,
    };
  session.reset();
  const V = session.vocabulary.length;
  const { probs } = await session.run([session.startToken, ...ids.slice(0, -1)], heard);
  let nll = 0;
  ids.forEach((id, t) => {
    nll -= Math.log(Math.max(probs[t * V + id] as number, 1e-12));
  });
  const mean = nll / ids.length;
  return {
    tokens: tokens.length,
    scored: ids.length,
    outOfVocabulary: oov,
    nll: mean,
    bitsPerToken: mean / Math.LN2,
    perplexity: Math.exp(mean),
  };
}

/** Several reports as one (the mean over all their scored tokens). */
export function mergeReports(reports: readonly NllReport[]): NllReport {
  const scored = reports.reduce((n, r) => n + r.scored, 0);
  const nats = reports.reduce((n, r) => n + (r.scored ? r.nll * r.scored : 0), 0);
  const mean = scored ? nats / scored : NaN;
  return {
    tokens: reports.reduce((n, r) => n + r.tokens, 0),
    scored,
    outOfVocabulary: reports.reduce((n, r) => n + r.outOfVocabulary, 0),
    nll: mean,
    bitsPerToken: mean / Math.LN2,
    perplexity: Math.exp(mean),
  };
}

/**
 * Bits per character of ABC text. A model trained on whole tunes is scored as it plays: each tune
 * (with the blank line that ends it) from a fresh state; a window-trained one reads the text as one
 * stream, as it was trained.
 */
export async function scoreAbc(session: LstmSession, text: string): Promise<NllReport> {
  const tunes = splitTunes(text);
  if (!session.manifest.hyperparameters.wholeSequences || tunes.length === 0)
    return scoreTokens(session, [...text]);
  const reports: NllReport[] = [];
  for (const t of tunes) reports.push(await scoreTokens(session, [...`${t}\n\n`]));
  return mergeReports(reports);
}
