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
import { analyzeChord, chordAnalyzer, type ChordAnalysis, type NoteType } from '../music/chord.ts';
import { governingChord, type ChordEvent } from '../music/grammar.ts';
import type { Midi } from '../music/pitch.ts';
import { TWELFTHS_PER_QUARTER, type Twelfths } from '../music/time.ts';
import type { Clock, Millis } from './clock.ts';
import type { Improviser, PlayedNote } from './improviser.ts';

export type EngineMode = 'call-response' | 'solo' | 'follow';
export const ENGINE_MODES: readonly EngineMode[] = ['call-response', 'solo', 'follow'];
export type EngineState = 'idle' | 'listening' | 'responding';

export type ControlAction =
  'temperature' | 'model' | 'length' | 'mutate' | 'panic' | 'mode' | 'endCall' | 'tempo';
/** Default CC numbers of the live controls (remappable, and learnable). */
export const DEFAULT_CC_MAP: Readonly<Record<ControlAction, number>> = {
  temperature: 20,
  model: 21,
  length: 22,
  mutate: 23,
  panic: 24,
  mode: 25,
  endCall: 27,
  tempo: 28,
};
/** The tempo CC's range: value + 60 BPM, 60–187 in whole BPM. */
export const TEMPO_CC_BASE = 60;
/** The CC on which the engine reports its state: 0 idle, 64 listening, 127 responding. */
export const STATE_CC = 26;

export type EngineInput =
  | { readonly type: 'noteon'; readonly note: Midi; readonly velocity: number }
  | { readonly type: 'noteoff'; readonly note: Midi }
  | { readonly type: 'cc'; readonly controller: number; readonly value: number };

export type EngineOutput =
  | {
      readonly kind: 'note';
      readonly time: Millis;
      readonly dur: Millis;
      readonly note: Midi;
      readonly velocity: number;
      /** What the note is against the chord it was decoded against. */
      readonly type: NoteType;
    }
  | { readonly kind: 'state'; readonly state: EngineState }
  /** Drop everything scheduled and release what sounds (panic, stop, a new call over an answer). */
  | { readonly kind: 'cancel' }
  | { readonly kind: 'log'; readonly line: string }
  /**
   * A CC asked for a change that every control door shares (temperature, model, mode, tempo, panic):
   * the live session's control surface applies it, with its one set of limits.
   */
  | { readonly kind: 'control'; readonly control: EngineControl };

/** What the shared controls change (CC, HTTP and the stage page all come through these). */
export interface EngineControl {
  readonly temperature?: number;
  readonly topP?: number;
  readonly model?: number;
  readonly mode?: EngineMode;
  readonly bpm?: number;
  /** The looping progression, as chord symbols (one bar each). */
  readonly chords?: string;
  readonly panic?: true;
}

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

