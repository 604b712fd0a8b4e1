/**
 * The plagiarism bound (`--max-copy`), live: a line may repeat at most N consecutive tokens of one of
 * the model's training sequences, and (grammar models) at most M consecutive steps of their rhythm,
 * because a line that keeps a solo's rhythm under new pitches is still heard as that solo. Rhythm is
 * matched two ways, both bounded by M: the tokens' lengths (a rest apart from a note), and the notes'
 * onsets (inter-onset intervals, where a rest lengthens the note before it), which is what a listener
 * hears as the same rhythm even where a note is held instead of followed by a rest. This is
 * Pachet and Roy's max-order constraint ("Avoiding plagiarism in Markov sequence generation", AAAI
 * 2014) carried over to a sampler: before each draw, the tokens that would make the match with the
 * training data longer than the bound are masked.
 *
 * One suffix automaton per projection (music/copies.ts) holds the line's longest suffix found in the
 * training data; a token can lengthen that match only if it is one of the transitions of the match's
 * state (or of the states up its suffix chain while the match stays past the bound), so a step looks at
 * a handful of transitions, whatever the training data's size.
 *
 * If the bound masks every token the caller allows, nothing is masked that cannot be: the draw keeps
 * the tokens whose copy would be shortest (counted in `fallbacks`), so the line never stalls.
 */
import type { BundleManifest } from '../music/bundle.ts';
import { SuffixAutomaton } from '../music/copies.ts';
import { onsetIntervals, rhythmClasses, type RhythmProjection } from '../music/copyIndex.ts';
import { BundleError } from '../music/errors.ts';
import type { LstmSession } from './lstmSession.ts';

export interface CopyLimit {
  /** Most consecutive tokens of a training sequence a line may repeat (0: no bound). */
  readonly tokens: number;
  /** Most consecutive rhythm classes (grammar models; 0 or null: no bound). */
  readonly rhythm: number | null;
}

/** The automata of one bundle's training data, built once and shared by every guard over it. */
export class CopyIndex {
  readonly tokens: SuffixAutomaton;
  /** Over the tokens' rhythm classes, and over the notes' inter-onset intervals (grammar models). */
  readonly rhythm: SuffixAutomaton | null;
  readonly onsets: SuffixAutomaton | null;
  /** For each rhythm class, the token ids that have it. */
  readonly byClass: readonly (readonly number[])[];
  /** Note token ids by their length, and rest token ids by theirs. */
  readonly notesByLength: ReadonlyMap<number, readonly number[]>;
  readonly restsByLength: ReadonlyMap<number, readonly number[]>;

  constructor(
    sequences: readonly ArrayLike<number>[],
    readonly vocabularySize: number,
    /** Null where the model has no rhythm projection (the char model). */
    readonly rhythmOf: RhythmProjection | null,
  ) {
    this.tokens = new SuffixAutomaton(sequences);
    const r = rhythmOf;
    this.rhythm = r ? new SuffixAutomaton(sequences.map((s) => rhythmClasses(s, r))) : null;
    this.onsets = r ? new SuffixAutomaton(sequences.map((s) => onsetIntervals(s, r))) : null;
    const byClass: number[][] = [];
    const notes = new Map<number, number[]>();
    const rests = new Map<number, number[]>();
    if (r)
      r.classOf.forEach((c, id) => {
        (byClass[c] ??= []).push(id);
        const into = r.rest[id] === 1 ? rests : notes;
        const len = r.lengthOf[id] as number;
        const ids = into.get(len);
        if (ids) ids.push(id);
        else into.set(len, [id]);
      });
    this.byClass = byClass;
    this.notesByLength = notes;
    this.restsByLength = rests;
  }
}

