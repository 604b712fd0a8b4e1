/**
 * A jazz improviser that keeps the conversation: the LSTM state carries over from call to call.
 * `listen` encodes a played phrase into grammar tokens against the chords and primes the session with
 * them; `play` continues generating from wherever the state is, decoding against the chords.
 */
import { classifyNote, type ChordAnalysis, type NoteType } from '../music/chord.ts';
import { LineDecoder, type DecodedNote, type PitchRange } from '../music/decode.ts';
import { BundleError } from '../music/errors.ts';
import {
  bracketFor,
  formatToken,
  parseToken,
  TokenFormatError,
  type GrammarToken,
} from '../music/grammar.ts';
import type { Midi } from '../music/pitch.ts';
import type { Rng } from '../music/rng.ts';
import { quantizeTicks, TWELFTHS_PER_QUARTER, type Twelfths } from '../music/time.ts';
import { sample, type SamplerOptions } from './sampler.ts';
import type { LstmSession, SessionState, StepOutput } from './session.ts';

/** A note as played, on the twelfths timeline (not yet quantized). */
export interface PlayedNote {
  readonly start: number;
  readonly dur: number;
  readonly midi: Midi;
}

export interface ImproviserState {
  readonly session: SessionState;
  readonly next: StepOutput | null;
  readonly prev: Midi | null;
}

/** Parses every vocabulary entry once; a bundle with a malformed token is refused. */
export function parseVocabulary(vocab: readonly string[], where: string): GrammarToken[] {
  return vocab.map((v, i) => {
    try {
      return parseToken(v);
    } catch (err) {
      if (err instanceof TokenFormatError) throw new BundleError(where, `vocabulary[${i}]`, err.message);
      throw err;
    }
  });
}

const snap = (t: number): Twelfths => quantizeTicks(Math.max(0, Math.round(t * 4)), 4 * TWELFTHS_PER_QUARTER);

/** Encodes a played phrase (monophonic: the top note of simultaneous ones) as grammar tokens, with rests for the gaps. */
export function encodePhrase(
  notes: readonly PlayedNote[],
  chordAt: (t: Twelfths) => ChordAnalysis,
  prev: Midi | null,
  barLength: Twelfths,
): { tokens: GrammarToken[]; last: Midi | null } {
  const sorted = [...notes]
    .map((n) => ({ start: snap(n.start), end: snap(n.start + n.dur), midi: n.midi }))
    .sort((a, b) => a.start - b.start || b.midi - a.midi);
  const mono = sorted.filter((n, i) => i === 0 || n.start !== (sorted[i - 1] as { start: number }).start);
  const tokens: GrammarToken[] = [];
  let t = mono[0]?.start ?? 0;
  mono.forEach((n, i) => {
    if (n.start > t) {
      // a gap: rests, cut at bar lines as the corpus does
      let s = t;
      while (s < n.start) {
        const stop = Math.min(n.start, (Math.floor(s / barLength) + 1) * barLength);
        tokens.push({ type: 'R', dur: stop - s });
        s = stop;
      }
    }
    const next = mono[i + 1];
    const end = Math.max(n.start + 1, next ? Math.min(n.end, next.start) : n.end);
    const type = classifyNote(n.midi, chordAt(n.start));
    tokens.push(
      prev === null
        ? { type, dur: end - n.start }
        : { type, dur: end - n.start, bracket: bracketFor(prev, n.midi) },
    );
    prev = n.midi;
    t = end;
  });
  return { tokens, last: prev };
}

/** What the live engine needs from a model: hear a phrase, then play on from the state it left. */
export interface Improviser {
  sampler: SamplerOptions;
  reset(): void;
  snapshot(): unknown;
  restore(state: unknown): void;
  listen(
    notes: readonly PlayedNote[],
    chordAt: (t: Twelfths) => ChordAnalysis,
    barLength: Twelfths,
  ): Promise<{ tokens: number; outOfVocabulary: number }>;
  play(
    from: Twelfths,
    to: Twelfths,
    chordAt: (t: Twelfths) => ChordAnalysis,
  ): Promise<{ notes: { start: Twelfths; dur: Twelfths; midi: Midi; type: NoteType }[]; end: Twelfths }>;
}

export class JazzImproviser implements Improviser {
  private readonly tokens: readonly GrammarToken[];
  private readonly index: Map<string, number>;
  private next: StepOutput | null = null;
  private prev: Midi | null = null;

  constructor(
    private readonly session: LstmSession,
    private readonly rng: Rng,
    public sampler: SamplerOptions,
    public range: PitchRange,
  ) {
    this.tokens = parseVocabulary(session.vocabulary, 'bundle');
    this.index = new Map(session.vocabulary.map((v, i) => [v, i]));
  }

  /** Forgets the conversation: a fresh LSTM state. */
  reset(): void {
    this.session.reset();
    this.next = null;
    this.prev = null;
  }

  snapshot(): ImproviserState {
    return { session: this.session.snapshot(), next: this.next, prev: this.prev };
  }

  restore(state: unknown): void {
    const s = state as ImproviserState;
    this.session.restore(s.session);
    this.next = s.next;
    this.prev = s.prev;
  }

  /** Primes the state with a played phrase; tokens outside the vocabulary are counted and skipped. */
  async listen(
    notes: readonly PlayedNote[],
    chordAt: (t: Twelfths) => ChordAnalysis,
    barLength: Twelfths,
  ): Promise<{ tokens: number; outOfVocabulary: number }> {
    const { tokens, last } = encodePhrase(notes, chordAt, this.prev, barLength);
    const ids: number[] = [];
    let oov = 0;
    for (const t of tokens) {
      const id = this.index.get(formatToken(t));
      if (id === undefined) oov++;
      else ids.push(id);
    }
    if (ids.length > 0) {
      const fresh = this.next === null;
      const out = await this.session.prime(fresh ? [this.session.startToken, ...ids] : ids);
      this.next = { probs: out.probs.slice(), logits: out.logits.slice() };
    }
    if (last !== null) this.prev = last;
    return { tokens: ids.length, outOfVocabulary: oov };
  }

  /** Generates from `from` until at least `to` (twelfths), continuing the state; returns the decoded notes and where it stopped. */
  async play(
    from: Twelfths,
    to: Twelfths,
    chordAt: (t: Twelfths) => ChordAnalysis,
  ): Promise<{ notes: DecodedNote[]; end: Twelfths; tokens: string[] }> {
    this.next ??= await this.session.step(this.session.startToken);
    const decoder = new LineDecoder(chordAt, this.range, this.rng, from, this.prev);
    const notes: DecodedNote[] = [];
    const tokens: string[] = [];
    while (decoder.time < to) {
      const id = sample(this.next.logits, this.sampler, this.rng);
      tokens.push(this.session.vocabulary[id] as string);
      const note = decoder.push(this.tokens[id] as GrammarToken);
      if (note) notes.push(note);
      this.next = await this.session.step(id);
    }
    this.prev = decoder.prev;
    return { notes, end: decoder.time, tokens };
  }
}
