/** Turns errors into one clear line and an exit code: 2 for bad input or configuration, 1 for anything else. */
import { ChordSymbolError } from '../music/chordSymbols.ts';
import { BundleError, InputFileError, OutputFileError } from '../music/errors.ts';
import { TokenFormatError } from '../music/grammar.ts';
import { PortError } from '../midi/ports.ts';
import { ConfigError } from '../daemon/config.ts';
import { FormError } from '../music/abc/form.ts';
import { DaemonStartError } from './detach.ts';
import { LinkUnavailableError } from '../midi/link.ts';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const USER_ERRORS = [
  ConfigError,
  PortError,
  InputFileError,
  BundleError,
  ChordSymbolError,
  TokenFormatError,
  RangeError,
  UsageError,
  FormError,
  OutputFileError,
  LinkUnavailableError,
];

/**
 * The user errors of the trainers and the model, known by name: importing their classes here would
 * load TensorFlow.js and onnxruntime at every start of the command line (`improv --help`), which the
 * commands that need them load when they run.
 */
const USER_ERROR_NAMES: ReadonlySet<string> = new Set([
  'PrimingError',
  'FidelityError',
  'DeviceError',
  'CheckpointError',
  'TrainingDivergedError',
]);

export function reportError(err: unknown): number {
  if (err instanceof DaemonStartError) {
    process.stderr.write(`improv: ${err.name}: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof Error && (USER_ERROR_NAMES.has(err.name) || USER_ERRORS.some((E) => err instanceof E))) {
    process.stderr.write(`improv: ${err.name}: ${err.message}\n`);
    return 2;
  }
  process.stderr.write(
    `improv: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return 1;
}
