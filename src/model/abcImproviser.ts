/**
 * The char-LSTM as an improviser: a played phrase is written as ABC text (L:1/8, K:C, bar lines,
 * explicit accidentals) and primes the session; the answer is sampled character by character and read
 * back into notes by the streaming ABC reader. The state and the reader carry on from turn to turn.
 * The answer is drawn under the bar-true mask (AbcGuide, no form: a jam has no parts), so every bar
 * it plays adds up to the meter.
 */
import { classifyNote, type ChordAnalysis, type NoteType } from '../music/chord.ts';
import { AbcGuide, corpusTables } from '../music/abc/guide.ts';
import type { Midi } from '../music/pitch.ts';
import type { Rng } from '../music/rng.ts';
import { TWELFTHS_PER_QUARTER, type Twelfths } from '../music/time.ts';
import { copyStatsOf, rebound, type CopyGuard, type CopyState } from './copyGuard.ts';
import { drawGuided, primeIds } from './tune.ts';
import { snapshotOf, type Improviser, type ImproviserSnapshot } from './jazzImproviser.ts';
import type { SamplerOptions } from './sampler.ts';
import type { LstmSession, SessionState, StepOutput } from './lstmSession.ts';
import type { TimeSignature } from '../music/units.ts';
import type { Note } from '../music/note.ts';

const UNIT: Twelfths = 6; // L:1/8
const NAMES = ['C', '^C', 'D', '^D', 'E', 'F', '^F', 'G', '^G', 'A', '^A', 'B'];

/** A length in eighths as an ABC suffix: 1 → '', 2 → '2', 1/2 → '/', 3/2 → '3/2'. */
function lengthSuffix(t: Twelfths): string {
  const halves = Math.max(1, Math.round((2 * t) / UNIT)); // in sixteenths
  if (halves % 2 === 0) return halves === 2 ? '' : String(halves / 2);
  return halves === 1 ? '/' : `${halves}/2`;
}

/** An ABC note name for a MIDI pitch in K:C, with the accidental the bar needs. */
function noteName(midi: Midi, bar: Map<string, string>): string {
  const name = NAMES[((midi % 12) + 12) % 12] as string;
  const letter = name.slice(-1);
  const acc = name.length > 1 ? '^' : '';
  const octave = Math.floor(midi / 12) - 5; // 0: C4–B4 upper case
  const current = bar.get(letter) ?? '';
  const mark = acc === current ? '' : acc || '=';
  bar.set(letter, acc);
  const base = octave >= 1 ? letter.toLowerCase() + "'".repeat(octave - 1) : letter + ','.repeat(-octave);
  return mark + base;
}

/** Writes a played phrase (twelfths timeline) as an ABC body: notes, rests for gaps, bar lines. */
export function phraseToAbc(notes: readonly Note[], barLength: Twelfths): string {
  const sorted = [...notes]
    .sort((a, b) => a.start - b.start || b.midi - a.midi)
    .filter((n, i, a) => i === 0 || n.start !== (a[i - 1] as Note).start);
  const snap = (t: number): Twelfths => Math.round(t / 3) * 3;
  let out = '';
  let t = snap(sorted[0]?.start ?? 0);
  let bar = new Map<string, string>();
  let barEnd = (Math.floor(t / barLength) + 1) * barLength;
  const advanceBars = (to: Twelfths): void => {
    while (to >= barEnd) {
      out += '|';
      bar = new Map();
      barEnd += barLength;
    }
  };
  sorted.forEach((n, i) => {
    const start = Math.max(t, snap(n.start));
    if (start > t) {
      out += `z${lengthSuffix(start - t)}`;
      t = start;
      advanceBars(t);
    }
    const next = sorted[i + 1];
    const end = Math.max(start + 3, snap(next ? Math.min(n.start + n.dur, next.start) : n.start + n.dur));
    out += noteName(n.midi, bar) + lengthSuffix(end - start);
    t = end;
    advanceBars(t);
  });
  return out;
}

export interface AbcState {
  readonly session: SessionState;
  readonly next: StepOutput | null;
  readonly guide: AbcGuide;
  readonly started: boolean;
  readonly copies: CopyState | null;
}

export class AbcImproviser implements Improviser {
  private next: StepOutput | null = null;
  private guide: AbcGuide;
  private readonly allowed: Uint8Array;
  /** Characters drawn, and those where the mask changed the model's own choice. */
  readonly maskStats = { characters: 0, changed: 0 };
  /** Whether the header has been fed (the model then goes on from where it is). */
  private started = false;
  private readonly header: string;
  /** The model was trained on whole tunes: a blank line ends its tune, and the next begins afresh. */
  private readonly whole: boolean;
  /** The tune as written so far (what was heard and played), its last TUNE_KEPT characters. */
  private written = '';
  /**
   * Where in `written` the player's call and the improviser's answer begin: the notation labels them
   * (`"^you"`, `"^improviser"`) so the two read apart on one staff.
   */
  private spans: { at: number; who: 'call' | 'answer' }[] = [];

  private copies: CopyGuard | null = null;

  constructor(
    private readonly session: LstmSession,
    private readonly rng: Rng,
    public sampler: SamplerOptions,
    meter: TimeSignature = { numerator: 4, denominator: 4 },
    maxCopy: number | null = null,
  ) {
    // a whole-tune model learnt headers in one house style (music/abc/clean.ts): no title, K: spelled out
    this.whole = session.manifest.hyperparameters.wholeSequences === true;
    this.header = this.whole
      ? `X:1\nM:${meter.numerator}/${meter.denominator}\nL:1/8\nK:C Major\n`
      : `X:1\nT:Jam\nM:${meter.numerator}/${meter.denominator}\nL:1/8\nK:C\n`;
    this.guide = this.newGuide();
    this.allowed = new Uint8Array(session.vocabulary.length);
    this.setMaxCopy(maxCopy);
    this.session.reset(); // a new improviser starts the conversation (JazzImproviser's constructor says why)
  }

