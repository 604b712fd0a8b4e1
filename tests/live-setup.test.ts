import { Command } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import { setupFromFlags, liveFlags, type LiveFlags } from '../src/cli/liveFlags.ts';
import { ConfigError, parseConfig, setupOf } from '../src/daemon/config.ts';
import { ControlError } from '../src/live/controls.ts';
import { buildRig, heldFields, SESSION_FIELDS } from '../src/live/rig.ts';
import { parseSetup, SETUP_DEFAULTS } from '../src/live/setup.ts';
import { SETUP_LIMITS } from '../src/live/limits.ts';
import { VirtualClock } from '../src/midi/clock.ts';
import { LstmSession } from '../src/model/lstmSession.ts';
import { snapshotOf } from '../src/model/jazzImproviser.ts';
import { feedInput } from './rigs.ts';
import { until } from './until.ts';

/** `improv live`'s flags as parsed (commander's own parsers and defaults), without running anything. */
function flags(args: string[]): LiveFlags {
  const cmd = liveFlags(new Command().exitOverride().configureOutput({ writeErr: () => undefined }));
  cmd.parse(args, { from: 'user' });
  return cmd.opts();
}

const config = (body: Record<string, unknown>): ReturnType<typeof parseConfig> =>
  parseConfig(JSON.stringify(body), 'improv.config.json');

describe('one live setup for the CLI, the daemon, the bench and the tests', () => {
  it('the flags with no arguments and an empty config give the same setup: the schema defaults', () => {
    expect(setupFromFlags(flags([]))).toEqual(SETUP_DEFAULTS);
    expect(setupOf(config({}))).toEqual(SETUP_DEFAULTS);
    expect(SETUP_DEFAULTS).toMatchObject({ bpm: 120, mode: 'call-response', chords: 'Dm7 G7 Cmaj7 Cmaj7' });
  });

  it('the same choices as flags and as a config file give the same setup', () => {
    const fromFlags = setupFromFlags(
      flags([
        '--in',
        'jzz:Keys',
        '--out',
        'file:o.mid',
        '--bpm',
        '96',
        '--meter',
        '3/4',
        '--chords',
        'Am7 | D7 | Gmaj7',
        '--mode',
        'solo',
        '--bars',
        '2',
        '--channel-in',
        '3',
        '--channel-out',
        '4',
        '--thru',
        '5',
        '--range',
        '48-72',
        '--notes',
        '36-96',
        '--temperature',
        '0.7',
        '--top-p',
        '0.9',
        '--cc',
        'panic=100,tempo=30',
        '--velocity',
        '70',
        '--no-link-start-stop',
        '--max-copy',
        '8',
      ]),
    );
    const fromConfig = setupOf(
      config({
        input: 'jzz:Keys',
        output: 'file:o.mid',
        bpm: 96,
        meter: '3/4',
        chords: 'Am7 | D7 | Gmaj7',
        mode: 'solo',
        responseBars: 2,
        channels: { in: 3, out: 4, thru: 5 },
        range: { low: 48, high: 72 },
        notes: { low: 36, high: 96 },
        temperature: 0.7,
        topP: 0.9,
        cc: { panic: 100, tempo: 30 },
        velocity: 70,
        link: { startStop: false },
        maxCopy: 8,
      }),
    );
    expect(fromFlags).toEqual(fromConfig);
    expect(fromFlags.maxCopy).toBe(8);
    expect(setupFromFlags(flags(['--max-copy', 'off'])).maxCopy).toBe(0);
    expect(setupFromFlags(flags(['--max-copy', 'default'])).maxCopy).toBeNull();
    expect(() => flags(['--max-copy', '-1'])).toThrow(
      'expected default, off or a whole number from 0 to 10000',
    );
    expect(() => config({ maxCopy: 2.5 })).toThrow('improv.config.json: maxCopy: expected a whole number');
    expect(fromFlags.meter).toEqual({ numerator: 3, denominator: 4 });
  });

  it('one set of limits: a flag, a config field and a control beyond it are all refused, naming the field', () => {
    const [, maxBpm] = SETUP_LIMITS.bpm;
    expect(() => flags(['--bpm', String(maxBpm + 1)])).toThrow(`expected a number from 20 to ${maxBpm}`);
    expect(() => config({ bpm: maxBpm + 1 })).toThrow(
      new ConfigError('improv.config.json', 'bpm', `expected a number from 20 to ${maxBpm}`),
    );
    expect(() => flags(['--temperature', '2.5'])).toThrow('expected a number from 0 to 2');
    expect(() => config({ temperature: 2.5 })).toThrow('improv.config.json: temperature: expected a number');
    expect(() => parseSetup({ topP: 0 })).toThrow('topP: expected a number from 0.01 to 1');
  });

  it('checks across fields name the flag or the field: a chord symbol, the answer range, interval and lookahead', () => {
    expect(() => setupFromFlags(flags(['--chords', 'Dm7 Hx7']))).toThrow(
      "--chords (or --leadsheet): unknown chord symbol 'Hx7'",
    );
    expect(() => config({ chords: 'Dm7 Hx7' })).toThrow(
      "improv.config.json: chords: unknown chord symbol 'Hx7'",
    );
    expect(() => setupFromFlags(flags(['--range', '60-65']))).toThrow(
      '--range: must span at least an octave',
    );
    expect(() => config({ range: { low: 60, high: 65 } })).toThrow('range: must span at least an octave');
    expect(() => parseSetup({ lookahead: 10, interval: 20 })).toThrow(/interval: .*lookahead/);
    expect(() => config({ tempo: 120 })).toThrow("Unrecognized key(s) in object: 'tempo'");
  });

  it('takes the key from --key or a leadsheet K: line, and names the flag when it is no key', () => {
    expect(setupFromFlags(flags(['--key', 'Ador'])).key).toBe('Ador');
    expect(setupFromFlags(flags([])).key).toBeNull();
    expect(() => setupFromFlags(flags(['--key', 'Hmaj']))).toThrow(
      "--key (or a leadsheet K: line): expected a key such as G, Em, 'A dorian' or Dmix",
    );
    expect(() => config({ key: 'Q' })).toThrow('improv.config.json: key: expected a key');
  });
});

