/**
 * A jazz improviser that keeps the conversation: the LSTM state carries over from call to call.
 * `listen` encodes a played phrase into grammar tokens against the chords and primes the session with
 * them; `play` continues generating from wherever the state is, decoding against the chords.
 */
import { classifyNote, type ChordAnalysis, type NoteType } from '../music/chord.ts';
import {
  Conditioner,
  LOOKBACK_FEATURES,
  mod,
  repeatLagOf,
  type ConditionerState,
  type Meter,
  type RepeatLag,
} from '../music/conditioning.ts';
import { addPitchWeight, inferKey, inKeyOrChord, type MusicalKey } from '../music/musicalKey.ts';
import { LineDecoder, type DecodedNote, type PitchRange } from '../music/decode.ts';
import { BundleError } from '../music/errors.ts';
import { gridFor } from '../music/onsetGrid.ts';
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
import type { AbcState } from './abcImproviser.ts';

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
  readonly keyWeights: readonly number[];
}

/** Parses every vocabulary entry once (grammar tokens only); a bundle with a malformed token is refused. */
export function parseVocabulary(vocab: readonly string[], where: string): GrammarToken[] {
  return vocab.map((v, i) => parseEntry(v, i, where));
}

/** One vocabulary entry as a grammar token; a malformed one names its place in the bundle. */
function parseEntry(v: string, i: number, where: string): GrammarToken {
  try {
    return parseToken(v);
  } catch (err) {
    if (err instanceof TokenFormatError) throw new BundleError(where, `vocabulary[${i}]`, err.message);
    throw err;
  }
}

/** A repeat marker's music at one place: the token it plays and its pitch (null: a rest). */
interface Resolved {
  readonly token: GrammarToken;
  readonly midi: Midi | null;
  /** The grammar token's id (what the copy bound follows); undefined where the vocabulary lacks it. */
  readonly id: number | undefined;
}

const snap = (t: number): Twelfths => quantizeTicks(Math.max(0, Math.round(t * 4)), 4 * TWELFTHS_PER_QUARTER);