  setMaxCopy(maxCopy: number | null): void {
    this.copies = rebound(this.session, maxCopy, this.copies);
  }

  get copyStats(): { binding: number; fallbacks: number } | null {
    return copyStatsOf(this.copies);
  }

  private newGuide(): AbcGuide {
    return new AbcGuide(this.session.vocabulary, { form: null, ...corpusTables(this.session.manifest) });
  }

  reset(): void {
    this.session.reset();
    this.next = null;
    this.guide = this.newGuide();
    this.started = false;
    this.written = '';
    this.spans = [];
    this.copies?.reset();
  }

  snapshot(): ImproviserSnapshot {
    const state: AbcState = {
      session: this.session.snapshot(),
      next: this.next,
      guide: this.guide.clone(),
      started: this.started,
      copies: this.copies?.state() ?? null,
    };
    return { kind: 'abc', state };
  }

  restore(snapshot: ImproviserSnapshot): void {
    const s = snapshotOf(snapshot, 'abc');
    this.session.restore(s.session);
    this.next = s.next;
    this.guide = s.guide.clone();
    this.started = s.started;
    this.copies?.setState(s.copies ?? undefined);
  }

  /** The tune being played, as ABC (for notation on the stage page), from its header on. */
  get tune(): string {
    let text = this.written;
    for (const { at, who } of [...this.spans].reverse())
      text = `${text.slice(0, at)}"^${who === 'call' ? 'you' : 'improviser'}"${text.slice(at)}`;
    const from = text.lastIndexOf('X:');
    return from >= 0 ? text.slice(from) : `${this.header}${text.slice(text.indexOf('\n') + 1)}`;
  }

  private write(text: string): void {
    this.written += text;
    if (this.written.length > 2 * TUNE_KEPT) {
      const cut = this.written.length - TUNE_KEPT;
      this.written = this.written.slice(cut);
      this.spans = this.spans.map((m) => ({ ...m, at: m.at - cut })).filter((m) => m.at >= 0);
    }
  }

  /** Marks where the call or the answer begins, once per turn (solo lines are not labelled). */
  private mark(who: 'call' | 'answer', at: number): void {
    const last = this.spans.at(-1)?.who;
    if (who === 'call' ? last !== 'call' : last === 'call') this.spans.push({ at, who });
  }

  private async feed(text: string): Promise<void> {
    this.write(text);
    const ids = primeIds(text, this.session.vocabulary);
    for (const id of ids) this.copies?.push(id);
    this.started = true;
    this.guide.push(text);
    const fresh = this.next === null;
    const out = await this.session.prime(fresh ? [this.session.startToken, ...ids] : ids);
    this.next = { probs: out.probs.slice(), logits: out.logits.slice() };
  }

  async listen(
    notes: readonly Note[],
    _chordAt: (t: Twelfths) => ChordAnalysis,
    barLength: Twelfths,
  ): Promise<{ tokens: number; outOfVocabulary: number }> {
    const head = this.started ? '' : this.header;
    const body = `${head}${phraseToAbc(notes, barLength)}|\n`;
    this.mark('call', this.written.length + head.length);
    await this.feed(body);
    return { tokens: body.length, outOfVocabulary: 0 };
  }

  async play(
    from: Twelfths,
    to: Twelfths,
    chordAt: (t: Twelfths) => ChordAnalysis,
  ): Promise<{ notes: { start: Twelfths; dur: Twelfths; midi: Midi; type: NoteType }[]; end: Twelfths }> {
    if (!this.started) await this.feed(this.header);
    this.mark('answer', this.written.length);
    this.next ??= await this.session.step(this.session.startToken);
    const vocab = this.session.vocabulary;
    let base = this.guide.now * TWELFTHS_PER_QUARTER; // reader time (twelfths) that maps to `from`
    let offset = from;
    const notes: { start: Twelfths; dur: Twelfths; midi: Midi; type: NoteType }[] = [];
    let end = from;
    for (let chars = 0; end < to && chars < 2000; chars++) {
      const { id, changed } = drawGuided(
        this.guide,
        this.next.logits,
        this.sampler,
        this.rng,
        this.allowed,
        this.copies,
      );
      this.maskStats.characters++;
      if (changed) this.maskStats.changed++;
      const ch = vocab[id] as string;
      if (this.whole && ch === '\n' && this.written.endsWith('\n')) {
        // the tune is over; the next one starts from a fresh state, as the model learnt it
        this.reset();
        await this.feed(this.header);
        offset = end;
        base = 0;
        continue;
      }
      this.write(ch);
      this.next = await this.session.step(id);
      for (const e of this.guide.push(ch)) {
        if (e.type === 'tune') {
          // the model began a new tune: its time restarts at zero, so re-anchor
          offset = end;
          base = 0;
        } else if (e.type === 'note' || e.type === 'rest') {
          const start = offset + e.start * TWELFTHS_PER_QUARTER - base;
          const dur = e.dur * TWELFTHS_PER_QUARTER;
          if (e.type === 'note' && start < to)
            notes.push({ start, dur, midi: e.pitch, type: classifyNote(e.pitch, chordAt(start)) });
          end = Math.max(end, start + dur);
        }
      }
    }
    return { notes, end };
  }
}

/** How much of the tune the stage page's notation is given (characters). */
const TUNE_KEPT = 4000;
