/**
 * Keeps count of the notes sounding on an output, so that panic, shutdown, port loss and errors can
 * always release them: every note-on gets its note-off.
 */
import type { MidiMessage } from './messages.ts';

export const ALL_NOTES_OFF = 123;

export class NoteTracker {
  /** (channel·128 + note) → how many note-ons wait for their note-off. */
  private readonly sounding = new Map<number, number>();
  private readonly channels = new Set<number>();

  /** Records a message that was sent. */
  note(m: MidiMessage): void {
    if (m.type === 'noteon') {
      const k = m.channel * 128 + m.note;
      this.sounding.set(k, (this.sounding.get(k) ?? 0) + 1);
      this.channels.add(m.channel);
    } else if (m.type === 'noteoff') {
      const k = m.channel * 128 + m.note;
      const n = (this.sounding.get(k) ?? 0) - 1;
      if (n > 0) this.sounding.set(k, n);
      else this.sounding.delete(k);
    }
  }

  get count(): number {
    let n = 0;
    for (const v of this.sounding.values()) n += v;
    return n;
  }

  /** Note-offs for every sounding note (once per note-on), then All Notes Off on every channel used; forgets them all. */
  releaseAll(): MidiMessage[] {
    const out: MidiMessage[] = [];
    for (const [k, n] of this.sounding) {
      for (let i = 0; i < n; i++)
        out.push({ type: 'noteoff', channel: Math.floor(k / 128), note: k % 128, velocity: 0 });
    }
    for (const channel of [...this.channels].sort((a, b) => a - b))
      out.push({ type: 'cc', channel, controller: ALL_NOTES_OFF, value: 0 });
    this.sounding.clear();
    return out;
  }
}
