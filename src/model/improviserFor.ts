/** The improviser for a loaded bundle, by its kind. */
import { meterOf } from '../music/conditioning.ts';
import type { PitchRange } from '../music/decode.ts';
import type { MusicalKey } from '../music/musicalKey.ts';
import type { Rng } from '../music/rng.ts';
import { AbcImproviser } from './abcImproviser.ts';
import { JazzImproviser, type Improviser } from './jazzImproviser.ts';
import type { SamplerOptions } from './sampler.ts';
import type { LstmSession } from './lstmSession.ts';
import type { TimeSignature } from '../music/units.ts';

export function improviserFor(
  session: LstmSession,
  rng: Rng,
  sampler: SamplerOptions,
  range: PitchRange,
  meter: TimeSignature,
  maxCopy: number | null = null,
  /** The key a grammar model plays in (null: heard from the chords and calls); an ABC tune has its own K:. */
  key: MusicalKey | null = null,
): Improviser {
  if (session.manifest.kind === 'abc-char') return new AbcImproviser(session, rng, sampler, meter, maxCopy);
  const jazz = new JazzImproviser(
    session,
    rng,
    sampler,
    range,
    meterOf(meter.numerator, meter.denominator),
    maxCopy,
  );
  jazz.setKey(key);
  return jazz;
}
