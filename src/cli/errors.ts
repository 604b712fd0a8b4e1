/**
 * Turns errors into one clear line and an exit code: 2 for bad input, setup or machine (a UserError,
 * music/errors.ts, or a RangeError from a checked value), 1 for anything else.
 */
import { UserError } from '../music/errors.ts';
import { DaemonStartError } from './detach.ts';

export class UsageError extends UserError {
  override readonly name = 'UsageError';
}

export function reportError(err: unknown): number {
  if (err instanceof DaemonStartError) {
    process.stderr.write(`improv: ${err.name}: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof UserError || err instanceof RangeError) {
    process.stderr.write(`improv: ${err.name}: ${err.message}\n`);
    return 2;
  }
  process.stderr.write(
    `improv: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return 1;
}
