/**
 * `npm start` on a machine without a MIDI system: a 16-bar solo over ii–V–I changes from the shipped
 * model, written to out/demo-solo.mid, shown as a piano roll in the terminal, and rendered to
 * out/demo-solo.wav where fluidsynth and a General MIDI soundfont are installed.
 */
import { nameWithOctave, spell } from '../music/pitch.ts';
import { TWELFTHS_PER_QUARTER } from '../music/time.ts';
import { generateJazz } from './jazzCommands.ts';
import { renderWav } from './render.ts';
import type { TypedNote } from '../music/note.ts';

export const DEMO_CHORDS = 'Dm7 G7 Cmaj7 Cmaj7 Cm7 F7 Bbmaj7 Bbmaj7 Ebm7 Ab7 Dbmaj7 Dbmaj7 Dm7 G7 Cmaj7 A7';

/** A text piano roll: one row per pitch, one column per eighth note. */
export function pianoRoll(notes: readonly TypedNote[], bars: number, barLength: number): string {
  if (notes.length === 0) return '(no notes)';
  const col = TWELFTHS_PER_QUARTER / 2;
  const width = Math.ceil((bars * barLength) / col);
  const lo = Math.min(...notes.map((n) => n.midi));
  const hi = Math.max(...notes.map((n) => n.midi));
  const rows: string[] = [];
  for (let p = hi; p >= lo; p--) {
    const cells = new Array<string>(width).fill(' ');
    for (let c = 0; c < width; c += barLength / col) cells[c] = '·';
    for (const n of notes.filter((x) => x.midi === p)) {
      const a = Math.floor(n.start / col);
      const b = Math.max(a + 1, Math.ceil((n.start + n.dur) / col));
      for (let c = a; c < b && c < width; c++) cells[c] = c === a ? n.type : '=';
    }
    rows.push(`${nameWithOctave(spell(p)).padStart(4)} |${cells.join('')}`);
  }
  return rows.join('\n');
}

export async function runDemo(opts: {
  model: string;
  seed: number;
  log: (line: string) => void;
}): Promise<void> {
  const out = 'out/demo-solo.mid';
  const bars = 16;
  const r = await generateJazz({
    model: opts.model,
    bars,
    seed: opts.seed,
    sampler: { temperature: 1, topK: 0, topP: 0.95 },
    chords: DEMO_CHORDS,
    out,
  });
  process.stdout.write(`${pianoRoll(r.solo.notes, bars, 4 * TWELFTHS_PER_QUARTER)}\n`);
  process.stdout.write(
    `(letters: C chord tone, S scale tone, A approach, X other; '=' held; '·' bar lines)\n`,
  );
  process.stdout.write(
    `chords: ${DEMO_CHORDS}\nwrote ${out}: ${r.summary.notes} notes, range ${r.summary.low}–${r.summary.high}\n`,
  );
  const wav = 'out/demo-solo.wav';
  const rendered = renderWav(out, wav);
  if (rendered.kind === 'rendered')
    process.stdout.write(`rendered ${wav} with fluidsynth (${rendered.font})\n`);
  else if (rendered.kind === 'failed') opts.log(`fluidsynth could not render: ${rendered.why}`);
  else {
    process.stdout.write(
      'no fluidsynth + GM soundfont here (apt-get install fluidsynth fluid-soundfont-gm to hear it); play the .mid in any player or DAW\n',
    );
  }
  process.stdout.write('this demo opens no MIDI ports: to play live through MIDI ports, run `improv live`\n');
}
