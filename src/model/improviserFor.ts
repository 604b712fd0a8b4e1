/** The improviser for a loaded bundle, by its kind. */
import { meterOf } from '../music/conditioning.ts';
import type { PitchRange } from '../music/decode.ts';
import type { Rng } from '../music/rng.ts';
import { AbcImproviser } from './abcImproviser.ts';
import { JazzImproviser, type Improviser } from './jazzImproviser.ts';
import type { SamplerOptions } from './sampler.ts';
import type { LstmSession } from './lstmSession.ts';

export function improviserFor(
  session: LstmSession,
  rng: Rng,
  sampler: SamplerOptions,
  range: PitchRange,
  meter: { numerator: number; denominator: number },
  maxCopy: number | null = null,
): Improviser {
  return session.manifest.kind === 'abc-char'
    ? new AbcImproviser(session, rng, sampler, meter, maxCopy)
    : new JazzImproviser(session, rng, sampler, range, meterOf(meter.numerator, meter.denominator), maxCopy);
}