/** Where a line stands against the training data: its longest matched suffix on each projection. */
export interface CopyState {
  readonly tokenState: number;
  readonly tokenLength: number;
  readonly rhythmState: number;
  readonly rhythmLength: number;
  /** The match over the onsets whose interval is known (every note but the last). */
  readonly onsetState: number;
  readonly onsetLength: number;
  /** The last note's interval so far (its length and the rests after it); −1 before the first note. */
  readonly pending: number;
  /** ABC text (AbcCopyGuard): where the line stands, and a first letter held back. */
  readonly line?: AbcLine;
  readonly held?: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const FRESH: CopyState = {
  tokenState: 0,
  tokenLength: 0,
  rhythmState: 0,
  rhythmLength: 0,
  onsetState: 0,
  onsetLength: 0,
  pending: -1,
};

export class CopyGuard {
  private s: Mutable<CopyState> = { ...FRESH };
  /** Draws where the bound would have masked every allowed token (the shortest copies were kept). */
  fallbacks = 0;
  /** Draws where the bound masked at least one token. */
  binding = 0;
  private readonly blocked: Uint8Array;
  private readonly touched: number[] = [];

  constructor(
    readonly index: CopyIndex,
    public limit: CopyLimit,
  ) {
    this.blocked = new Uint8Array(index.vocabularySize);
  }

  private get rhythmBound(): number {
    return this.index.rhythmOf ? (this.limit.rhythm ?? 0) : 0;
  }

  /** Forgets the line: what comes next starts a new one. */
  reset(): void {
    this.s = { ...FRESH };
  }

  /** A copy of where the line stands (for a snapshot). */
  state(): CopyState {
    return { ...this.s };
  }

  setState(s: CopyState = FRESH): void {
    this.s = { ...s };
  }

  /** The line went on with token `id` (drawn, or heard from the player). Allocates nothing. */
  push(id: number): void {
    this.extend(id);
  }

  /** The match after `id`, on every projection (what `push` does, and no subclass changes). */
  private extend(id: number): void {
    const { tokens, rhythm, onsets, rhythmOf } = this.index;
    const s = this.s;
    s.tokenState = tokens.advance(s.tokenState, s.tokenLength, id);
    s.tokenLength = tokens.matched;
    if (!rhythm || !onsets || !rhythmOf) return;
    s.rhythmState = rhythm.advance(s.rhythmState, s.rhythmLength, rhythmOf.classOf[id] as number);
    s.rhythmLength = rhythm.matched;
    const len = rhythmOf.lengthOf[id] as number;
    if (rhythmOf.rest[id] === 1) {
      if (s.pending >= 0) s.pending += len;
    } else {
      if (s.pending >= 0) {
        s.onsetState = onsets.advance(s.onsetState, s.onsetLength, s.pending);
        s.onsetLength = onsets.matched;
      }
      s.pending = len;
    }
  }

  /** How far past its bound the longest copy would go after token `id` (any projection). */
  private overAfter(id: number): number {
    const saved = this.s;
    this.s = { ...saved };
    this.extend(id);
    const next = this.s;
    this.s = saved;
    const { onsets } = this.index;
    const R = this.rhythmBound;
    // the last note's onset interval as it stands, as if the line ended here
    const onset =
      onsets && next.pending >= 0
        ? onsets.step(next.onsetState, next.onsetLength, next.pending)[1]
        : next.onsetLength;
    return Math.max(
      next.tokenLength - this.limit.tokens,
      R > 0 ? Math.max(next.rhythmLength, onset) - R : -Infinity,
    );
  }