/** Encodes a played phrase (monophonic: the top note of simultaneous ones) as grammar tokens, with rests for the gaps. */
export function encodePhrase(
  notes: readonly PlayedNote[],
  chordAt: (t: Twelfths) => ChordAnalysis,
  prev: Midi | null,
  barLength: Twelfths,
): { tokens: GrammarToken[]; pitches: (Midi | null)[]; last: Midi | null; start: Twelfths } {
  const sorted = [...notes]
    .map((n) => ({ start: snap(n.start), end: snap(n.start + n.dur), midi: n.midi }))
    .sort((a, b) => a.start - b.start || b.midi - a.midi);
  const mono = sorted.filter((n, i) => i === 0 || n.start !== (sorted[i - 1] as { start: number }).start);
  const tokens: GrammarToken[] = [];
  const pitches: (Midi | null)[] = [];
  let t = mono[0]?.start ?? 0;
  mono.forEach((n, i) => {
    if (n.start > t) {
      // a gap: rests, cut at bar lines as the corpus does
      let s = t;
      while (s < n.start) {
        const stop = Math.min(n.start, (Math.floor(s / barLength) + 1) * barLength);
        tokens.push({ type: 'R', dur: stop - s });
        pitches.push(null);
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
    pitches.push(n.midi);
    prev = n.midi;
    t = end;
  });
  return { tokens, pitches, last: prev, start: mono[0]?.start ?? 0 };
}

/** An improviser's state, tagged with its kind: a grammar line's or an ABC tune's. */
export type ImproviserSnapshot =
  | { readonly kind: 'grammar'; readonly state: ImproviserState }
  | { readonly kind: 'abc'; readonly state: AbcState };

/** Refuses a snapshot of another kind of improviser (a model switched between snapshot and restore). */
export function snapshotOf(s: ImproviserSnapshot, kind: 'grammar'): ImproviserState;
export function snapshotOf(s: ImproviserSnapshot, kind: 'abc'): AbcState;
export function snapshotOf(
  s: ImproviserSnapshot,
  kind: ImproviserSnapshot['kind'],
): ImproviserState | AbcState {
  if (s.kind !== kind)
    throw new TypeError(
      `a ${kind} improviser cannot restore ${s.kind === 'abc' ? 'an' : 'a'} ${s.kind} snapshot`,
    );
  return s.state;
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
  /** Where the line stands (model state, what it heard, its copy bound), to go back to (MUTATE). */
  snapshot(): ImproviserSnapshot;
  /** Goes back to a snapshot this improviser took (one of another kind is refused). */
  restore(state: ImproviserSnapshot): void;
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
  /** Each vocabulary entry as a grammar token; null for a repeat marker (its lag in `lags`). */
  private readonly tokens: readonly (GrammarToken | null)[];
  private readonly lags: readonly (RepeatLag | null)[];
  /** The repeat markers' ids, and what each plays at the place being drawn. */
  private readonly markers: readonly number[];
  private readonly resolved = new Map<number, Resolved>();
  private readonly index: Map<string, number>;
  private next: StepOutput | null = null;
  private prev: Midi | null = null;
  private pending: number | null = null;
  private readonly conditioner: Conditioner;
  private readonly condition: Float32Array;
  /** The key set by the caller (`--key`, a leadsheet's K:); null: inferred from what sounds. */
  private fixedKey: MusicalKey | null = null;
  /** What has sounded (calls and the chords under them), for the inferred key. */
  private keyWeights = new Array<number>(12).fill(0);
  /** Bar and beat of the line (what a conditioned model hears); default: the training meter. */
  readonly meter: Meter;
  private guard: CopyGuard | null = null;
  /**
   * Decode a token that restates the line's past note for note (decode.ts, DecodeContext.echo): on
   * for a model that hears lookback, which is what chooses to restate; off, the bracket's pitch is drawn.
   */
  echo: boolean;
  private readonly allowed: Uint8Array;
  /**
   * The rhythm guide (onsetGrid.ts): a token is drawn only if what follows it starts where the
   * training tunes start elements in this meter. On where the bundle holds a grid; off, the model's
   * own rhythm (what `--no-guide` plays, and the figure beside it).
   */
  rhythmGuide = true;
  private readonly grid: ((t: Twelfths) => boolean) | null;
  /** For each place in the bar, which tokens end on the grid (built once per place, on first use). */
  private readonly gridMasks = new Map<Twelfths, Uint8Array>();

  constructor(
    private readonly session: LstmSession,
    private readonly rng: Rng,
    public sampler: SamplerOptions,
    public range: PitchRange,
    meter?: Meter,
    maxCopy: number | null = null,
  ) {
    this.lags = session.vocabulary.map(repeatLagOf);
    this.tokens = session.vocabulary.map((v, i) => (this.lags[i] ? null : parseEntry(v, i, 'bundle')));
    this.markers = this.lags.flatMap((lag, i) => (lag ? [i] : []));
    this.index = new Map(session.vocabulary.map((v, i) => [v, i]));
    const jazz = session.manifest.jazz;
    this.meter = meter ?? {
      barLength: jazz?.barLength ?? 4 * TWELFTHS_PER_QUARTER,
      beat: jazz?.beat ?? TWELFTHS_PER_QUARTER,
    };
    this.conditioner = new Conditioner(session.conditionFeatures);
    this.echo = session.conditionFeatures.some((f) => LOOKBACK_FEATURES.includes(f));
    this.condition = new Float32Array(session.conditionWidth);
    this.allowed = new Uint8Array(session.vocabulary.length);
    this.grid = gridFor(jazz?.onsetGrid, this.meter);
    this.setMaxCopy(maxCopy);
  }

  /** The tokens that, drawn at `at`, end where the grid lets the next element start (markers: 1, judged by what they play). */
  private gridMask(at: Twelfths): Uint8Array | null {
    const grid = this.grid;
    if (!grid || !this.rhythmGuide) return null;
    const place = mod(at, this.meter.barLength);
    let mask = this.gridMasks.get(place);
    if (!mask) {
      mask = Uint8Array.from(this.tokens, (t) => (t === null || grid(place + t.dur) ? 1 : 0));
      this.gridMasks.set(place, mask);
    }
    return mask;
  }

  setMaxCopy(maxCopy: number | null): void {
    this.guard = rebound(this.session, maxCopy, this.guard);
  }

  get copyStats(): { binding: number; fallbacks: number } | null {
    return copyStatsOf(this.guard);
  }

  /**
   * One draw, under the copy bound where there is one; the line's copy state goes on with it. A repeat
   * marker may be drawn only where it plays something (`resolved`), and the bound judges the music it
   * plays.
   */
  private draw(logits: Float32Array, at: Twelfths): number {
    const g = this.guard;
    const allowed = this.allowed;
    const onGrid = this.gridMask(at);
    if (onGrid) allowed.set(onGrid);
    else allowed.fill(1);
    const masked = (g ? g.restrict(allowed) : false) || onGrid !== null;
    let any = false;
    for (const m of this.markers) {
      const r = this.resolved.get(m);
      allowed[m] = r && (r.id === undefined || allowed[r.id] === 1) ? 1 : 0;
    }
    if (masked || this.markers.length) for (const a of allowed) any ||= a === 1;
    const id =
      masked || this.markers.length
        ? sample(logits, this.sampler, this.rng, any ? (i) => allowed[i] === 1 : (i) => this.lags[i] === null)
        : sample(logits, this.sampler, this.rng);
    const musicId = this.lags[id] ? this.resolved.get(id)?.id : id;
    if (musicId === undefined) g?.reset();
    else g?.push(musicId);
    return id;
  }

  /** What each repeat marker would play at `at` after `prev` (conditioning.ts `restatement`). */
  private resolveRepeats(at: Twelfths, prev: Midi | null, chordAt: (t: Twelfths) => ChordAnalysis): void {
    this.resolved.clear();
    for (const m of this.markers) {
      const r = this.conditioner.restatement(at, this.lags[m] as RepeatLag, this.meter);
      if (!r) continue;
      // a restatement plays only music the vocabulary holds (so the copy bound can follow it), in the
      // range, and in the key or the chord that sounds now (the chord may have changed under it)
      if (r.interval === null) {
        const token: GrammarToken = { type: 'R', dur: r.dur };
        const id = this.index.get(formatToken(token));
        if (id !== undefined) this.resolved.set(m, { token, midi: null, id });
        continue;
      }
      if (prev === null) continue;
      const midi = prev + r.interval;
      if (midi < this.range.low || midi > this.range.high) continue;
      const chord = chordAt(at);
      if (!inKeyOrChord(midi, this.key, chord.pitchClasses)) continue;
      const token: GrammarToken = {
        type: classifyNote(midi, chord),
        dur: r.dur,
        bracket: bracketFor(prev, midi),
      };
      const id = this.index.get(formatToken(token));
      if (id !== undefined) this.resolved.set(m, { token, midi, id });
    }
  }

  private get conditioned(): boolean {
    return this.session.conditionWidth > 0;
  }

  /** Forgets the conversation: a fresh LSTM state (a key set with setKey stays). */
  reset(): void {
    this.session.reset();
    this.next = null;
    this.prev = null;
    this.pending = null;
    this.conditioner.reset();
    this.keyWeights.fill(0);
    this.conditioner.setKey(this.fixedKey);
    this.guard?.reset();
  }

  /**
   * The key the line is in: a model that hears the key hears it, and the decoder resolves scale and
   * approach tones in it. Null: inferred from the calls and the chords under them (musicalKey.ts).
   */
  setKey(key: MusicalKey | null): void {
    this.fixedKey = key;
    this.conditioner.setKey(key ?? inferKey(this.keyWeights));
  }

  /** The key the line is in now (set, or inferred; null before anything has sounded). */
  get key(): MusicalKey | null {
    return this.conditioner.musicalKey;
  }

  /** The key inferred from what has sounded, unless one was set. */
  private inferHeardKey(): void {
    if (!this.fixedKey) this.conditioner.setKey(inferKey(this.keyWeights));
  }

  snapshot(): ImproviserSnapshot {
    const state: ImproviserState = {
      session: this.session.snapshot(),
      next: this.next,
      prev: this.prev,
      pending: this.pending,
      heard: this.conditioner.state(),
      copies: this.guard?.state() ?? null,
      keyWeights: [...this.keyWeights],
    };
    return { kind: 'grammar', state };
  }

  restore(snapshot: ImproviserSnapshot): void {
    const s = snapshotOf(snapshot, 'grammar');
    this.session.restore(s.session);
    this.next = s.next;
    this.prev = s.prev;
    this.pending = s.pending;
    this.conditioner.setState(s.heard);
    this.keyWeights = [...s.keyWeights];
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
    const { tokens, pitches, last, start } = encodePhrase(notes, chordAt, this.prev, barLength);
    this.hearCall(tokens, pitches, start, chordAt);
    const ids: number[] = [];
    const W = this.session.conditionWidth;
    // a conditioned model hears each kept token's place before it (row k: at ids[k]'s onset); the
    // line's past (lookback) takes every element of the call, in the vocabulary or not, and an element
    // that restates it is fed as its repeat marker, as the model learnt tunes
    const rows: Float32Array[] = [];
    const markerId = new Map(this.markers.map((m) => [this.session.vocabulary[m] as string, m]));
    let oov = 0;
    let at = start;
    tokens.forEach((tk, i) => {
      const plain = this.index.get(formatToken(tk));
      const midi = pitches[i] ?? null;
      const marker = this.conditioned ? this.conditioner.repeatOf(at, tk.dur, midi, this.meter) : null;
      const id = (marker !== null ? markerId.get(marker) : undefined) ?? plain;
      if (plain === undefined)
        this.guard?.reset(); // the line as the model knows it breaks here
      else this.guard?.push(plain); // what the player played is part of the line the answer goes on from
      if (id === undefined) oov++;
      else {
        ids.push(id);
        if (this.conditioned)
          rows.push(this.conditioner.at(at, chordAt(at), this.meter, new Float32Array(W)));
      }
      if (this.conditioned) this.conditioner.hear(at, tk.dur, midi, this.meter);
      at += tk.dur;
    });
    if (ids.length > 0 && this.conditioned) {
      // inputs: what was pending (or the start), then each heard token but the last, each with what the
      // model hears at the next one's onset; the last waits for where the answer starts
      const inputs = [this.pending ?? this.session.startToken, ...ids.slice(0, -1)];
      const conditions = new Float32Array(inputs.length * W);
      rows.forEach((row, k) => conditions.set(row, k * W));
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

  /** A call's notes, and the chords under them, toward the inferred key. */
  private hearCall(
    tokens: readonly GrammarToken[],
    pitches: readonly (Midi | null)[],
    start: Twelfths,
    chordAt: (t: Twelfths) => ChordAnalysis,
  ): void {
    let t = start;
    tokens.forEach((tk, i) => {
      const p = pitches[i];
      if (p !== null && p !== undefined) addPitchWeight(this.keyWeights, p, tk.dur);
      for (const pc of chordAt(t).pitchClasses) addPitchWeight(this.keyWeights, pc, tk.dur / 2);
      t += tk.dur;
    });
    this.inferHeardKey();
  }

  /** With no key set and nothing heard yet, the key of the chords to be played over, beat by beat. */
  private keyFromHarmony(from: Twelfths, to: Twelfths, chordAt: (t: Twelfths) => ChordAnalysis): void {
    if (this.fixedKey || this.conditioner.musicalKey) return;
    const beat = this.meter.beat;
    for (let t = from; t < to; t += beat)
      for (const pc of chordAt(t).pitchClasses) addPitchWeight(this.keyWeights, pc, beat / 2);
    this.inferHeardKey();
  }

  /** Generates from `from` until at least `to` (twelfths), continuing the state; returns the decoded notes and where it stopped. */
  async play(
    from: Twelfths,
    to: Twelfths,
    chordAt: (t: Twelfths) => ChordAnalysis,
  ): Promise<{ notes: DecodedNote[]; end: Twelfths; tokens: string[] }> {
    this.keyFromHarmony(from, to, chordAt);
    // the seed's profile decodes as the seed did: against the chord alone
    const key = this.session.manifest.training.profile === 'faithful' ? null : this.key;
    const decoder = new LineDecoder(chordAt, this.range, this.rng, from, this.prev, key);
    const notes: DecodedNote[] = [];
    const tokens: string[] = [];
    if (this.conditioned) {
      if (this.pending === null && this.next === null) this.pending = this.session.startToken;
      while (decoder.time < to) {
        await this.feedPending(decoder.time, chordAt);
        const at = decoder.time;
        if (this.markers.length) this.resolveRepeats(at, decoder.prev, chordAt);
        const id = this.draw((this.next as StepOutput).logits, at);
        const repeat = this.lags[id] ? (this.resolved.get(id) as Resolved) : null;
        const token = repeat ? repeat.token : (this.tokens[id] as GrammarToken);
        tokens.push(formatToken(token));
        const note = repeat
          ? decoder.pushPitch(token.dur, repeat.midi)
          : decoder.push(token, this.echo ? this.conditioner.echoes(at, this.meter) : []);
        if (note) notes.push(note);
        this.conditioner.hear(at, token.dur, note?.midi ?? null, this.meter);
        this.pending = id;
      }
      this.prev = decoder.prev;
      return { notes, end: decoder.time, tokens };
    }
    this.next ??= await this.session.step(this.session.startToken);
    while (decoder.time < to) {
      const id = this.draw(this.next.logits, decoder.time);
      tokens.push(this.session.vocabulary[id] as string);
      const note = decoder.push(this.tokens[id] as GrammarToken); // an unconditioned model has no markers
      if (note) notes.push(note);
      this.next = await this.session.step(id);
    }
    this.prev = decoder.prev;
    return { notes, end: decoder.time, tokens };
  }
}
