/**
 * Issue 14: what an unclean death leaves behind. A daemon killed with SIGKILL is silenced by
 * `improv panic`; training killed during a checkpoint or an export leaves the old bundle or the new
 * one, never a torn one, and `--resume` goes on.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { panicMessages } from '../src/cli/panic.ts';
import { FileSink, readMidiTimeline } from '../src/midi/filePorts.ts';
import { QUIET_MS, QuietCollector } from '../src/live/quietCollector.ts';
import { liveHarness } from './liveHarness.ts';
import { readManifest } from '../src/music/bundle.ts';
import { VirtualClock } from '../src/midi/clock.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { pairsHanging, spawnDaemon, tempDir, tinyTrainArgs } from './helpers.ts';
import { midoAvailable, midoCheck } from './judges.ts';
import { statusSchema } from '../src/daemon/statusSchema.ts';

const cli = (args: string[], env: Record<string, string> = {}) => {
  // node itself, through the real entry point, so that a SIGKILL ends the process that trains
  const r = spawnSync(process.execPath, ['bin/improv.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
};

describe('improv panic', () => {
  it('silences what a SIGKILLed daemon left sounding, and the recording goes on', async () => {
    const dir = tempDir('panic');
    const out = join(dir, 'take.mid');
    // slow and in solo, so that notes are long and one is sounding when the kill comes
    const file = join(dir, 'improv.config.json');
    writeFileSync(
      file,
      JSON.stringify({
        output: `file:${out}`,
        mode: 'solo',
        bpm: 40,
        http: { port: 0 },
        channels: { out: 3 },
      }),
    );
    const { child, port } = await spawnDaemon(file);
    const status = async () =>
      statusSchema.parse(await (await fetch(`http://127.0.0.1:${port}/status`)).json());
    const until = Date.now() + 20_000;
    while ((await status()).sounding === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 150)); // the sink writes every 100 ms
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const left = pairsHanging(out);
    expect(left).toBeGreaterThan(0); // the kill left notes on: nothing released them
    const before = readMidiTimeline(out).length;
    const r = cli(['panic', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`to file:${out} on channel(s) 3`);
    const events = readMidiTimeline(out);
    expect(events.length).toBe(before + panicMessages([2]).length); // appended, not replaced
    expect(pairsHanging(out)).toBe(0);
    const after = events.slice(before);
    expect(after.map((e) => e.bytes[0] ?? 0).every((s) => (s & 0x0f) === 2)).toBe(true);
    expect(after.some((e) => e.bytes[0] === 0xb2 && e.bytes[1] === 120)).toBe(true); // All Sound Off
    expect(after.some((e) => e.bytes[0] === 0xb2 && e.bytes[1] === 123)).toBe(true); // All Notes Off
    if (midoAvailable()) expect(midoCheck(out).hanging).toBe(0);
  }, 60_000);

  it('a file sink appending to a recording keeps its events and places the new ones after them', async () => {
    const file = join(tempDir('append'), 'take.mid');
    const c = new VirtualClock(0);
    const first = new FileSink(file, c);
    first.send({ type: 'noteon', channel: 0, note: 60, velocity: 90 });
    c.advance(500);
    first.send({ type: 'noteon', channel: 0, note: 64, velocity: 90 });
    await first.close();
    const second = new FileSink(file, new VirtualClock(0), { append: true });
    second.send({ type: 'noteoff', channel: 0, note: 60, velocity: 0 });
    second.send({ type: 'noteoff', channel: 0, note: 64, velocity: 0 });
    await second.close();
    const events = readMidiTimeline(file);
    expect(events.map((e) => e.bytes)).toEqual([
      [0x90, 60, 90],
      [0x90, 64, 90],
      [0x80, 60, 0],
      [0x80, 64, 0],
    ]);
    expect(events[2]?.time).toBeGreaterThanOrEqual(500);
    writeFileSync(file, 'not a recording');
    expect(() => new FileSink(file, c, { append: true })).toThrow(
      /cannot append: not a recording improv wrote/,
    );
  });
});

describe('training killed mid-write leaves the old bundle or the new one, and --resume goes on', () => {
  const train = (out: string, epochs: number, resume: boolean, crashAt?: string) =>
    cli(
      [...tinyTrainArgs(out, 6, epochs), ...(resume ? ['--resume'] : [])],
      crashAt ? { IMPROV_CRASH_AT: crashAt } : {},
    );
  /** The bundle loads (its manifest and the graph it names); returns how many epochs it ran. */
  const whole = async (out: string): Promise<number | undefined> => {
    const m = readManifest(out);
    const session = await LstmSession.load(out, 'fp32');
    await session.dispose();
    return m.training.epochsRun;
  };

  it('killed during a checkpoint and during the export', async () => {
    const out = join(tempDir('atomic'), 'bundle');
    expect(train(out, 2, false).code).toBe(0);
    expect(await whole(out)).toBe(2);
    const checkpoint = (): { epoch: number } =>
      JSON.parse(readFileSync(join(out, 'checkpoint', 'checkpoint.json'), 'utf8')) as { epoch: number };

    // SIGKILL after epoch 3's weights are written, before its checkpoint.json names them
    const killed = train(out, 4, true, 'checkpoint:state-written');
    expect(killed.signal).toBe('SIGKILL');
    expect(checkpoint().epoch).toBe(2); // the old checkpoint, whole
    expect(await whole(out)).toBe(2); // and the old bundle

    // SIGKILL during the export: the new graph is written, the manifest not yet
    const exporting = train(out, 4, true, 'export:graphs-written');
    expect(exporting.signal).toBe('SIGKILL');
    expect(exporting.stderr).toContain('resumed from');
    expect(checkpoint().epoch).toBe(4);
    expect(await whole(out)).toBe(2); // still the old bundle: its manifest names its own graph
    expect(readdirSync(out).filter((f) => f.endsWith('.onnx')).length).toBe(2); // the new one waits unnamed

    // and resuming goes on to the end: the new bundle, the stray graph gone
    const resumed = train(out, 5, true);
    expect(resumed.code).toBe(0);
    expect(await whole(out)).toBe(5);
    const graphs = readdirSync(out).filter((f) => f.endsWith('.onnx'));
    expect(graphs).toEqual([readManifest(out).model]);
    expect(readdirSync(join(out, 'checkpoint')).filter((f) => f.endsWith('.bin')).length).toBeLessThanOrEqual(
      2,
    );
    expect(existsSync(join(out, 'checkpoint', 'best'))).toBe(false);
  }, 120_000);
});