  /**
   * Clears from `allowed` (1 = may be drawn) each token that would make a copy longer than the bound;
   * if that would leave nothing, keeps instead the allowed tokens with the shortest copy. Returns
   * whether anything was masked. Costs a comparison or two while the line is short of the bound; past
   * it, the tokens it masks and one look over `allowed`.
   */
  restrict(allowed: Uint8Array): boolean {
    this.touched.length = 0;
    const s = this.s;
    const T = this.limit.tokens;
    const { tokens, rhythm, onsets } = this.index;
    if (T > 0 && s.tokenLength >= T)
      this.mark(tokens, s.tokenState, s.tokenLength, T, (id) => this.block(id));
    const R = this.rhythmBound;
    if (rhythm && onsets && R > 0) {
      if (s.rhythmLength >= R)
        this.mark(rhythm, s.rhythmState, s.rhythmLength, R, (c) => this.blockAll(this.index.byClass[c]));
      if (s.pending >= 0 && s.onsetLength >= R - 1) {
        // a note closes the last note's interval, then opens its own: both must stay within R
        const [closed, closedLength] = onsets.step(s.onsetState, s.onsetLength, s.pending);
        if (closedLength > R) for (const ids of this.index.notesByLength.values()) this.blockAll(ids);
        else if (closedLength >= R)
          this.mark(onsets, closed, closedLength, R, (len) =>
            this.blockAll(this.index.notesByLength.get(len)),
          );
        // a rest lengthens the last note's interval
        if (s.onsetLength >= R)
          for (const [len, ids] of this.index.restsByLength)
            if (onsets.step(s.onsetState, s.onsetLength, s.pending + len)[1] > R) this.blockAll(ids);
      }
    }
    const touched = this.touched;
    if (touched.length === 0) return false;
    let left = false;
    for (let i = 0; i < allowed.length && !left; i++)
      if (allowed[i] === 1 && this.blocked[i] !== 1) left = true;
    if (left) {
      for (const id of touched) allowed[id] = 0;
      this.binding++;
    } else {
      this.fallbacks++;
      this.keepShortest(allowed);
    }
    for (const id of touched) this.blocked[id] = 0;
    return true;
  }

  private block(id: number): void {
    if (this.blocked[id] === 1) return;
    this.blocked[id] = 1;
    this.touched.push(id);
  }

  private blockAll(ids: readonly number[] | undefined): void {
    for (const id of ids ?? []) this.block(id);
  }

  /**
   * Each symbol that, from a match of `length` in `state`, would give a match longer than `bound`: the
   * transitions of the state, then of the states up its suffix chain while their match plus one is
   * still past the bound. (A symbol's new match is decided by the first state on the chain that has
   * it; every state walked here is past the bound, so any transition met here is one to refuse.)
   */
  private mark(
    automaton: SuffixAutomaton,
    state: number,
    length: number,
    bound: number,
    onBlocked: (code: number) => void,
  ): void {
    let s = state;
    let m = length;
    while (s > 0 && m + 1 > bound) {
      const e = automaton.edgesOf(s);
      for (let i = 0; i < e.length; i += 2) {
        const code = e[i] as number;
        if (code !== SuffixAutomaton.SEPARATOR) onBlocked(code);
      }
      s = automaton.linkOf(s);
      m = automaton.lengthOf(s);
    }
  }

  /** Of the allowed tokens, keeps those whose longest resulting copy (any projection) is shortest. */
  private keepShortest(allowed: Uint8Array): void {
    let best = Infinity;
    const over = new Float64Array(allowed.length).fill(Infinity);
    for (let i = 0; i < allowed.length; i++)
      if (allowed[i] === 1) {
        over[i] = this.overAfter(i);
        best = Math.min(best, over[i] as number);
      }
    for (let i = 0; i < allowed.length; i++) if (allowed[i] === 1 && over[i] !== best) allowed[i] = 0;
  }
}

/** Where an ABC line stands: its start, a first letter that may open a header field, a header, or music. */
type AbcLine = 'start' | 'first' | 'header' | 'body';

/**
 * The bound for ABC text: on runs within the lines of the tunes' bodies (music/copyIndex.ts
 * abcMusicLines), so header lines (`M:6/8`, `L:1/8`, `K:D`, a title) are neither bounded nor counted,
 * and a newline starts the count again: headers are shared boilerplate, and the bar-true guide often
 * leaves only one way to write them or to end a line. A line's first letter is held until the next
 * character says whether it opens a header field (a colon) or music.
 */
export class AbcCopyGuard extends CopyGuard {
  private line: AbcLine = 'start';
  private held = -1;
  private readonly newline: number;
  private readonly colon: number;
  private readonly letter: Uint8Array;

