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
import { intervalSemitones, type Midi } from '../music/pitch.ts';
import type { Rng } from '../music/rng.ts';
import { quantizeTicks, TWELFTHS_PER_QUARTER, type Twelfths } from '../music/time.ts';
import { copyStatsOf, rebound, type CopyGuard, type CopyState } from './copyGuard.ts';
import { sample, type SamplerOptions } from './sampler.ts';
import type { LstmSession, SessionState, StepOutput } from './lstmSession.ts';
import type { AbcState } from './abcImproviser.ts';
import type { Note, TypedNote } from '../music/note.ts';

/**
 * The grammar line's biases, measured with `improv eval --model models/folk` (the held-out tunes'
 * figures beside): form memory 0 → 2 → 3 took bars that recur within a line from 8 % to 31–45 % and
 * 36–51 % (held out 54 %) on seeds 5 and 6; over seeds 1–10, 3 → 5 took them from 37.5 % to 47.9 %
 * on average and answers' motifs shared with their call from 14.9 % to 18.4 % (target 15–60 %; 6 and
 * 9 of the 10 seeds at 15 % or more), chord tones 72.4 → 71.7 %, 3/4 density 3.54 either way. The
 * cadence 0 → 3 → 5 took endings on the tonic from 30 % to 58–72 % and 90–92 % (held out 72 %);
 * chord tones on the beat 0 → 0.5 → 1 took chord tones from 67–69 % to 71 % and 76 % (held out 73 %).
 */
export const DEFAULT_LINE_FORM_BIAS = 5;
/** The cadence's default strength (JazzImproviser.cadenceBias): tonic endings 70 / 86 / 76 % on seeds 5 / 7 / 9. */
export const DEFAULT_CADENCE_BIAS = 4;
/** The on-the-beat chord-tone bias's default strength (JazzImproviser.beatChordBias). */
export const DEFAULT_BEAT_CHORD_BIAS = 0.5;

/** Where a line ends and the tonic it goes home to (the draws that reach `to` are a cadence). */
interface Ending {
  readonly to: Twelfths;
  readonly tonic: number;
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
  /**
   * Whether it sounds as the restated element did against its chord then: a rest, a chord tone, or
   * the same kind of tone. Where the chord has moved under it and its intervals land on another kind
   * of tone, form memory leaves it to the model. (Asking for the same chord as well kept answers from
   * taking up a call over the next chords: motifs shared with the call fell from 17–18 % to 9–11 %.)
   */
  readonly alike: boolean;
}

const snap = (t: number): Twelfths => quantizeTicks(Math.max(0, Math.round(t * 4)), 4 * TWELFTHS_PER_QUARTER);

