/**
 * What a model must beat: unigram and bigram models over the same vocabulary, counted on the training
 * part. The unigram is add-one smoothed; the bigram is smoothed toward the unigram (Dirichlet, weight
 * μ), with the μ that scores the data best, so the baseline is as strong as it can be. Each sequence
 * starts from the start context (id = vocabulary size), as the model's does.
 */
export const BIGRAM_SMOOTHINGS = [1, 5, 20, 100, 500] as const;

export interface BaselineScore {
  /** Tokens scored. */
  readonly scored: number;
  /** Mean NLL in nats per token. */
  readonly unigram: number;
  readonly bigram: number;
  /** The μ the bigram was scored with (the best of BIGRAM_SMOOTHINGS). */
  readonly bigramSmoothing: number;
}

export class NgramBaselines {
  private readonly uni: Float64Array;
  private readonly bi = new Map<number, Map<number, number>>();
  private readonly ctx: Float64Array;
  private readonly total: number;

  constructor(
    training: Iterable<ArrayLike<number>>,
    private readonly vocabularySize: number,
  ) {
    const V = vocabularySize;
    this.uni = new Float64Array(V);
    this.ctx = new Float64Array(V + 1);
    let total = 0;
    for (const seq of training) {
      let prev = V;
      for (let i = 0; i < seq.length; i++) {
        const id = seq[i] as number;
        this.uni[id] = (this.uni[id] as number) + 1;
        const row = this.bi.get(prev) ?? new Map<number, number>();
        row.set(id, (row.get(id) ?? 0) + 1);
        this.bi.set(prev, row);
        this.ctx[prev] = (this.ctx[prev] as number) + 1;
        total++;
        prev = id;
      }
    }
    this.total = total;
  }

  private pUni(id: number): number {
    return ((this.uni[id] as number) + 1) / (this.total + this.vocabularySize);
  }

  /** Both baselines' NLL on `sequences` (token ids in the vocabulary). */
  score(sequences: Iterable<ArrayLike<number>>): BaselineScore {
    const V = this.vocabularySize;
    let scored = 0;
    let uni = 0;
    const bi = BIGRAM_SMOOTHINGS.map(() => 0);
    for (const seq of sequences) {
      let prev = V;
      for (let i = 0; i < seq.length; i++) {
        const id = seq[i] as number;
        scored++;
        const pu = this.pUni(id);
        uni -= Math.log(pu);
        const row = this.bi.get(prev);
        const n = this.ctx[prev] as number;
        BIGRAM_SMOOTHINGS.forEach((mu, s) => {
          bi[s] = (bi[s] as number) - Math.log(((row?.get(id) ?? 0) + mu * pu) / (n + mu));
        });
        prev = id;
      }
    }
    const best = Math.min(...bi);
    return {
      scored,
      unigram: scored ? uni / scored : NaN,
      bigram: scored ? best / scored : NaN,
      bigramSmoothing: BIGRAM_SMOOTHINGS[bi.indexOf(best)] as number,
    };
  }
}
