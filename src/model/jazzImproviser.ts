/**
 * A jazz improviser that keeps the conversation: the LSTM state carries over from call to call.
 * `listen` encodes a played phrase into grammar tokens against the chords and primes the session with
 * them; `play` continues generating from wherever the state is, decoding against the chords.
 */
import { classifyNote, type ChordAnalysis, type NoteType } from '../music/chord.ts';
import { Conditioner, type ConditionerState, type Meter } from '../music/conditioning.ts';
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
import { copyStatsOf, rebound, type CopyGuard, type CopyState } from './copyGuard.ts';
import { sample, type SamplerOptions } from './sampler.ts';
import type { LstmSession, SessionState, StepOutput } from './lstmSession.ts';

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
  /** A conditioned model: the token not yet fed (its conditioning waits for where the line goes on). */
  readonly pending: number | null;
  readonly heard: ConditionerState;
  readonly copies: CopyState | null;
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
): { tokens: GrammarToken[]; last: Midi | null; start: Twelfths } {
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
  return { tokens, last: prev, start: mono[0]?.start ?? 0 };
}

/** What the live engine needs from a model: hear a phrase, then play on from the state it left. */
export interface Improviser {
  sampler: SamplerOptions;
  /** An ABC model's tune as written so far (notation for the stage page); others have none. */
  readonly tune?: string;
  reset(): void;
  /** The plagiarism bound (copyGuard.ts): null the bundle's default, 0 none, N tokens (and lengths). */
  setMaxCopy(maxCopy: number | null): void;
  /** How often the bound masked a draw, and how often it had to keep the shortest copy instead. */
  readonly copyStats: { readonly binding: number; readonly fallbacks: number } | null;
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

/**
 * The grammar model as an improviser. An unconditioned model (the seed's) hears only its tokens. A
 * conditioned one also hears, at each step, the chord and the place in bar and phrase where the token
 * it is about to choose will start (conditioning.ts); since that place is known only once the line is
 * asked to go on from somewhere, the last token heard or played is fed lazily (`pending`), at the next
 * `play`, with the conditioning of where that play starts.
 */
export class JazzImproviser implements Improviser {
  private readonly tokens: readonly GrammarToken[];
  private readonly index: Map<string, number>;
  private next: StepOutput | null = null;
  private prev: Midi | null = null;
  private pending: number | null = null;
  private readonly conditioner = new Conditioner();
  private readonly condition: Float32Array;
  /** Bar and beat of the line (what a conditioned model hears); default: the training meter. */
  readonly meter: Meter;
  private guard: CopyGuard | null = null;
  private readonly allowed: Uint8Array;

  constructor(
    private readonly session: LstmSession,
    private readonly rng: Rng,
    public sampler: SamplerOptions,
    public range: PitchRange,
    meter?: Meter,
    maxCopy: number | null = null,
  ) {
    this.tokens = parseVocabulary(session.vocabulary, 'bundle');
    this.index = new Map(session.vocabulary.map((v, i) => [v, i]));
    const jazz = session.manifest.jazz;
    this.meter = meter ?? {
      barLength: jazz?.barLength ?? 4 * TWELFTHS_PER_QUARTER,
      beat: jazz?.beat ?? TWELFTHS_PER_QUARTER,
    };
    this.condition = new Float32Array(session.conditionWidth);
    this.allowed = new Uint8Array(session.vocabulary.length);
    this.setMaxCopy(maxCopy);
  }

  setMaxCopy(maxCopy: number | null): void {
    this.guard = rebound(this.session, maxCopy, this.guard);
  }

  get copyStats(): { binding: number; fallbacks: number } | null {
    return copyStatsOf(this.guard);
  }

  /** One draw, under the copy bound where there is one; the line's copy state goes on with it. */
  private draw(logits: Float32Array): number {
    const g = this.guard;
    let id: number;
    if (g) {
      this.allowed.fill(1);
      const allowed = this.allowed;
      id = g.restrict(allowed)
        ? sample(logits, this.sampler, this.rng, (i) => allowed[i] === 1)
        : sample(logits, this.sampler, this.rng);
      g.push(id);
    } else id = sample(logits, this.sampler, this.rng);
    return id;
  }

