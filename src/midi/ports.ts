/**
 * MIDI ports behind one interface, addressed as `virtual:Name`, `easymidi:Name`, `jzz:Name` or
 * `file:path.mid`:
 * - `easymidi:Name` opens a hardware port through RtMidi (ALSA, CoreMIDI, WinMM);
 * - `virtual:Name` makes an OS-level virtual port through easymidi that a DAW can see, and where RtMidi
 *   cannot start (no ALSA sequencer) falls back to a jzz in-process port and says so;
 * - `jzz:Name` opens a jzz port of that name, making it in-process when none exists (tests use these);
 * - `file:path.mid` records output to a Standard MIDI File, or plays a file in as if a player played it.
 * Incoming bytes are parsed once into typed messages; what cannot be parsed is counted as dropped.
 */
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import JZZ from 'jzz';
import { encodeMessage, MidiStreamParser, type MidiMessage } from './messages.ts';
import { FileSink, FileSource } from './filePorts.ts';
import type { Clock } from './clock.ts';
import { UserError } from '../music/errors.ts';

export type Backend = 'virtual' | 'easymidi' | 'jzz' | 'file';
export interface PortSpec {
  readonly backend: Backend;
  readonly name: string;
}

export interface MidiOutPort {
  readonly name: string;
  send(m: MidiMessage): void;
  close(): Promise<void>;
  /** Whether the device is still there (hot-plug); ports that cannot vanish leave it out. */
  available?(): boolean;
}

export interface MidiInPort {
  readonly name: string;
  onMessage(cb: (m: MidiMessage) => void): void;
  /** Messages that could not be parsed from the incoming bytes. */
  readonly dropped: number;
  close(): Promise<void>;
  /** Whether the device is still there (hot-plug); reopens it when it comes back. */
  available?(): boolean;
}

export class PortError extends UserError {
  override readonly name = 'PortError';
}

const FORMS = 'virtual:Name, easymidi:Name, jzz:Name or file:path.mid';

/** Parses a port address. @example parsePortSpec('virtual:Improviser') // => { backend: 'virtual', name: 'Improviser' } */
export function parsePortSpec(text: string): PortSpec {
  const m = /^(virtual|easymidi|jzz|file):(.+)$/.exec(text.trim());
  if (!m) throw new PortError(`port '${text}': expected ${FORMS}`);
  return { backend: m[1] as Backend, name: (m[2] as string).trim() };
}

// ---- easymidi (optional dependency; RtMidi needs a MIDI system) ----

interface EasyMidi {
  Input: new (
    name: string,
    virtual?: boolean,
  ) => {
    on(ev: 'message', cb: (m: { _type: string } & Record<string, number>) => void): void;
    close(): void;
  };
  Output: new (
    name: string,
    virtual?: boolean,
  ) => { send(type: string, args: Record<string, number>): void; close(): void };
  getInputs(): string[];
  getOutputs(): string[];
}

const require_ = createRequire(import.meta.url);

/**
 * On Linux, why RtMidi could not open the ALSA sequencer, asked before RtMidi is: where it fails it
 * writes raw ALSA lines to stderr from native code (`ALSA lib seq_hw.c:466:(snd_seq_hw_open) …`),
 * which no handler here can catch; this says the same in one line. Null: the sequencer can be opened
 * (or this is not Linux).
 */