  constructor(index: CopyIndex, limit: CopyLimit, vocabulary: readonly string[]) {
    super(index, limit);
    this.newline = vocabulary.indexOf('\n');
    this.colon = vocabulary.indexOf(':');
    this.letter = Uint8Array.from(vocabulary, (v) => (/^[A-Za-z]$/.test(v) ? 1 : 0));
  }

  override reset(): void {
    super.reset();
    this.line = 'start';
    this.held = -1;
  }

  override state(): CopyState {
    return { ...super.state(), line: this.line, held: this.held };
  }

  override setState(s?: CopyState): void {
    super.setState(s);
    this.line = s?.line ?? 'start';
    this.held = s?.held ?? -1;
  }

  override restrict(allowed: Uint8Array): boolean {
    if (this.line === 'header') return false;
    if (this.line !== 'first') return super.restrict(allowed);
    // after a first letter: a colon makes a header line; anything else goes on from the letter
    const saved = super.state();
    super.push(this.held);
    const colon = allowed[this.colon];
    const masked = super.restrict(allowed);
    if (this.colon >= 0 && colon !== undefined) allowed[this.colon] = colon;
    super.setState(saved);
    return masked;
  }

  override push(id: number): void {
    switch (this.line) {
      case 'header':
        if (id === this.newline) this.line = 'start';
        return;
      case 'first':
        if (id === this.colon) this.line = 'header';
        else if (id === this.newline) {
          super.reset(); // a line of one letter: its own run, then a new line
          this.line = 'start';
        } else {
          super.push(this.held);
          super.push(id);
          this.line = 'body';
        }
        this.held = -1;
        return;
      case 'start':
        if (id === this.newline) return;
        if (this.letter[id] === 1) {
          this.held = id;
          this.line = 'first';
          return;
        }
        super.push(id);
        this.line = 'body';
        return;
      case 'body':
        if (id === this.newline) {
          super.reset();
          this.line = 'start';
        } else super.push(id);
    }
  }
}

/**
 * An improviser's guard after a change of bound (`setMaxCopy`): a new one for the new limit, the line's
 * place against the training data kept.
 */
export function rebound(
  session: LstmSession,
  maxCopy: number | null,
  previous: CopyGuard | null,
): CopyGuard | null {
  const next = copyGuardFor(session, maxCopy);
  const state = previous?.state();
  if (next && state) next.setState(state);
  return next;
}

/** What a guard did, for the improviser's `copyStats`. */
export const copyStatsOf = (g: CopyGuard | null): { binding: number; fallbacks: number } | null =>
  g ? { binding: g.binding, fallbacks: g.fallbacks } : null;

/** The copy bound to play under: `maxCopy` null takes the bundle's default, 0 none, N that many on both projections. */
export function copyLimitFor(
  manifest: Pick<BundleManifest, 'kind' | 'copyBound'>,
  maxCopy: number | null,
): CopyLimit | null {
  if (maxCopy === 0) return null;
  if (maxCopy === null)
    return manifest.copyBound
      ? { tokens: manifest.copyBound.tokens, rhythm: manifest.copyBound.rhythm }
      : null;
  return { tokens: maxCopy, rhythm: manifest.kind === 'jazz-grammar' ? maxCopy : null };
}

/**
 * A guard for a session's bundle, or null where no bound applies. Asking for a bound (N > 0) of a bundle
 * that carries no training index is a BundleError: the bound cannot be kept, and playing on unbounded
 * would not be what was asked.
 */
export function copyGuardFor(session: LstmSession, maxCopy: number | null): CopyGuard | null {
  const limit = copyLimitFor(session.manifest, maxCopy);
  if (!limit) return null;
  const index = session.copyIndex();
  if (!index) {
    if (maxCopy === null) return null;
    throw new BundleError(
      session.dir,
      'training.copyIndex',
      'this bundle carries no training index, so --max-copy cannot be kept (retrain it)',
    );
  }
  return session.manifest.kind === 'abc-char'
    ? new AbcCopyGuard(index, limit, session.vocabulary)
    : new CopyGuard(index, limit);
}