describe('the rig built from a setup', () => {
  it('plays the setup, and a reload swaps the engine but keeps what the session holds, saying which', async () => {
    const clock = new VirtualClock();
    const sent: number[] = [];
    const output = {
      name: 'out',
      send: (m: { type: string; channel?: number }) =>
        void (m.type === 'noteon' && sent.push(m.channel ?? -1)),
      close: () => Promise.resolve(),
    };
    const rig = await buildRig(
      parseSetup({ bpm: 90, mode: 'solo', channels: { out: 3 }, temperature: 0.5 }),
      {
        clock,
        input: feedInput('keys'),
        output,
        log: () => undefined,
      },
    );
    try {
      const { live } = rig;
      expect(live.controls.values).toMatchObject({ bpm: 90, mode: 'solo', temperature: 0.5 });
      live.start();
      for (let t = 0; t < 3000; t += 25) {
        clock.advance(25);
        await new Promise((r) => setTimeout(r, 1));
      }
      expect(sent.length).toBeGreaterThan(2);
      expect(new Set(sent)).toEqual(new Set([2])); // channel 3, 0-based
      const unchanged = await rig.reload(
        parseSetup({ bpm: 140, mode: 'call-response', channels: { out: 5 }, output: 'virtual:Other' }),
      );
      expect(unchanged.sort()).toEqual(['channels', 'output']);
      expect(live.controls.values).toMatchObject({ bpm: 140, mode: 'call-response', temperature: 1 });
      expect(rig.setup.output).toBe('virtual:Improviser');
      expect(rig.setup.channels.out).toBe(3);
      expect(rig.setup.bpm).toBe(140);
      // a reload whose models do not load throws, and the old engine goes on
      await expect(rig.reload(parseSetup({ models: ['no/such/model'] }))).rejects.toThrow(/no\/such\/model/);
      expect(live.controls.values.bpm).toBe(140);
    } finally {
      await rig.close();
    }
  });

  it('a reload while the old engine awaits its model: the old work is dropped, its models outlive it, the new engine is not cut', async () => {
    const clock = new VirtualClock();
    const notes: number[] = [];
    const output = {
      name: 'out',
      send: (m: { type: string; note?: number }) => void (m.type === 'noteon' && notes.push(m.note ?? -1)),
      close: () => Promise.resolve(),
    };
    const log: string[] = [];
    const rig = await buildRig(parseSetup({ mode: 'solo' }), {
      clock,
      input: feedInput('keys'),
      output,
      log: (l) => void log.push(l),
    });
    const wakes = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        clock.advance(25);
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    try {
      const [old] = rig.sessions as LstmSession[];
      if (!old) throw new Error('no model loaded');
      // the old model's next step waits at a gate, as a slow step on a loaded box does
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      let waiting = false;
      let disposedAt: 'before' | 'after' | null = null;
      const step = old.step.bind(old);
      old.step = async (...args) => {
        waiting = true;
        await gate;
        return step(...args); // on a disposed session this throws "Session already disposed"
      };
      const dispose = old.dispose.bind(old);
      let released = false;
      old.dispose = () => {
        disposedAt ??= released ? 'after' : 'before';
        return dispose();
      };
      rig.live.start();
      for (let i = 0; i < 200 && !waiting; i++) await wakes(1);
      expect(waiting).toBe(true); // the old engine is generating, inside a model step
      const oldEngine = rig.live.engine;
      const reloaded = rig.reload(parseSetup({ mode: 'solo' }));
      // the new models load from disk: wait for the swap, not for a time
      await until('the reload to swap the engine', () => rig.live.engine !== oldEngine, 30_000);
      await wakes(4);
      expect(disposedAt).toBeNull(); // not under the step still running
      released = true;
      open();
      await reloaded;
      expect(disposedAt).toBe('after');
      const before = notes.length;
      await wakes(200); // five seconds of music
      expect(rig.live.stats.failures).toBe(0);
      expect(log.filter((l) => l.includes('generation failed'))).toEqual([]);
      expect(notes.length).toBeGreaterThan(before + 2); // the new engine plays, and was never cut
      expect(rig.live.engine.currentState).toBe('responding');
    } finally {
      await rig.close();
    }
  });

  it('a reload plays the setup as written, naming the controls it sets back, and keeps a STOP', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const rig = await buildRig(parseSetup({ temperature: 0.8 }), {
      clock,
      input: feedInput('keys'),
      output: { name: 'out', send: () => undefined, close: () => Promise.resolve() },
      log: (l) => void log.push(l),
    });
    try {
      const { live } = rig;
      live.controls.apply({ temperature: 0.4, mode: 'solo' }); // over HTTP or CC, since the start
      live.controls.apply({ stop: true });
      await rig.reload(parseSetup({ temperature: 0.8 }));
      expect(live.controls.values).toMatchObject({ temperature: 0.8, mode: 'call-response', stopped: true });
      expect(log.filter((l) => l.startsWith('reload: controls'))).toEqual([
        'reload: controls as the setup has them, not as they were set since: temperature 0.4 → 0.8, mode "solo" → "call-response"',
      ]);
      live.controls.apply({ stop: false });
      expect(live.controls.values.stopped).toBe(false);
    } finally {
      await rig.close();
    }
  });

  it('a reload keeps the meter too when the rig follows Link (the meter is the session quantum)', () => {
    expect(heldFields(parseSetup({}))).toEqual([...SESSION_FIELDS]);
    expect(heldFields(parseSetup({ clock: 'link' }))).toContain('meter');
    expect(heldFields(parseSetup({ clock: 'follow' }))).not.toContain('meter');
  });

  it('leaves models it was given loaded, and disposes of those it loaded', async () => {
    const clock = new VirtualClock();
    const session = await LstmSession.load('models/jazz');
    const out = () => ({ name: 'out', send: () => undefined, close: () => Promise.resolve() });
    const given = await buildRig(parseSetup({}), {
      clock,
      sessions: [session],
      output: out(),
      log: () => undefined,
    });
    await given.close();
    const cond = (m: LstmSession): Float32Array => new Float32Array(m.conditionWidth);
    await expect(session.step(0, cond(session))).resolves.toBeDefined(); // still usable
    const own = await buildRig(parseSetup({}), { clock, output: out(), log: () => undefined });
    const [loaded] = own.sessions;
    await own.close();
    await expect((loaded as LstmSession).step(0, cond(loaded as LstmSession))).rejects.toThrow();
    await session.dispose();
  });
});