function alsaSequencerMissing(): string | null {
  if (process.platform !== 'linux') return null;
  try {
    accessSync('/dev/snd/seq', constants.R_OK | constants.W_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EACCES'
      ? 'no permission to open /dev/snd/seq: add the user to the audio group'
      : `no ALSA sequencer: /dev/snd/seq ${code === 'ENOENT' ? 'does not exist (modprobe snd-seq)' : `cannot be opened (${code ?? 'error'})`}`;
  }
}

/** Loads easymidi, or says why it cannot start and what to use instead. */
function loadEasymidi(): EasyMidi | string {
  const missing = alsaSequencerMissing();
  if (missing)
    return (
      `easymidi cannot start (${missing}). ` +
      `Use jzz:Name for an in-process port or file:out.mid to record to a file.`
    );
  try {
    const mod = require_('easymidi') as EasyMidi;
    mod.getOutputs();
    return mod;
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return (
      `easymidi cannot start (${why}); this machine has no usable MIDI system (on Linux: no ALSA sequencer, /dev/snd/seq). ` +
      `Use jzz:Name for an in-process port or file:out.mid to record to a file; on Windows, create a loopMIDI port and open it with easymidi:Name.`
    );
  }
}

/** easymidi, or a PortError for the port `what` saying why not. */
function easymidi(what: string): EasyMidi {
  const mod = loadEasymidi();
  if (typeof mod === 'string') throw new PortError(`${what}: ${mod}`);
  return mod;
}

function easymidiSend(out: InstanceType<EasyMidi['Output']>, m: MidiMessage): void {
  switch (m.type) {
    case 'noteon':
    case 'noteoff':
      return out.send(m.type, { note: m.note, velocity: m.velocity, channel: m.channel });
    case 'cc':
      return out.send('cc', { controller: m.controller, value: m.value, channel: m.channel });
    case 'program':
      return out.send('program', { number: m.program, channel: m.channel });
    case 'pitchbend':
      return out.send('pitch', { value: m.value + 8192, channel: m.channel });
    case 'clock':
    case 'start':
    case 'continue':
    case 'stop':
      return out.send(m.type, {});
    case 'songposition':
      return out.send('position', { value: m.sixteenths });
    case 'other':
      return undefined;
  }
}

function easymidiOut(name: string, virtual: boolean): MidiOutPort {
  const em = easymidi(`${virtual ? 'virtual' : 'easymidi'}:${name}`);
  if (!virtual && !em.getOutputs().includes(name)) {
    throw new PortError(
      `easymidi:${name}: no such output; available: ${em.getOutputs().join(', ') || '(none)'}`,
    );
  }
  let out = new em.Output(name, virtual);
  let lost = false;
  return {
    name,
    send: (m) => easymidiSend(out, m),
    close: () => Promise.resolve(out.close()),
    available: () => {
      if (virtual) return true;
      const there = em.getOutputs().includes(name);
      if (there && lost) out = new em.Output(name, false); // plugged back in: reopen
      lost = !there;
      return there;
    },
  };
}

function easymidiIn(name: string, virtual: boolean): MidiInPort {
  const em = easymidi(`${virtual ? 'virtual' : 'easymidi'}:${name}`);
  if (!virtual && !em.getInputs().includes(name)) {
    throw new PortError(
      `easymidi:${name}: no such input; available: ${em.getInputs().join(', ') || '(none)'}`,
    );
  }
  const listeners: ((m: MidiMessage) => void)[] = [];
  const parser = new MidiStreamParser();
  const attach = (): InstanceType<EasyMidi['Input']> => {
    const i = new em.Input(name, virtual);
    i.on('message', (msg) => {
      const bytes = (msg as unknown as { _bytes?: number[] })._bytes;
      if (bytes) for (const m of parser.push(bytes)) listeners.forEach((cb) => cb(m));
    });
    return i;
  };
  let input = attach();
  let lost = false;
  return {
    name,
    onMessage: (cb) => void listeners.push(cb),
    get dropped() {
      return parser.dropped;
    },
    close: () => Promise.resolve(input.close()),
    available: () => {
      if (virtual) return true;
      const there = em.getInputs().includes(name);
      if (there && lost) input = attach(); // plugged back in: reopen
      lost = !there;
      return there;
    },
  };
}

// ---- jzz ----

type JzzPort = {
  send(bytes: number[]): unknown;
  connect(cb: (msg: number[]) => void): unknown;
  close(): unknown;
};
type JzzWidget = JzzPort & { emit(bytes: number[]): unknown };
const jzzApi = JZZ as unknown as {
  (opts?: { engine?: string }): {
    openMidiOut(name: string): JzzPort;
    openMidiIn(name: string): JzzPort;
    info(): { inputs: { name: string }[]; outputs: { name: string }[] };
    refresh(): unknown;
  };
  Widget(impl?: { _receive?: (msg: number[]) => void }): JzzWidget;
  addMidiIn(name: string, w: JzzWidget): unknown;
  addMidiOut(name: string, w: JzzWidget): unknown;
};

let engine: ReturnType<typeof jzzApi> | null = null;
const jzz = (): ReturnType<typeof jzzApi> => (engine ??= jzzApi({ engine: 'none' }));
const inProcess = { inputs: new Set<string>(), outputs: new Set<string>() };

/** An in-process output other code can open as an input named `name` (a DAW in the same process, or a test). */
function jzzOut(name: string): MidiOutPort {
  if (!inProcess.inputs.has(name)) {
    const widget = jzzApi.Widget();
    jzzApi.addMidiIn(name, widget);
    inProcess.inputs.add(name);
    widgets.set(`in:${name}`, widget);
  }
  const widget = widgets.get(`in:${name}`) as JzzWidget;
  return { name, send: (m) => void widget.emit(encodeMessage(m)), close: () => Promise.resolve() };
}

const widgets = new Map<string, JzzWidget>();

/** An in-process input other code can open as an output named `name` and send to. */
function jzzIn(name: string): MidiInPort {
  const listeners: ((m: MidiMessage) => void)[] = [];
  const parser = new MidiStreamParser();
  const deliver = (bytes: number[]): void => {
    for (const m of parser.push(bytes)) listeners.forEach((cb) => cb(m));
  };
  const key = `out:${name}`;
  let closed = false;
  if (!inProcess.outputs.has(name)) {
    const widget = jzzApi.Widget({ _receive: (msg) => (routes.get(key) ?? (() => undefined))([...msg]) });
    jzzApi.addMidiOut(name, widget);
    inProcess.outputs.add(name);
    widgets.set(key, widget);
  }
  routes.set(key, (bytes) => {
    if (!closed) deliver(bytes);
  });
  return {
    name,
    onMessage: (cb) => void listeners.push(cb),
    get dropped() {
      return parser.dropped;
    },
    close: () => {
      closed = true;
      routes.delete(key);
      return Promise.resolve();
    },
  };
}

const routes = new Map<string, (bytes: number[]) => void>();

/** For tests and tools in the same process: send bytes into an in-process input named `name`. */
export function jzzSendTo(name: string): (bytes: number[]) => void {
  const port = jzz().openMidiOut(name);
  return (bytes) => void port.send(bytes);
}

/** For tests and tools in the same process: listen to an in-process output named `name`. */
export function jzzListen(name: string, cb: (bytes: number[]) => void): () => void {
  const port = jzz().openMidiIn(name);
  port.connect((msg) => cb([...msg]));
  return () => void port.close();
}

export interface OpenOptions {
  readonly clock: Clock;
  /** Where warnings (such as a fallback) go. */
  readonly log?: (line: string) => void;
  /** A `file:` output goes on with the recording already there instead of replacing it. */
  readonly append?: boolean;
  /**
   * Where `virtual:Name` cannot be made (no OS MIDI system), open an in-process jzz port instead and
   * say so. Off (the default): refuse, since no other program could see the port — a user who named
   * it wants a synth or a DAW to hear it, not notes played into nothing.
   */
  readonly fallback?: boolean;
}

/** The refusal of an invisible port, or the fallback's warning. */
function noVirtual(err: unknown, text: string, opts: OpenOptions): void {
  const why = err instanceof Error ? err.message : String(err);
  if (!opts.fallback)
    throw new PortError(
      `${text}: no virtual port can be made here (${why.replace(/\s*Use jzz:.*$/s, '')}), and an in-process one no other program could see. ` +
        'Use file:out.mid to record, jzz:Name for an in-process port, or leave --out unset (or use --auto) to fall back.',
    );
  opts.log?.(
    `${why} Falling back to an in-process jzz port '${parsePortSpec(text).name}' (other programs cannot see it).`,
  );
}

export function openOutput(text: string, opts: OpenOptions): MidiOutPort {
  const spec = parsePortSpec(text);
  switch (spec.backend) {
    case 'easymidi':
      return easymidiOut(spec.name, false);
    case 'jzz':
      return jzzOut(spec.name);
    case 'file':
      return new FileSink(spec.name, opts.clock, { append: opts.append ?? false });
    case 'virtual':
      try {
        return easymidiOut(spec.name, true);
      } catch (err) {
        noVirtual(err, text, opts);
        return jzzOut(spec.name);
      }
  }
}

export function openInput(
  text: string,
  opts: OpenOptions,
): MidiInPort & { onEnd?: (cb: () => void) => void } {
  const spec = parsePortSpec(text);
  switch (spec.backend) {
    case 'easymidi':
      return easymidiIn(spec.name, false);
    case 'jzz':
      return jzzIn(spec.name);
    case 'file':
      return new FileSource(spec.name, opts.clock);
    case 'virtual':
      try {
        return easymidiIn(spec.name, true);
      } catch (err) {
        noVirtual(err, text, opts);
        return jzzIn(spec.name);
      }
  }
}

export interface PortListing {
  readonly backend: 'easymidi' | 'jzz';
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly error?: string;
}

/** What each backend can see now. */
export function listPorts(): PortListing[] {
  const out: PortListing[] = [];
  const em = loadEasymidi();
  const unavailable = (error: string): PortListing => ({
    backend: 'easymidi',
    inputs: [],
    outputs: [],
    error,
  });
  try {
    out.push(
      typeof em === 'string'
        ? unavailable(em)
        : { backend: 'easymidi', inputs: em.getInputs(), outputs: em.getOutputs() },
    );
  } catch (err) {
    out.push(unavailable(err instanceof Error ? err.message : String(err)));
  }
  out.push(
    typeof em === 'string'
      ? { backend: 'easymidi', inputs: [], outputs: [], error: em }
      : { backend: 'easymidi', inputs: em.getInputs(), outputs: em.getOutputs() },
  );
  jzz().refresh();
  const info = jzz().info();
  out.push({
    backend: 'jzz',
    inputs: info.inputs.map((p) => p.name),
    outputs: info.outputs.map((p) => p.name),
  });
  return out;
}
