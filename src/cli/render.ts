/** Rendering a MIDI file to WAV with fluidsynth and a General MIDI soundfont, where both are installed. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const SOUNDFONTS = ['/usr/share/sounds/sf2/FluidR3_GM.sf2', '/usr/share/sounds/sf2/default-GM.sf2'];

export type RenderResult =
  | { readonly kind: 'rendered'; readonly font: string }
  | { readonly kind: 'failed'; readonly why: string }
  | { readonly kind: 'unavailable' };

export function renderWav(mid: string, wav: string): RenderResult {
  const font = SOUNDFONTS.find((f) => existsSync(f));
  if (!font || spawnSync('fluidsynth', ['--version']).status !== 0) return { kind: 'unavailable' };
  const r = spawnSync('fluidsynth', ['-ni', '-F', wav, '-r', '44100', font, mid], { encoding: 'utf8' });
  return r.status === 0 ? { kind: 'rendered', font } : { kind: 'failed', why: r.stderr.split('\n')[0] ?? '' };
}