  private get conditioned(): boolean {
    return this.session.conditionWidth > 0;
  }

  /** Forgets the conversation: a fresh LSTM state. */
  reset(): void {
    this.session.reset();
    this.next = null;
    this.prev = null;
    this.pending = null;
    this.conditioner.reset();
    this.guard?.reset();
  }

  snapshot(): ImproviserState {
    return {
      session: this.session.snapshot(),
      next: this.next,
      prev: this.prev,
      pending: this.pending,
      heard: this.conditioner.state(),
      copies: this.guard?.state() ?? null,
    };
  }

  restore(state: unknown): void {
    const s = state as ImproviserState;
    this.session.restore(s.session);
    this.next = s.next;
    this.prev = s.prev;
    this.pending = s.pending;
    this.conditioner.setState(s.heard);
    this.guard?.setState(s.copies ?? undefined);
  }

  /** Feeds the pending token with what the model hears at `t`, unless nothing is pending. */
  private async feedPending(t: Twelfths, chordAt: (t: Twelfths) => ChordAnalysis): Promise<void> {
    if (this.pending === null) return;
    this.conditioner.at(t, chordAt(t), this.meter, this.condition);
    this.next = await this.session.step(this.pending, this.condition);
    this.pending = null;
  }

  /** Primes the state with a played phrase; tokens outside the vocabulary are counted and skipped. */
  async listen(
    notes: readonly PlayedNote[],
    chordAt: (t: Twelfths) => ChordAnalysis,
    barLength: Twelfths,
  ): Promise<{ tokens: number; outOfVocabulary: number }> {
    const { tokens, last, start } = encodePhrase(notes, chordAt, this.prev, barLength);
    const ids: number[] = [];
    const onsets: Twelfths[] = [];
    let oov = 0;
    let t = start;
    for (const tk of tokens) {
      const id = this.index.get(formatToken(tk));
      if (id === undefined) {
        oov++;
        this.guard?.reset(); // the line as the model knows it breaks here
      } else {
        this.guard?.push(id); // what the player played is part of the line the answer goes on from
        ids.push(id);
        onsets.push(t);
      }
      t += tk.dur;
    }
    if (ids.length > 0 && this.conditioned) {
      // inputs: what was pending (or the start), then each heard token but the last, each with what the
      // model hears at the next one's onset; the last waits for where the answer starts
      const inputs = [this.pending ?? this.session.startToken, ...ids.slice(0, -1)];
      const W = this.session.conditionWidth;
      const conditions = new Float32Array(inputs.length * W);
      onsets.forEach((at, k) =>
        this.conditioner.at(at, chordAt(at), this.meter, conditions.subarray(k * W, (k + 1) * W)),
      );
      await this.session.run(inputs, conditions);
      this.pending = ids[ids.length - 1] as number;
      this.next = null;
    } else if (ids.length > 0) {
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
    const decoder = new LineDecoder(chordAt, this.range, this.rng, from, this.prev);
    const notes: DecodedNote[] = [];
    const tokens: string[] = [];
    if (this.conditioned) {
      if (this.pending === null && this.next === null) this.pending = this.session.startToken;
      while (decoder.time < to) {
        await this.feedPending(decoder.time, chordAt);
        const id = this.draw((this.next as StepOutput).logits);
        tokens.push(this.session.vocabulary[id] as string);
        const note = decoder.push(this.tokens[id] as GrammarToken);
        if (note) notes.push(note);
        this.pending = id;
      }
      this.prev = decoder.prev;
      return { notes, end: decoder.time, tokens };
    }
    this.next ??= await this.session.step(this.session.startToken);
    while (decoder.time < to) {
      const id = this.draw(this.next.logits);
      tokens.push(this.session.vocabulary[id] as string);
      const note = decoder.push(this.tokens[id] as GrammarToken);
      if (note) notes.push(note);
      this.next = await this.session.step(id);
    }
    this.prev = decoder.prev;
    return { notes, end: decoder.time, tokens };
  }
}
