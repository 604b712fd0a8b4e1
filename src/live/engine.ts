/**
 * The live improvisation engine, in musical terms (notes, beats, chords); src/midi adapts it to ports.
 * Modes:
 * - call and response: the player's phrase is captured until a silence (in beats), an end-call CC or a
 *   maximum length; it primes the improviser (whose state carries from turn to turn), and the answer
 *   lasts as long as the call (or a set number of bars), starting on the next beat;
 * - solo: continuous improvisation over the progression, generated ahead of need;
 * - follow: like solo, but notes below the split point are read as the current chord.
 * Output times are exact milliseconds on the engine's clock; generation runs ahead of them.
 */
import { chordAnalyzer, type ChordAnalysis } from '../music/chord.ts';
import { governingChord, type ChordEvent } from '../music/grammar.ts';
import type { Midi } from '../music/pitch.ts';
import { TWELFTHS_PER_QUARTER, type Twelfths } from '../music/time.ts';
import { answerSpan, CallCapture, clipTo } from './callCapture.ts';
import { CcMap, type ControlAction } from './ccMap.ts';
import type { Clock, Millis } from '../midi/clock.ts';
import type { Improviser, ImproviserSnapshot } from '../model/jazzImproviser.ts';
import { LeftHand } from './leftHand.ts';
import { Timeline } from './timeline.ts';
import { ENGINE_MODES, type EngineControl, type EngineMode } from './engineControl.ts';
import type { Note, TypedNote } from '../music/note.ts';

export { CONTROL_ACTIONS, DEFAULT_CC_MAP, TEMPO_CC_BASE, type ControlAction } from './ccMap.ts';
export { ENGINE_MODES, type EngineControl, type EngineMode } from './engineControl.ts';

export type EngineState = 'idle' | 'listening' | 'responding';

/** The CC on which the engine reports its state: 0 idle, 64 listening, 127 responding. */
export const STATE_CC = 26;

export type EngineInput =
  | { readonly type: 'noteon'; readonly note: Midi; readonly velocity: number }
  | { readonly type: 'noteoff'; readonly note: Midi }
  | { readonly type: 'cc'; readonly controller: number; readonly value: number };

export type EngineOutput =
  /** An answer's note, in the clock's milliseconds; its type is what it is against the chord it was decoded against. */
  | ({ readonly kind: 'note'; readonly velocity: number } & TypedNote<Millis>)
  | { readonly kind: 'state'; readonly state: EngineState }
  /** Drop everything scheduled and release what sounds (panic, stop, a new call over an answer). */
  | { readonly kind: 'cancel' }
  | { readonly kind: 'log'; readonly line: string }
  /** Generation started by an input (mutate, end call) failed: the live session recovers as from a failed fill. */
  | { readonly kind: 'failed'; readonly error: unknown }
  /**
   * A CC asked for a change that every control door shares (temperature, model, mode, tempo, panic):
   * the live session's control surface applies it, with its one set of limits.
   */
  | { readonly kind: 'control'; readonly control: EngineControl };

export interface EngineOptions {
  readonly bpm: number;
  readonly barLength: Twelfths;
  readonly progression: readonly (readonly ChordEvent[])[];
  readonly mode: EngineMode;
  /** Silence that ends a call, in beats. */
  readonly silenceBeats: number;
  /** Longest call, in beats. */
  readonly maxCallBeats: number;
  /** Answer length in bars; 0 answers as long as the call. */
  readonly responseBars: number;
  /** Follow mode: notes below this are the chord. */
  readonly split: Midi;
  readonly velocity: number;
  /** How far ahead solo and follow modes generate, in beats. */
  readonly aheadBeats: number;
}

export const DEFAULT_ENGINE_OPTIONS: Omit<EngineOptions, 'progression'> = {
  bpm: 120,
  barLength: 4 * TWELFTHS_PER_QUARTER,
  mode: 'call-response',
  silenceBeats: 1.5,
  maxCallBeats: 16,
  responseBars: 0,
  split: 60,
  velocity: 90,
  aheadBeats: 2,
};

