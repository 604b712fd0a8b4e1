/**
 * A file scored under a model, set against the model's own training part (the bundle's copy index):
 * unigram and bigram baselines over its vocabulary, and the longest run the file shares with the
 * training data, token by token and (grammar models) rhythm by rhythm. What `improv eval --data`
 * prints beside the model's NLL, as the built-in split does.
 */
import {
  abcMusicLines,
  joinLines,
  onsetIntervals,
  readCopyIndex,
  rhythmClasses,
} from '../music/copyIndex.ts';
import { idsInVocabulary } from '../music/corpus.ts';
import type { LstmSession } from '../model/lstmSession.ts';
import { NgramBaselines, type BaselineScore } from './baselines.ts';

export interface AgainstTraining {
  readonly baselines: BaselineScore;
  /**
   * The longest run of the file (in the vocabulary, each sequence apart) found in the training data:
   * tokens, rhythm classes and onsets (grammar models; null for the char model).
   */
  readonly longestCopy: {
    readonly tokens: number;
    readonly rhythm: number | null;
    readonly onsets: number | null;
  };
}

/** null where the bundle carries no training index (an older bundle): nothing to count on. */
export function againstTraining(
  session: LstmSession,
  sequences: readonly (readonly string[])[],
): AgainstTraining | null {
  const training = readCopyIndex(session.dir, session.manifest);
  const index = session.copyIndex();
  if (!training || !index) return null;
  const vocab = new Map(session.vocabulary.map((v, i) => [v, i]));
  const ids = sequences.map((s) => idsInVocabulary(s, vocab, null, 0).ids);
  const baselines = new NgramBaselines(training, session.vocabulary.length).score(ids);
  // the char model's copies are counted line by line in the tunes' bodies, as its bound holds them
  const music =
    session.manifest.kind === 'abc-char'
      ? ids.map((s) => joinLines(abcMusicLines(s, session.vocabulary)))
      : ids;
  const longest = (f: (seq: readonly number[]) => number): number =>
    music.reduce((m, s) => Math.max(m, f(s)), 0);
  const { rhythm, onsets, rhythmOf } = index;
  return {
    baselines,
    longestCopy: {
      tokens: longest((s) => index.tokens.longest(s)),
      rhythm: rhythm && rhythmOf ? longest((s) => rhythm.longest(rhythmClasses(s, rhythmOf))) : null,
      onsets: onsets && rhythmOf ? longest((s) => onsets.longest(onsetIntervals(s, rhythmOf))) : null,
    },
  };
}
