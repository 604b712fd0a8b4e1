/**
 * The package's music API (`import … from 'improv/music'`): ABC read as it streams, the grammar of
 * the jazz model, Standard MIDI Files read and written, bundles' manifests. The package's `exports`
 * point at the JavaScript build of this module (dist/music/index.js, written by `npm run build`).
 */
export { AbcStreamReader, readAbc, type AbcEvent, type BarFit } from './abc/reader.ts';
export { AbcGuide, type GuideOptions } from './abc/guide.ts';
export { cleanTune, keyName } from './abc/clean.ts';
export { splitTunes, joinTunes } from './abc/corpus.ts';
export { formatToken, parseToken, type GrammarToken, type ChordEvent } from './grammar.ts';
export { parseSmf, readSmf, type SmfSong } from './smf.ts';
export { encodeSmf, writeSmf, type SmfDocument, type SmfPart, type SmfNote } from './smfWriter.ts';
export { readManifest, manifestSchema, type BundleManifest } from './bundle.ts';