export interface EngineStats {
  calls: number;
  responses: number;
  notesOut: number;
  /** Milliseconds from the end of the last call to its first answer note being scheduled (compute only). */
  lastResponseLatency: Millis | null;
  /** Where the last answer begins (a beat). */
  lastResponseStart: Millis | null;
  outOfVocabulary: number;
}

/**
 * The call-and-answer engine: modes, generation ahead of need, the answer to a call, and the state it
 * reports. What it builds on are units of their own: the transport (Timeline), the player's call as
 * it is played (CallCapture), follow mode's chord memory (LeftHand) and the CC map (CcMap).
 */
export class Engine {
  private state: EngineState = 'idle';
  /** STOP (or PANIC): nothing is heard or played until resumed. */
  private stopped = false;
  private readonly timeline: Timeline;
  private mode: EngineMode;
  private readonly call = new CallCapture();
  private readonly leftHand = new LeftHand();
  private readonly cc: CcMap;
  private horizon: Twelfths | null = null;
  private busy = false;
  private responseEnd: Millis = 0;
  /** The last call, and the improviser that heard it as it stood before (what MUTATE goes back to). */
  private lastCall: { notes: Note[]; by: Improviser; before: ImproviserSnapshot } | null = null;
  private modelIndex = 0;
  private responseBars: number;
  private progression: readonly (readonly ChordEvent[])[];
  /**
   * Counts panics, mode changes and restarts: generation that was under way when one came (awaiting
   * the model) sees the count changed and drops its notes, so nothing planned before a panic sounds
   * after it.
   */
  private epoch = 0;
  readonly stats: EngineStats = {
    calls: 0,
    responses: 0,
    notesOut: 0,
    lastResponseLatency: null,
    lastResponseStart: null,
    outOfVocabulary: 0,
  };
  private readonly analysisOf = chordAnalyzer();

  constructor(
    private readonly improvisers: readonly Improviser[],
    private readonly clock: Clock,
    private readonly opts: EngineOptions,
    emit: (o: EngineOutput) => void,
    ccMap: Partial<Record<ControlAction, number>> = {},
  ) {
    if (improvisers.length === 0) throw new RangeError('engine: no model loaded');
    if (opts.progression.length === 0) throw new RangeError('engine: the chord progression is empty');
    this.timeline = new Timeline(clock, opts.bpm);
    this.mode = opts.mode;
    this.responseBars = opts.responseBars;
    this.progression = opts.progression;
    this.cc = new CcMap(ccMap, ENGINE_MODES);
    // a retired engine (replaced by a reload) says nothing more: a late cancel or note of its own
    // would land on the engine that replaced it
    this.emit = (o) => {
      if (!this.retired) emit(o);
    };
  }

  private readonly emit: (o: EngineOutput) => void;
  /** Replaced by a reload: it plays, hears and says nothing more. */
  private retired = false;
  /** Who waits for the work under way (a model call) to end: `retire` does. */
  private settled: (() => void)[] = [];

  /** The CC numbers of the controls (as remapped and learned). */
  get ccMap(): Readonly<Record<ControlAction, number>> {
    return this.cc.map;
  }
  get currentState(): EngineState {
    return this.state;
  }
  get currentMode(): EngineMode {
    return this.mode;
  }
  get tempo(): number {
    return this.timeline.tempo;
  }
  get improviser(): Improviser {
    return this.improvisers[this.modelIndex] as Improviser;
  }
  get model(): number {
    return this.modelIndex;
  }
  /** The chord sounding now (from the left hand in follow mode, else the progression). */
  get chordNow(): ChordAnalysis {
    return this.chordAt(this.twelfthsAt(this.clock.now()));
  }

