/**
 * Keeps count of the notes sounding on an output, so that panic, shutdown, port loss and errors can
 * always release them: every note-on gets its note-off. Counts live in a typed array, so recording a
 * note allocates nothing (a Map entry per note was heap churn on the hot path of an all-night set).
 */
import type { MidiMessage } from './messages.ts';

export const ALL_NOTES_OFF = 123;

export class NoteTracker {
  /** channel·128 + note → how many note-ons wait for their note-off. */
  private readonly sounding = new Uint16Array(16 * 128);
  /** Bit c set: channel c has had a note-on (All Notes Off goes to every channel ever used). */
  private channels = 0;
  private total = 0;

  /** Records a message that was sent. */
  note(m: MidiMessage): void {
    if (m.type === 'noteon') {
      const k = m.channel * 128 + m.note;
      if ((this.sounding[k] as number) < 0xffff) {
        this.sounding[k] = (this.sounding[k] as number) + 1;
        this.total++;
      }
      this.channels |= 1 << m.channel;
    } else if (m.type === 'noteoff') {
      const k = m.channel * 128 + m.note;
      if ((this.sounding[k] as number) > 0) {
        this.sounding[k] = (this.sounding[k] as number) - 1;
        this.total--;
      }
    }
  }

  get count(): number {
    return this.total;
  }

  /** Note-offs for every sounding note (once per note-on), then All Notes Off on every channel used; forgets them all. */
  releaseAll(): MidiMessage[] {
    const out: MidiMessage[] = [];
    if (this.total > 0)
      this.sounding.forEach((n, k) => {
        for (let i = 0; i < n; i++)
          out.push({ type: 'noteoff', channel: k >> 7, note: k & 127, velocity: 0 });
      });
    for (let channel = 0; channel < 16; channel++)
      if (this.channels & (1 << channel))
        out.push({ type: 'cc', channel, controller: ALL_NOTES_OFF, value: 0 });
    this.sounding.fill(0);
    this.total = 0;
    return out;
  }
}