describe('the control surface and the setup share limits', () => {
  it('a control beyond a setup limit is refused', async () => {
    const clock = new VirtualClock();
    const rig = await buildRig(parseSetup({}), {
      clock,
      output: { name: 'out', send: () => undefined, close: () => Promise.resolve() },
      log: () => undefined,
    });
    try {
      expect(() => rig.live.controls.apply({ bpm: SETUP_LIMITS.bpm[1] + 1 })).toThrow(ControlError);
      // the same words as the CLI's and the config's (one voice for errors)
      expect(() => rig.live.controls.apply({ bpm: SETUP_LIMITS.bpm[1] + 1 })).toThrow(
        `bpm: expected a number from 20 to ${SETUP_LIMITS.bpm[1]}`,
      );
      expect(() => rig.live.controls.apply({ responseBars: 1.5 })).toThrow(
        'responseBars: expected a whole number from 0 to 64',
      );
      expect(() => rig.live.controls.apply({ temperature: SETUP_LIMITS.temperature[1] + 0.1 })).toThrow(
        ControlError,
      );
      rig.live.controls.apply({ temperature: SETUP_LIMITS.temperature[1] });
      expect(rig.live.controls.values.temperature).toBe(2);
      expect(() => rig.live.controls.apply({ responseBars: SETUP_LIMITS.responseBars[1] + 1 })).toThrow(
        ControlError,
      );
      rig.live.controls.apply({ responseBars: 2 });
      expect(rig.live.controls.values.responseBars).toBe(2);
      // the copy bound: the bundle's own by default, a number, none, or back to the default
      expect(rig.live.controls.values.maxCopy).toBeNull();
      const guarded = (): unknown => snapshotOf(rig.live.engine.improviser.snapshot(), 'grammar');
      expect(guarded()).toMatchObject({ copies: { tokenLength: 0 } });
      expect(() => rig.live.controls.apply({ maxCopy: SETUP_LIMITS.maxCopy[1] + 1 })).toThrow(ControlError);
      rig.live.controls.apply({ maxCopy: 8 });
      expect(rig.live.controls.values.maxCopy).toBe(8);
      expect(rig.live.engine.improviser.copyStats).toEqual({ binding: 0, fallbacks: 0 });
      rig.live.controls.apply({ maxCopy: 0 });
      expect(rig.live.engine.improviser.copyStats).toBeNull();
      expect(guarded()).toMatchObject({ copies: null });
      rig.live.controls.apply({ maxCopy: null });
      expect(rig.live.engine.improviser.copyStats).not.toBeNull();
    } finally {
      await rig.close();
    }
  });
});