  // ---- time (the transport) ----
  twelfthsAt(ms: Millis): Twelfths {
    return this.timeline.twelfthsAt(ms);
  }
  msAt(t: Twelfths): Millis {
    return this.timeline.msAt(t);
  }

  /** Changes tempo without moving the current musical position. */
  setTempo(bpm: number): void {
    this.timeline.setTempo(bpm);
  }

  /**
   * Follows an outside clock: `t` fell at `at` (ms), and the tempo is `bpm`. Re-anchors the timeline
   * there without dropping what is planned (unlike setPosition): small corrections every tick keep
   * the beat locked to the clock instead of drifting with the tempo estimate's error.
   */
  follow(bpm: number, t: Twelfths, at: Millis): void {
    this.timeline.follow(bpm, t, at);
  }

  /** Moves the musical position (Song Position Pointer, Start); generation starts again from there. */
  setPosition(t: Twelfths): void {
    this.timeline.jump(t);
    this.horizon = null;
  }

  /** The chord at a time: the left hand's in follow mode when it holds one, else the looping progression. */
  chordAt = (t: Twelfths): ChordAnalysis => {
    const left = this.mode === 'follow' ? this.leftHand.chord : null;
    if (left) return left;
    const bar = Math.floor(t / this.opts.barLength);
    const prog = this.progression;
    const chords = prog[((bar % prog.length) + prog.length) % prog.length] as readonly ChordEvent[];
    return this.analysisOf(governingChord(chords, t - bar * this.opts.barLength).pitches);
  };

  private setState(s: EngineState): void {
    if (s === this.state) return;
    this.state = s;
    this.emit({ kind: 'state', state: s });
  }

  // ---- input ----
  input(e: EngineInput): void {
    const now = this.clock.now();
    if (e.type === 'cc') return this.control(e.controller, e.value);
    if (this.mode === 'follow' && e.note < this.opts.split) {
      if (e.type === 'noteon') this.leftHand.press(e.note);
      else this.leftHand.release(e.note);
      return;
    }
    if (this.mode !== 'call-response' || this.stopped) return;
    if (e.type === 'noteoff') return this.call.release(e.note, now);
    if (this.state === 'responding') this.emit({ kind: 'cancel' }); // the player takes the floor again
    if (this.state !== 'listening') {
      this.call.clear();
      this.setState('listening');
    }
    this.call.press(e.note, now);
  }

  private control(controller: number, value: number): void {
    const command = this.cc.read(controller, value, this.improvisers.length);
    switch (command?.kind) {
      case undefined:
        return;
      case 'learned':
        return this.emit({
          kind: 'log',
          line: `learned: ${command.action} is now CC ${command.controller}`,
        });
      case 'control':
        return this.emit(command);
      case 'mutate':
        return this.inBackground(this.mutate());
      case 'endCall':
        if (this.state === 'listening') this.inBackground(this.endCall());
        return;
    }
  }

  /** Work an input started: its failure is reported, never left to reject unseen (that would end the process). */
  private inBackground(work: Promise<void>): void {
    work.catch((error: unknown) => this.emit({ kind: 'failed', error }));
  }

  /** The next CC number received becomes the control for `action`. */
  learn(action: ControlAction): void {
    this.cc.learn(action);
  }

  setMode(mode: EngineMode): void {
    if (mode === this.mode) return;
    this.epoch++;
    this.emit({ kind: 'cancel' });
    this.mode = mode;
    this.horizon = null;
    this.call.clear();
    this.setState('idle');
  }

  setTemperature(t: number): void {
    for (const im of this.improvisers) im.sampler = { ...im.sampler, temperature: Math.max(0, t) };
  }

  /** Answers this many bars long from the next call on; 0: as long as the call. */
  setResponseBars(bars: number): void {
    if (!(Number.isInteger(bars) && bars >= 0))
      throw new RangeError(`response bars must be a whole number ≥ 0, got ${bars}`);
    this.responseBars = bars;
  }

  get answerBars(): number {
    return this.responseBars;
  }

