import { describe, expect, it } from 'vitest';
import type { MidiMessage } from '../src/midi/messages.ts';
import { buildRig } from '../src/live/rig.ts';
import { parseSetup } from '../src/live/setup.ts';
import { VirtualClock } from '../src/midi/clock.ts';
import { advance } from './liveHarness.ts';
import { feedInput } from './rigs.ts';

describe('hot-plug', () => {
  it('an output port that disappears is reported, output pauses with no backlog, and on its return All Notes Off clears it', async () => {
    const clock = new VirtualClock();
    let plugged = true;
    const received: { time: number; m: MidiMessage }[] = [];
    const port = {
      name: 'usb-synth',
      send(m: MidiMessage) {
        if (!plugged) throw new Error('device unplugged');
        received.push({ time: clock.now(), m });
      },
      close: () => Promise.resolve(),
      available: () => plugged,
    };
    const lines: string[] = [];
    const rig = await buildRig(parseSetup({ mode: 'solo', bpm: 160, chords: 'Dm7 G7 Cmaj7 A7' }), {
      clock,
      input: null,
      output: port,
      log: (l) => lines.push(l),
    });
    const live = rig.live;
    const run = (ms: number): Promise<void> => advance(clock, ms, () => live.engine.whenSettled());
    live.start();
    await run(3000);
    const beforeLoss = received.length;
    expect(beforeLoss).toBeGreaterThan(4);
    plugged = false;
    await run(3000);
    expect(live.outputState).toBe('lost');
    expect(received).toHaveLength(beforeLoss); // nothing reached the missing device
    expect(lines.some((l) => /output usb-synth lost/.test(l))).toBe(true);
    plugged = true;
    const back = clock.now();
    await run(3000);
    expect(live.outputState).toBe('open');
    const after = received.slice(beforeLoss);
    // first comes All Notes Off on every channel, then the music resumes at its own pace (no burst)
    expect(after.slice(0, 16).every((r) => r.m.type === 'cc' && r.m.controller === 123)).toBe(true);
    const resumed = after.filter((r) => r.m.type === 'noteon');
    expect(resumed.length).toBeGreaterThan(2);
    expect(resumed.filter((r) => r.time < back + 600).length).toBeLessThanOrEqual(6);
    await rig.close();
    // every note-on that reached the device has its note-off or was cleared by All Notes Off after the loss
    const open = new Map<number, number>();
    for (const { m } of received.slice(beforeLoss + 16)) {
      if (m.type === 'noteon') open.set(m.note, (open.get(m.note) ?? 0) + 1);
      if (m.type === 'noteoff') open.set(m.note, (open.get(m.note) ?? 1) - 1);
    }
    expect([...open.values()].every((v) => v <= 0)).toBe(true);
    expect(live.stats.droppedOut).toBeGreaterThan(0);
  });
});

describe('hot-plug of the input', () => {
  it('a keyboard that disappears is reported and heard again when it returns', async () => {
    const clock = new VirtualClock();
    let plugged = true;
    const input = feedInput('usb-keys', { available: () => plugged });
    const lines: string[] = [];
    const out = { name: 'out', send: () => undefined, close: () => Promise.resolve() };
    const rig = await buildRig(parseSetup({ chords: 'C7', topP: 1 }), {
      clock,
      input,
      output: out,
      log: (l) => lines.push(l),
    });
    const live = rig.live;
    live.start();
    const run = (ms: number): Promise<void> => advance(clock, ms, () => live.engine.whenSettled());
    await run(600);
    expect(live.inputState).toBe('open');
    plugged = false;
    await run(600);
    expect(live.inputState).toBe('lost');
    plugged = true;
    await run(600);
    expect(live.inputState).toBe('open');
    expect(lines).toEqual(['input usb-keys lost; listening again when it returns', 'input usb-keys is back']);
    await rig.close();
  });
});