describe('the quiet collector', () => {
  it('collects every so often, only when every session has a gap with nothing due', () => {
    const clock = new VirtualClock(0);
    let collections = 0;
    const collector = new QuietCollector(clock, 60_000, () => void collections++);
    let busyUntil = 0;
    collector.add({ quietFor: (now) => (busyUntil - now > 0 ? 0 : Infinity) });
    collector.add({ quietFor: () => QUIET_MS });
    collector.maybeCollect();
    expect(collections).toBe(0); // not due yet
    clock.advance(60_000);
    busyUntil = 60_010;
    collector.maybeCollect();
    expect(collections).toBe(0); // one session has a send due
    busyUntil = 0;
    collector.maybeCollect();
    expect(collections).toBe(1);
    collector.maybeCollect();
    expect(collections).toBe(1); // and not again until the next period
    expect(new QuietCollector(clock, 1000, undefined).enabled).toBe(false);
  });

  it('a live session is quiet only with nothing due soon and no note just played in', async () => {
    const h = await liveHarness({ mode: 'call-response' });
    try {
      expect(h.live.quietFor(h.clock.now())).toBe(Infinity); // nothing queued, nothing played in
      await h.send([0x90, 60, 100]);
      expect(h.live.quietFor(h.clock.now())).toBe(0);
      await h.run(30);
      expect(h.live.quietFor(h.clock.now())).toBe(30);
    } finally {
      await h.close();
    }
    const solo = await liveHarness({ mode: 'solo' });
    try {
      await solo.run(2000);
      const quiet = solo.live.quietFor(solo.clock.now());
      expect(Number.isFinite(quiet) && quiet >= 0).toBe(true); // the next send is queued
    } finally {
      await solo.close();
    }
  });
});
