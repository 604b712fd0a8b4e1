/** The stage page's event feed and the control surface every door shares. */
import { describe, expect, it } from 'vitest';
import { ControlError } from '../src/live/controls.ts';
import { PAGE_QUEUE_FRAMES, StageFeed, type PageSink } from '../src/live/stageFeed.ts';
import { liveHarness } from './liveHarness.ts';

/** A page's connection: takes `room` writes, then reports backed up until drained. */
class SlowSink implements PageSink {
  readonly written: string[] = [];
  private drainers: (() => void)[] = [];
  constructor(private room: number) {}
  write(text: string): boolean {
    this.written.push(text);
    return --this.room > 0;
  }
  once(_event: 'drain', cb: () => void): this {
    this.drainers.push(cb);
    return this;
  }
  drain(room: number): void {
    this.room = room;
    this.drainers.splice(0).forEach((cb) => cb());
  }
}

const note = (i: number) => ({ t: 'note', who: 'answer', note: 60, at: i, dur: 100 }) as const;

describe('the stage feed', () => {
  it('never waits for a stalled page: its queue is bounded, the rest dropped and counted, other pages served', () => {
    const feed = new StageFeed();
    expect(feed.listening).toBe(false);
    const stalled = new SlowSink(3);
    const quick = new SlowSink(Infinity);
    feed.open(stalled);
    const closeQuick = feed.open(quick);
    for (let i = 0; i < 2000; i++) feed.publish(note(i));
    expect(quick.written).toHaveLength(2000);
    expect(stalled.written).toHaveLength(3); // backed up after three writes
    expect(feed.dropped).toBe(2000 - 3 - PAGE_QUEUE_FRAMES);
    stalled.drain(Infinity); // the page catches up: what was queued goes, in order
    expect(stalled.written).toHaveLength(3 + PAGE_QUEUE_FRAMES);
    expect(JSON.parse(stalled.written.at(-1)?.slice(6) ?? '')).toMatchObject({ at: 2 + PAGE_QUEUE_FRAMES });
    closeQuick();
    expect(feed.pagesOpen).toBe(1);
  });
});

describe('the control surface', () => {
  it('checks a change whole before applying any of it, with one set of limits', async () => {
    const h = await liveHarness();
    const controls = h.live.controls;
    expect(() => controls.apply({ temperature: 0.5, chords: 'Dm7 Q#13' })).toThrow(ControlError);
    expect(h.live.engine.improviser.sampler.temperature).toBe(1); // nothing of it applied
    expect(() => controls.apply({ temperature: 5 })).toThrow(
      /^temperature: expected a number from 0 to 2$/, // the words of the CLI and the config
    );
    expect(() => controls.apply({ model: 3 })).toThrow('model: 3 is outside 0..0');
    controls.apply({ temperature: 0.5, topP: 0.8, chords: 'Am7 | D7 | Gmaj7', bpm: 90 });
    expect(controls.values).toMatchObject({
      temperature: 0.5,
      topP: 0.8,
      chords: 'Am7 | D7 | Gmaj7',
      bpm: 90,
    });
    expect(h.live.engine.chords).toHaveLength(3);
    await h.send([0xb0, 20, 127]); // the temperature CC comes through the same door
    expect(controls.values.temperature).toBe(2);
    await h.close();
  });
});
