/**
 * The package's model API (`import … from 'improv/model'`): a bundle loaded as a stepping LSTM
 * session, jazz solos and ABC tunes generated from it, the improviser the live engine plays. Built to
 * JavaScript for the package, as `improv/music` is.
 */
export { LstmSession, type StepOutput, type SessionState } from './lstmSession.ts';
export { generateAbc, PrimingError, type AbcGenerateOptions, type AbcGeneration } from './tune.ts';
export { generateSolo, summarize, type Solo, type SoloOptions } from './solo.ts';
export { improviserFor } from './improviserFor.ts';
export type { SamplerOptions } from './sampler.ts';
