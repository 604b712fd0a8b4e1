/** Tune-level validation with abcjs (a maintained ABC parser): its warnings, as plain text. */
import abcjs from 'abcjs';

export interface TuneCheck {
  readonly tunes: number;
  readonly warnings: readonly string[];
}

const stripHtml = (s: string): string => s.replace(/<[^>]*>/g, '').replace(/&nbsp;/g, ' ');

/** Parses ABC text with abcjs and returns how many tunes it found and its warnings. */
export function checkWithAbcjs(text: string): TuneCheck {
  const tunes = abcjs.parseOnly(text);
  return {
    tunes: tunes.length,
    warnings: tunes.flatMap((t) => (t.warnings ?? []).map(stripHtml)),
  };
}