export class Engine {
  private state: EngineState = 'idle';
  private origin: Millis;
  private bpm: number;
  private mode: EngineMode;
  private readonly held = new Map<Midi, { start: Millis; velocity: number }>();
  private phrase: { start: Millis; end: Millis; midi: Midi }[] = [];
  private lastActivity: Millis = 0;
  private leftHand = new Set<Midi>();
  private leftChord: ChordAnalysis | null = null;
  private horizon: Twelfths | null = null;
  private busy = false;
  private responseEnd: Millis = 0;
  private lastCall: { notes: PlayedNote[]; before: ReturnType<Improviser['snapshot']> } | null = null;
  private learning: ControlAction | null = null;
  private modelIndex = 0;
  private responseBars: number;
  private progression: readonly (readonly ChordEvent[])[];
  /**
   * Counts panics, mode changes and restarts: generation that was under way when one came (awaiting
   * the model) sees the count changed and drops its notes, so nothing planned before a panic sounds
   * after it.
   */
  private epoch = 0;
  readonly ccMap: Record<ControlAction, number>;
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
    private readonly emit: (o: EngineOutput) => void,
    ccMap: Partial<Record<ControlAction, number>> = {},
  ) {
    if (improvisers.length === 0) throw new RangeError('engine: no model loaded');
    if (opts.progression.length === 0) throw new RangeError('engine: the chord progression is empty');
    this.origin = clock.now();
    this.bpm = opts.bpm;
    this.mode = opts.mode;
    this.responseBars = opts.responseBars;
    this.progression = opts.progression;
    this.ccMap = { ...DEFAULT_CC_MAP, ...ccMap };
  }

  get currentState(): EngineState {
    return this.state;
  }
  get currentMode(): EngineMode {
    return this.mode;
  }
  get tempo(): number {
    return this.bpm;
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

  // ---- time ----
  private get msPerTwelfth(): number {
    return 60_000 / this.bpm / TWELFTHS_PER_QUARTER;
  }
  twelfthsAt(ms: Millis): Twelfths {
    return (ms - this.origin) / this.msPerTwelfth;
  }
  msAt(t: Twelfths): Millis {
    return this.origin + t * this.msPerTwelfth;
  }

  /** Changes tempo without moving the current musical position. */
  setTempo(bpm: number): void {
    if (!(bpm >= 20 && bpm <= 400)) return;
    const now = this.clock.now();
    const pos = this.twelfthsAt(now);
    this.bpm = bpm;
    this.origin = now - pos * this.msPerTwelfth;
  }

  /**
   * Follows an outside clock: `t` fell at `at` (ms), and the tempo is `bpm`. Re-anchors the timeline
   * there without dropping what is planned (unlike setPosition): small corrections every tick keep
   * the beat locked to the clock instead of drifting with the tempo estimate's error.
   */
  follow(bpm: number, t: Twelfths, at: Millis): void {
    if (!(bpm >= 20 && bpm <= 400)) return;
    this.bpm = bpm;
    this.origin = at - t * this.msPerTwelfth;
  }

  /** Moves the musical position (Song Position Pointer, Start). */
  setPosition(t: Twelfths): void {
    this.origin = this.clock.now() - t * this.msPerTwelfth;
    this.horizon = null;
  }

  /** The chord at a time: the left hand's in follow mode when it holds one, else the looping progression. */
  chordAt = (t: Twelfths): ChordAnalysis => {
    if (this.mode === 'follow' && this.leftChord) return this.leftChord;
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
      // Chord memory: the chord changes when keys go down, and stays when they are let go.
      if (e.type === 'noteoff') {
        this.leftHand.delete(e.note);
        return;
      }
      this.leftHand.add(e.note);
      const pitches = [...this.leftHand].sort((a, b) => a - b);
      if (new Set(pitches.map((p) => p % 12)).size >= 2) this.leftChord = analyzeChord(pitches);
      return;
    }
    if (this.mode !== 'call-response') return;
    if (e.type === 'noteon') {
      if (this.state === 'responding') {
        this.emit({ kind: 'cancel' }); // the player takes the floor again
      }
      if (this.state !== 'listening') {
        this.phrase = [];
        this.setState('listening');
      }
      this.held.set(e.note, { start: now, velocity: e.velocity });
    } else {
      const h = this.held.get(e.note);
      if (!h) return;
      this.held.delete(e.note);
      this.phrase.push({ start: h.start, end: now, midi: e.note });
    }
    this.lastActivity = now;
  }

  private control(controller: number, value: number): void {
    if (this.learning) {
      this.ccMap[this.learning] = controller;
      this.emit({ kind: 'log', line: `learned: ${this.learning} is now CC ${controller}` });
      this.learning = null;
      return;
    }
    const action = (Object.keys(this.ccMap) as ControlAction[]).find((a) => this.ccMap[a] === controller);
    if (!action) return;
    switch (action) {
      case 'temperature':
        return this.emit({ kind: 'control', control: { temperature: Math.max(0.05, (2 * value) / 127) } });
      case 'model':
        return this.emit({
          kind: 'control',
          control: {
            model: Math.min(this.improvisers.length - 1, Math.floor((value * this.improvisers.length) / 128)),
          },
        });
      case 'length':
        this.responseBars = Math.floor(value / 16) + 1;
        return;
      case 'mutate':
        if (value >= 64) void this.mutate();
        return;
      case 'panic':
        if (value >= 64) this.emit({ kind: 'control', control: { panic: true } });
        return;
      case 'mode':
        return this.emit({
          kind: 'control',
          control: { mode: ENGINE_MODES[Math.min(2, Math.floor((value * 3) / 128))] },
        });
      case 'endCall':
        if (value >= 64 && this.state === 'listening') void this.endCall();
        return;
      case 'tempo':
        return this.emit({ kind: 'control', control: { bpm: TEMPO_CC_BASE + value } });
    }
  }

  /** The next CC number received becomes the control for `action`. */
  learn(action: ControlAction): void {
    this.learning = action;
  }

  setMode(mode: EngineMode): void {
    if (mode === this.mode) return;
    this.epoch++;
    this.emit({ kind: 'cancel' });
    this.mode = mode;
    this.horizon = null;
    this.phrase = [];
    this.held.clear();
    this.setState('idle');
  }

  setTemperature(t: number): void {
    for (const im of this.improvisers) im.sampler = { ...im.sampler, temperature: Math.max(0, t) };
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

  /** After a failure: a fresh generator state, nothing pending, listening again. */
  restart(): void {
    this.epoch++;
    this.busy = false;
    this.improviser.reset();
    this.held.clear();
    this.phrase = [];
    this.horizon = null;
    this.setState('idle');
  }

  /** All notes off now; the conversation goes on. */
  panic(): void {
    this.epoch++;
    this.emit({ kind: 'cancel' });
    this.held.clear();
    this.phrase = [];
    this.horizon = null;
    this.setState('idle');
  }

  // ---- time passing (called by the live session at every wake, with the window's end) ----
  async fill(windowEnd: Millis): Promise<void> {
    if (this.busy) return;
    const now = this.clock.now();
    if (this.mode === 'call-response') {
      if (this.state === 'responding' && now >= this.responseEnd) this.setState('idle');
      if (this.state !== 'listening') return;
      const silence = ((now - this.lastActivity) * this.bpm) / 60_000;
      const first = this.phrase[0]?.start ?? [...this.held.values()][0]?.start ?? now;
      const length = ((now - first) * this.bpm) / 60_000;
      if (
        (this.held.size === 0 && this.phrase.length > 0 && silence >= this.opts.silenceBeats) ||
        length >= this.opts.maxCallBeats
      ) {
        await this.endCall();
      }
      return;
    }
    // solo and follow: keep generated material ahead of need
    const ahead = windowEnd + (this.opts.aheadBeats * 60_000) / this.bpm;
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
      this.busy = false;
    }
  }

  private sendNotes(notes: readonly { start: Twelfths; dur: Twelfths; midi: Midi; type: NoteType }[]): void {
    for (const n of notes) {
      const time = this.msAt(n.start);
      this.emit({
        kind: 'note',
        time,
        dur: this.msAt(n.start + n.dur) - time,
        note: n.midi,
        velocity: this.opts.velocity,
        type: n.type,
      });
      this.stats.notesOut++;
    }
  }

  /** Ends the call now: primes the improviser with it and schedules the answer from the next beat. */
  async endCall(): Promise<void> {
    if (this.busy || this.state !== 'listening') return;
    const ended = this.clock.now();
    for (const [midi, h] of this.held) this.phrase.push({ start: h.start, end: ended, midi });
    this.held.clear();
    const notes: PlayedNote[] = this.phrase.map((p) => ({
      start: this.twelfthsAt(p.start),
      dur: this.twelfthsAt(p.end) - this.twelfthsAt(p.start),
      midi: p.midi,
    }));
    this.phrase = [];
    if (notes.length === 0) {
      this.setState('idle');
      return;
    }
    this.stats.calls++;
    this.busy = true;
    try {
      const before = this.improviser.snapshot();
      this.lastCall = { notes, before };
      const epoch = this.epoch;
      const heard = await this.improviser.listen(notes, this.chordAt, this.opts.barLength);
      this.stats.outOfVocabulary += heard.outOfVocabulary;
      await this.answer(notes, ended, epoch);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Plays the answer to a call, unless a panic, mode change or restart has come since `epoch` (read
   * before the caller's first await on the model): then nothing of it is scheduled.
   */
  private async answer(notes: readonly PlayedNote[], ended: Millis, epoch: number): Promise<void> {
    if (epoch !== this.epoch) return; // it came while the model listened
    const callStart = Math.min(...notes.map((n) => n.start));
    const callEnd = Math.max(...notes.map((n) => n.start + n.dur));
    const beat = TWELFTHS_PER_QUARTER;
    const length =
      this.responseBars > 0
        ? this.responseBars * this.opts.barLength
        : Math.max(beat, Math.ceil((callEnd - callStart) / beat) * beat);
    const from = Math.ceil((this.twelfthsAt(this.clock.now()) + 1) / beat) * beat;
    const played = await this.improviser.play(from, from + length, this.chordAt);
    if (epoch !== this.epoch) return; // it came while the model played
    const end = from + length;
    const clipped = played.notes
      .filter((n) => n.start < end)
      .map((n) => ({ ...n, dur: Math.min(n.dur, end - n.start) }));
    this.stats.lastResponseLatency = this.clock.now() - ended;
    this.setState('responding');
    this.sendNotes(clipped);
    this.responseEnd = this.msAt(end);
    this.stats.lastResponseStart = this.msAt(from);
    this.stats.responses++;
  }

  /** Answers the last call again, differently: back to the state before it, a new draw. */
  async mutate(): Promise<void> {
    if (!this.lastCall || this.busy || this.mode !== 'call-response') return;
    this.emit({ kind: 'cancel' });
    this.busy = true;
    const epoch = this.epoch;
    try {
      this.improviser.restore(this.lastCall.before);
      await this.improviser.listen(this.lastCall.notes, this.chordAt, this.opts.barLength);
      await this.answer(this.lastCall.notes, this.clock.now(), epoch);
    } finally {
      this.busy = false;
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
