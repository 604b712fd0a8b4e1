/** Mean negative log-likelihood per token of a token stream under a bundle (tokens outside its vocabulary are counted and skipped). */
import type { LstmSession } from './session.ts';

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

/** Scores `tokens` from a fresh state; a token outside the vocabulary is skipped (not fed, not scored). */
export async function scoreTokens(session: LstmSession, tokens: readonly string[]): Promise<NllReport> {
  const index = new Map(session.vocabulary.map((v, i) => [v, i]));
  const ids: number[] = [];
  let oov = 0;
  for (const t of tokens) {
    const id = index.get(t);
    if (id === undefined) oov++;
    else ids.push(id);
  }
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
  const { probs } = await session.run([session.startToken, ...ids.slice(0, -1)]);
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
