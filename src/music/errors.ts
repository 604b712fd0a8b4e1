import type { ZodError } from 'zod';

/**
 * An error that is the input's, the setup's or the machine's, not the program's: the command line
 * reports it in one line and exits 2 (cli/errors.ts). A class says so by extending this, wherever it
 * lives, so the command line knows the trainers' and the model's errors without loading them.
 */
export class UserError extends Error {}

/** A problem with an input file: names the file and what is wrong with it. */
export class InputFileError extends UserError {
  override readonly name = 'InputFileError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** A model bundle that does not match what the code expects: names the field. */
export class BundleError extends UserError {
  override readonly name = 'BundleError';
  constructor(
    readonly file: string,
    readonly field: string,
    problem: string,
  ) {
    super(`${file}: ${field}: ${problem}`);
  }
}

/** A file that cannot be written where the user asked (a folder, a missing folder, no permission). */
export class OutputFileError extends UserError {
  override readonly name = 'OutputFileError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/**
 * The first problem zod found, as the field (dotted path; `root` when the whole value is wrong) and
 * what it allows: every schema-checked input (bundle, checkpoint, config, setup, /control) names it so.
 */
export function firstIssue(error: ZodError, root: string): { field: string; problem: string } {
  const issue = error.issues[0];
  return { field: issue?.path.join('.') || root, problem: issue?.message ?? 'invalid' };
}

/** Why a file operation failed, as the user can act on it: the errno code (ENOENT, EACCES…) or the message. */
export const ioReason = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err);
