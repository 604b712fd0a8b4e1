/**
 * `improv panic`: silences a rig after a process died without releasing its notes (SIGKILL, the OOM
 * killer, a crash of Node itself skip every handler). Opens the output port and, on every channel
 * asked, lifts the sustain pedal, sends All Sound Off and All Notes Off, and a note-off for every
 * note (for synths that ignore the channel-mode messages), then closes the port and exits.
 * systemd runs it as ExecStopPost= (examples/improv.service), after any stop, clean or not.
 */
import { loadConfig } from '../daemon/config.ts';
import type { MidiMessage } from '../midi/messages.ts';
import { ALL_NOTES_OFF } from '../midi/noteTracker.ts';
import { openOutput } from '../midi/ports.ts';
import { RealClock } from '../midi/clock.ts';

const SUSTAIN = 64;
const ALL_SOUND_OFF = 120;

export interface PanicOptions {
  /** The output port (a `file:` recording is continued, not replaced). */
  readonly out: string;
  /** 0-based channels to silence. */
  readonly channels: readonly number[];
}

/** The messages that silence `channels`, in the order they are sent. */
export function panicMessages(channels: readonly number[]): MidiMessage[] {
  const out: MidiMessage[] = [];
  for (const channel of channels) {
    out.push({ type: 'cc', channel, controller: SUSTAIN, value: 0 });
    out.push({ type: 'cc', channel, controller: ALL_SOUND_OFF, value: 0 });
    out.push({ type: 'cc', channel, controller: ALL_NOTES_OFF, value: 0 });
    for (let note = 0; note < 128; note++) out.push({ type: 'noteoff', channel, note, velocity: 0 });
  }
  return out;
}

export async function runPanic(opts: PanicOptions): Promise<number> {
  const port = openOutput(opts.out, { clock: new RealClock(), append: true, fallback: true });
  const messages = panicMessages(opts.channels);
  try {
    for (const m of messages) port.send(m);
  } finally {
    await port.close();
  }
  return messages.length;
}

/** The port and channels a daemon's config plays on: its output, and its out and thru channels. */
export function panicFromConfig(file: string): PanicOptions {
  const config = loadConfig(file);
  const channels = [config.channels.out, config.channels.thru]
    .filter((c): c is number => c !== null)
    .map((c) => c - 1);
  return { out: config.output, channels: [...new Set(channels)].sort((a, b) => a - b) };
}
