/** Turns errors into one clear line and an exit code: 2 for bad input or configuration, 1 for anything else. */
import { ChordSymbolError } from '../music/chordSymbols.ts';
import { BundleError, InputFileError, OutputFileError } from '../music/errors.ts';
import { CheckpointError, TrainingDivergedError } from '../train/trainer.ts';
import { TokenFormatError } from '../music/grammar.ts';
import { FidelityError } from '../train/exportBundle.ts';
import { PrimingError } from '../model/tune.ts';
import { PortError } from '../midi/ports.ts';
import { ConfigError } from '../daemon/config.ts';
import { FormError } from '../music/abc/form.ts';
import { DeviceError } from '../train/ortTrainer.ts';
import { DaemonStartError } from './detach.ts';
import { LinkUnavailableError } from '../midi/link.ts';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const USER_ERRORS = [
  ConfigError,
  PortError,
  PrimingError,
  InputFileError,
  BundleError,
  ChordSymbolError,
  TokenFormatError,
  FidelityError,
  RangeError,
  UsageError,
  FormError,
  DeviceError,
  OutputFileError,
  CheckpointError,
  TrainingDivergedError,
  LinkUnavailableError,
];

export function reportError(err: unknown): number {
  if (err instanceof DaemonStartError) {
    process.stderr.write(`improv: ${err.name}: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof Error && USER_ERRORS.some((E) => err instanceof E)) {
    process.stderr.write(`improv: ${err.name}: ${err.message}\n`);
    return 2;
  }
  process.stderr.write(
    `improv: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return 1;
}
