/**
 * The stage page in a real browser (Debian's chromium, driven by playwright-core): a recorded phrase
 * goes in through a jzz port to a daemon, and the page shows the call, the answer and the chords; its
 * controls reach the engine and /status; its panic silences the answer. Skipped where /usr/bin/chromium
 * is missing, unless IMPROV_REQUIRE_BROWSER=1 (CI installs it and sets that).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../src/daemon/daemon.ts';
import { parseMessage, type MidiMessage } from '../src/midi/messages.ts';
import { jzzListen, jzzSendTo } from '../src/midi/ports.ts';
import { tempDir } from './helpers.ts';
import { until } from './until.ts';
import { stageFrameSchema, statusSchema } from '../src/daemon/statusSchema.ts';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.IMPROV_REQUIRE_BROWSER === '1')
  throw new Error(`${CHROMIUM} is missing, and IMPROV_REQUIRE_BROWSER=1 asks for the browser tests`);

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface PageState {
  axisLabels: string[];
  countIn: string;
  frames: number;
  notes: { who: 'call' | 'answer'; note: number; at: number }[];
  drawnChords: string[];
  frame: { status: Record<string, unknown> } | null;
}

describe.skipIf(!available)('the stage page in chromium', () => {
  let browser: Browser;
  let page: Page;
  let d: Daemon;
  let keys: (bytes: number[]) => void;
  const heard: { at: number; m: MidiMessage }[] = [];
  let stopListening: () => void = () => undefined;
  const id = `${process.pid}`;

  beforeAll(async () => {
    const dir = tempDir('stage');
    const file = join(dir, 'improv.config.json');
    writeFileSync(
      file,
      JSON.stringify({
        input: `jzz:Stage keys ${id}`,
        output: `jzz:Stage out ${id}`,
        mode: 'call-response',
        silenceBeats: 1,
        http: { port: 0 },
      }),
    );
    d = await startDaemon(file, { logLevel: 'silent' });
    keys = jzzSendTo(`Stage keys ${id}`);
    stopListening = jzzListen(`Stage out ${id}`, (b) => {
      const m = parseMessage(b);
      if (m) heard.push({ at: performance.now(), m });
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`http://127.0.0.1:${d.port}/`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    stopListening();
    await d?.stop();
  });

  const pageState = (): Promise<PageState> =>
    page.evaluate(() => (window as unknown as { improvStage: PageState }).improvStage);

  /** A phrase played in real time: [note, ms held], one after another. */
  async function play(phrase: [number, number][]): Promise<void> {
    for (const [note, ms] of phrase) {
      keys([0x90, note, 100]);
      await pause(ms);
      keys([0x80, note, 0]);
    }
  }

  it('shows the call, the answer as it is scheduled, and the chord of each bar', async () => {
    await until('the first status frame', async () => (await pageState()).frame !== null, 10_000);
    await play([
      [62, 150],
      [65, 150],
      [69, 150],
      [72, 300],
    ]);
    await until(
      'answer notes on the page',
      async () => (await pageState()).notes.some((n) => n.who === 'answer'),
      10_000,
    );
    const s = await pageState();
    expect(s.notes.filter((n) => n.who === 'call').map((n) => n.note)).toEqual([62, 65, 69, 72]);
    // the answer's notes reach the page before they sound: the first is stamped after it arrived
    expect(s.notes.filter((n) => n.who === 'answer').length).toBeGreaterThan(0);
    expect(new Set(s.drawnChords)).toEqual(new Set(['Dm7', 'G7', 'Cmaj7']));
    expect(await page.locator('#chord').textContent()).toMatch(/^(Dm7|G7|Cmaj7)$/);
    // what the page received is the stage frame's contract, whole (the schema is strict)
    expect(stageFrameSchema.parse((await pageState()).frame).status.mode).toBe('call-response');
    // the pitch axis names the notes: every C at least, and the rows of the call where there is room
    const labels = (await pageState()).axisLabels;
    expect(labels).toContain('C4');
    expect(labels.filter((l) => /^C\d$/.test(l)).length).toBeGreaterThan(0);
    await pause(300);
    mkdirSync('out', { recursive: true });
    await page.screenshot({ path: 'out/stage-page.png' });
  }, 30_000);

  it('counts in while it waits for a call, when asked: the beats of the bar, 1 to 4', async () => {
    await until('the engine to wait for a call', () => d.live.engine.currentState === 'idle', 10_000);
    expect((await pageState()).countIn).toBe(''); // off by default
    await page.locator('#c-countin').check();
    const seen = new Set<string>();
    await until(
      'a whole count',
      async () => {
        seen.add((await pageState()).countIn);
        return ['1', '2', '3', '4'].every((c) => seen.has(c));
      },
      20_000, // a bound: five bars at 120 BPM, while a loaded box may miss a beat's poll
      () => `(seen ${JSON.stringify([...seen])})`,
    );
    expect(seen.has('5')).toBe(false); // a 4/4 bar
    expect(await page.locator('#countin').textContent()).toMatch(/^[1-4]$/);
    await page.locator('#c-countin').uncheck();
    await until('the count to go', async () => (await pageState()).countIn === '', 2000);
  }, 45_000);

  it('its temperature control changes the engine and /status', async () => {
    await page.locator('#c-temperature').evaluate((el: HTMLInputElement) => {
      el.value = '0.4';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await until('the engine to take 0.4', () => d.live.engine.improviser.sampler.temperature === 0.4);
    const status = statusSchema.parse(await (await fetch(`http://127.0.0.1:${d.port}/status`)).json());
    expect(status.temperature).toBe(0.4);
    // and a change from elsewhere (here HTTP, as a CC would) shows on the page
    await fetch(`http://127.0.0.1:${d.port}/control`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ temperature: 1.5 }),
    });
    await until(
      'the page to show 1.5',
      async () => (await page.locator('#o-temperature').textContent()) === '1.50',
    );
  }, 30_000);

  it('its panic silences every sounding note and drops the rest of the answer', async () => {
    await until('the last answer to end', () => d.live.engine.idle, 10_000);
    // a long call, so its answer (as long as the call) is still going when panic comes
    await play(Array.from({ length: 10 }, (_, i): [number, number] => [60 + (i % 5) * 2, 200]));
    await until('the answer to sound', () => d.live.sounding > 0, 10_000);
    await page.locator('#panic').click();
    const clicked = performance.now();
    await until('silence', () => d.live.sounding === 0, 1000);
    await pause(1500);
    const late = heard.filter((h) => h.m.type === 'noteon' && h.at > clicked + 100);
    expect(late).toEqual([]);
    expect(d.live.engine.currentState).toBe('idle');
  }, 30_000);
});