/** Encodes a played phrase (monophonic: the top note of simultaneous ones) as grammar tokens, with rests for the gaps. */
export function encodePhrase(
  notes: readonly Note[],
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
    notes: readonly Note[],
    chordAt: (t: Twelfths) => ChordAnalysis,
    barLength: Twelfths,
  ): Promise<{ tokens: number; outOfVocabulary: number }>;
  /**
   * Plays on from `from` until at least `to`. `cadence`: the line ends at `to` (an answer, a whole
   * line), so its last note goes to the key's tonic where its token allows; a model without a key
   * ignores it.
   */
  play(
    from: Twelfths,
    to: Twelfths,
    chordAt: (t: Twelfths) => ChordAnalysis,
    cadence?: boolean,
  ): Promise<{ notes: TypedNote[]; end: Twelfths }>;
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
  /**
   * Form memory for a model with repeat markers: added to the logit of each marker that plays
   * something here, so the line restates its bar, its bar before last or its phrase more often than
   * the model alone does (a bias, never a rewrite; 0: the model's own choice). Live, the call is
   * the line's past, so this is also how strongly an answer takes up the call.
   */
  formBias = DEFAULT_LINE_FORM_BIAS;
  /**
   * The cadence: where a line ends (an answer, a whole line), added to the logit of each token that,
   * drawn here, reaches the end and can sound the key's tonic there (its type and bracket hold it);
   * the decoder then takes the tonic (decode.ts `home`). 0: the model's own ending.
   */
  cadenceBias = DEFAULT_CADENCE_BIAS;
  /**
   * Added to the logit of each chord-tone token (and restatement that sounds one) drawn on a beat:
   * a line leans on the harmony where it is heard most. 0: the model's own choice.
   */
  beatChordBias = DEFAULT_BEAT_CHORD_BIAS;
  /**
   * An answer that says something: while a line that ends at `to` (an answer) has sounded no note,
   * a rest that would reach its end is not drawn. A model that knows whole-bar rests (the jazz model,
   * from the solo's `R,4.000`) could otherwise answer a one-bar call with silence, and the player
   * hears nothing. Off in the faithful profile (the seed's choices).
   */
  keepsSounding = true;
  /** The draw's logits with the form and cadence biases added (reused). */
  private readonly biased: Float32Array;
  /** Each token's bracket in semitones (low, high), null for a rest, a marker or no bracket. */
  private readonly spans: readonly (readonly [number, number] | null)[];
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
    this.biased = new Float32Array(session.vocabulary.length);
    this.spans = this.tokens.map((t) => {
      if (!t?.bracket) return null;
      const a = intervalSemitones(t.bracket.up);
      const b = intervalSemitones(t.bracket.lo);
      return a === null || b === null ? null : [Math.min(a, b), Math.max(a, b)];
    });
    this.grid = gridFor(jazz?.onsetGrid, this.meter);
    if (session.manifest.training.profile === 'faithful') {
      // the seed's profile plays as the seed did: the model's own choices
      this.formBias = 0;
      this.cadenceBias = 0;
      this.beatChordBias = 0;
      this.keepsSounding = false;
    }
    this.setMaxCopy(maxCopy);
    // a new improviser starts the conversation: the session may hold another's state (a reload's
    // improvisers come to the sessions the old engine played), and this one knows none of it
    this.session.reset();
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
  private draw(
    modelLogits: Float32Array,
    at: Twelfths,
    ending: Ending | null = null,
    prev: Midi | null = null,
    chord: ChordAnalysis | null = null,
    silentTo: Twelfths | null = null,
  ): number {
    const g = this.guard;
    let logits = modelLogits;
    const cadence = ending && chord && this.cadenceBias ? ending : null;
    const onBeat = this.beatChordBias !== 0 && mod(at, this.meter.beat) === 0;
    if ((this.formBias && this.resolved.size) || cadence || onBeat) {
      logits = this.biased;
      logits.set(modelLogits);
      for (const [m, r] of this.resolved) {
        // the cadence is the tonic's: a restatement that would end the line elsewhere gets no form bias
        const ends = ending !== null && at + r.token.dur >= ending.to;
        if (r.alike && !ends) logits[m] = (logits[m] as number) + this.formBias;
        if (onBeat && r.token.type === 'C') logits[m] = (logits[m] as number) + this.beatChordBias;
        if (cadence && ends && r.midi !== null && mod(r.midi, 12) === cadence.tonic)
          logits[m] = (logits[m] as number) + this.cadenceBias;
      }
      if (cadence && chord) this.biasCadence(logits, at, cadence, prev, chord);
      if (onBeat)
        this.tokens.forEach((t, id) => {
          if (t?.type === 'C') logits[id] = (logits[id] as number) + this.beatChordBias;
        });
    }
    const allowed = this.allowed;
    const onGrid = this.gridMask(at);
    if (onGrid) allowed.set(onGrid);
    else allowed.fill(1);
    const silent = silentTo !== null && this.maskSilence(allowed, at, silentTo);
    const masked = (g ? g.restrict(allowed) : false) || onGrid !== null || silent;
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

  /** Masks each rest that, drawn at `at`, reaches `to` (a marker that plays one follows its id); true where one was. */
  private maskSilence(allowed: Uint8Array, at: Twelfths, to: Twelfths): boolean {
    let any = false;
    this.tokens.forEach((t, id) => {
      if (t?.type === 'R' && at + t.dur >= to && allowed[id] === 1) {
        allowed[id] = 0;
        any = true;
      }
    });
    return any;
  }

  /**
   * Adds the cadence bias to each token that, drawn at `at`, reaches the line's end and can sound
   * its tonic: a pitch of the tonic's class in range, of the token's type over `chord`, in its
   * bracket from `prev` (without a bracket or a previous note, in the middle octave, as decode.ts draws).
   */
  private biasCadence(
    logits: Float32Array,
    at: Twelfths,
    ending: Ending,
    prev: Midi | null,
    chord: ChordAnalysis,
  ): void {
    const { low, high } = this.range;
    const homes: { midi: Midi; type: NoteType }[] = [];
    for (let p = low; p <= high; p++)
      if (mod(p, 12) === ending.tonic) homes.push({ midi: p, type: classifyNote(p, chord) });
    const center = (low + high) / 2;
    this.tokens.forEach((t, id) => {
      if (!t || t.type === 'R' || at + t.dur < ending.to) return;
      const span = prev === null ? null : this.spans[id];
      const home = homes.some((h) =>
        h.type !== t.type
          ? false
          : span && prev !== null
            ? h.midi >= prev + span[0] && h.midi <= prev + span[1]
            : Math.abs(h.midi - center) <= 6,
      );
      if (home) logits[id] = (logits[id] as number) + this.cadenceBias;
    });
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
        if (id !== undefined) this.resolved.set(m, { token, midi: null, id, alike: true });
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
      const alike = r.type === undefined || r.type === token.type || token.type === 'C';
      if (id !== undefined) this.resolved.set(m, { token, midi, id, alike });
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
    notes: readonly Note[],
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
      if (this.conditioned)
        this.conditioner.hear(at, tk.dur, midi, this.meter, tk.type === 'R' ? undefined : tk.type);
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
    cadence = false,
  ): Promise<{ notes: DecodedNote[]; end: Twelfths; tokens: string[] }> {
    this.keyFromHarmony(from, to, chordAt);
    // the seed's profile decodes as the seed did: against the chord alone
    const key = this.session.manifest.training.profile === 'faithful' ? null : this.key;
    // the note that reaches the line's end goes home
    const ending: Ending | null = cadence && key ? { to, tonic: key.tonic } : null;
    const homeFor = (at: Twelfths, t: GrammarToken): number | undefined =>
      ending && at + t.dur >= to ? ending.tonic : undefined;
    // an answer (a line that ends at `to`) with no note yet does not rest to its end
    const silentTo = (): Twelfths | null => (cadence && this.keepsSounding && notes.length === 0 ? to : null);
    const decoder = new LineDecoder(chordAt, this.range, this.rng, from, this.prev, key);
    const notes: DecodedNote[] = [];
    const tokens: string[] = [];
    if (this.conditioned) {
      if (this.pending === null && this.next === null) this.pending = this.session.startToken;
      while (decoder.time < to) {
        await this.feedPending(decoder.time, chordAt);
        const at = decoder.time;
        if (this.markers.length) this.resolveRepeats(at, decoder.prev, chordAt);
        const id = this.draw(
          (this.next as StepOutput).logits,
          at,
          ending,
          decoder.prev,
          chordAt(at),
          silentTo(),
        );
        const repeat = this.lags[id] ? (this.resolved.get(id) as Resolved) : null;
        const token = repeat ? repeat.token : (this.tokens[id] as GrammarToken);
        tokens.push(formatToken(token));
        const note = repeat
          ? decoder.pushPitch(token.dur, repeat.midi)
          : decoder.push(token, this.echo ? this.conditioner.echoes(at, this.meter) : [], homeFor(at, token));
        if (note) notes.push(note);
        this.conditioner.hear(at, token.dur, note?.midi ?? null, this.meter, note?.type);
        this.pending = id;
      }
      this.prev = decoder.prev;
      return { notes, end: decoder.time, tokens };
    }
    this.next ??= await this.session.step(this.session.startToken);
    while (decoder.time < to) {
      const at = decoder.time;
      const id = this.draw(this.next.logits, at, ending, decoder.prev, chordAt(at), silentTo());
      tokens.push(this.session.vocabulary[id] as string);
      const token = this.tokens[id] as GrammarToken; // an unconditioned model has no markers
      const note = decoder.push(token, [], homeFor(at, token));
      if (note) notes.push(note);
      this.next = await this.session.step(id);
    }
    this.prev = decoder.prev;
    return { notes, end: decoder.time, tokens };
  }
}