  private copyBound: number | null = null;

  /** The copy bound every model plays under (null: each bundle's own default, 0: none). */
  setMaxCopy(maxCopy: number | null): void {
    for (const im of this.improvisers) im.setMaxCopy(maxCopy);
    this.copyBound = maxCopy;
  }

  get maxCopy(): number | null {
    return this.copyBound;
  }

  setTopP(p: number): void {
    for (const im of this.improvisers) im.sampler = { ...im.sampler, topP: p };
  }

  /** A new looping progression, from the next note generated on (what is scheduled stays). */
  setProgression(progression: readonly (readonly ChordEvent[])[]): void {
    if (progression.length === 0) throw new RangeError('engine: the chord progression is empty');
    this.progression = progression;
  }

  get barLength(): Twelfths {
    return this.opts.barLength;
  }

  /** The progression, one list of chord events a bar. */
  get chords(): readonly (readonly ChordEvent[])[] {
    return this.progression;
  }

  selectModel(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.improvisers.length) {
      throw new RangeError(`model index ${index} is outside 0..${this.improvisers.length - 1}`);
    }
    this.modelIndex = index;
  }

  get models(): number {
    return this.improvisers.length;
  }

  /** The work under way has ended (or failed): whoever waits for it is told. */
  private done(): void {
    this.busy = false;
    this.settled.splice(0).forEach((r) => r());
  }

  /**
   * Takes the engine out of play for the one a reload made: nothing it does from now on is heard,
   * what it was generating is dropped (its notes are never sent), and the promise resolves once the
   * model call under way, if any, has ended, so its models may then be disposed of safely.
   */
  retire(): Promise<void> {
    this.retired = true;
    this.stopped = true;
    this.epoch++;
    return this.whenSettled();
  }

  /** Resolves once the generation in flight (the model's steps for a line or an answer), if any, has ended. */
  whenSettled(): Promise<void> {
    return this.busy ? new Promise((r) => this.settled.push(r)) : Promise.resolve();
  }

  /** After a failure: a fresh generator state, nothing pending, listening again. */
  restart(): void {
    if (this.retired) return;
    this.epoch++;
    this.done();
    this.improviser.reset();
    this.call.clear();
    this.horizon = null;
    this.setState('idle');
  }

  /** All notes off now, and stopped until resumed (a panic means "quiet", not "play something else"). */
  panic(): void {
    this.setStopped(true);
  }

  /**
   * Stops (silences what sounds, drops what is planned, hears no call and plays nothing) or resumes:
   * the conversation takes up again from the next call or, solo, the next beat.
   */
  setStopped(stop: boolean): void {
    if (this.retired) return;
    if (stop) {
      this.epoch++;
      this.emit({ kind: 'cancel' });
      this.call.clear();
      this.horizon = null;
      this.setState('idle');
    }
    this.stopped = stop;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  // ---- time passing (called by the live session at every wake, with the window's end) ----
  async fill(windowEnd: Millis): Promise<void> {
    if (this.busy || this.stopped) return;
    const now = this.clock.now();
    if (this.mode === 'call-response') {
      if (this.state === 'responding' && now >= this.responseEnd) this.setState('idle');
      if (this.state !== 'listening') return;
      const beats = (ms: Millis): number => this.timeline.beatsIn(ms);
      if (this.call.over(now, beats, this.opts.silenceBeats, this.opts.maxCallBeats)) await this.endCall();
      return;
    }
    // solo and follow: keep generated material ahead of need
    const ahead = windowEnd + (this.opts.aheadBeats * 60_000) / this.timeline.tempo;
    this.horizon ??= Math.ceil(this.twelfthsAt(now) / TWELFTHS_PER_QUARTER) * TWELFTHS_PER_QUARTER;
    this.busy = true;
    const epoch = this.epoch;
    try {
      this.setState('responding');
      while (this.horizon !== null && this.msAt(this.horizon) < ahead) {
        const chunk = this.mode === 'follow' ? TWELFTHS_PER_QUARTER : this.opts.barLength;
        const from = this.horizon;
        const played = await this.improviser.play(from, from + chunk, this.chordAt);
        if (epoch !== this.epoch) return; // a panic came while the model ran
        this.sendNotes(played.notes);
        this.horizon = played.end;
      }
    } finally {
      this.done();
    }
  }

  private sendNotes(notes: readonly TypedNote[]): void {
    for (const n of notes) {
      const start = this.msAt(n.start);
      this.emit({
        kind: 'note',
        start,
        dur: this.msAt(n.start + n.dur) - start,
        midi: n.midi,
        velocity: this.opts.velocity,
        type: n.type,
        role: 'answer',
      });
      this.stats.notesOut++;
    }
  }

  /** Ends the call now: primes the improviser with it and schedules the answer from the next beat. */
  async endCall(): Promise<void> {
    if (this.busy || this.state !== 'listening') return;
    const ended = this.clock.now();
    const notes: Note[] = this.call.take(ended).map((p) => ({
      start: this.twelfthsAt(p.start),
      dur: this.twelfthsAt(p.start + p.dur) - this.twelfthsAt(p.start),
      midi: p.midi,
      role: 'call',
    }));
    if (notes.length === 0) {
      this.setState('idle');
      return;
    }
    this.stats.calls++;
    this.busy = true;
    try {
      const before = this.improviser.snapshot();
      this.lastCall = { notes, by: this.improviser, before };
      const epoch = this.epoch;
      const heard = await this.improviser.listen(notes, this.chordAt, this.opts.barLength);
      this.stats.outOfVocabulary += heard.outOfVocabulary;
      await this.answer(notes, ended, epoch);
    } finally {
      this.done();
    }
  }

  /**
   * Plays the answer to a call, unless a panic, mode change or restart has come since `epoch` (read
   * before the caller's first await on the model): then nothing of it is scheduled.
   */
  private async answer(notes: readonly Note[], ended: Millis, epoch: number): Promise<void> {
    if (epoch !== this.epoch) return; // it came while the model listened
    const now = this.twelfthsAt(this.clock.now());
    const { from, length } = answerSpan(notes, now, this.responseBars, this.opts.barLength);
    const end = from + length;
    const played = await this.improviser.play(from, end, this.chordAt, true);
    if (epoch !== this.epoch) return; // it came while the model played
    const clipped = clipTo(played.notes, end);
    this.stats.lastResponseLatency = this.clock.now() - ended;
    this.setState('responding');
    this.sendNotes(clipped);
    // the answer is over when its last note ends, not when its window closes: the page and the state
    // CC say "your turn" as soon as it has nothing more to play
    this.responseEnd = this.msAt(clipped.reduce((last, n) => Math.max(last, n.start + n.dur), from));
    this.stats.lastResponseStart = this.msAt(from);
    this.stats.responses++;
  }

  /** Answers the last call again, differently: back to the state before it, a new draw. */
  async mutate(): Promise<void> {
    if (!this.lastCall || this.busy || this.stopped || this.mode !== 'call-response') return;
    this.emit({ kind: 'cancel' });
    this.busy = true;
    const epoch = this.epoch;
    try {
      // the model CC may have switched models since: the new one hears the call from where it stands
      if (this.lastCall.by === this.improviser) this.improviser.restore(this.lastCall.before);
      await this.improviser.listen(this.lastCall.notes, this.chordAt, this.opts.barLength);
      await this.answer(this.lastCall.notes, this.clock.now(), epoch);
    } finally {
      this.done();
    }
  }

  /** When the last scheduled note ends (for a file source: exit after the last answer). */
  get quietAt(): Millis {
    return this.responseEnd;
  }

  get idle(): boolean {
    return !this.busy && this.state !== 'listening' && this.clock.now() >= this.responseEnd;
  }
}
