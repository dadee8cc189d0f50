/**
 * What the CLI prints and how it ends: one exit code per outcome (documented in
 * docs/offline-wrapping.md), human lines or one JSON object with `--json`. Nothing printed here
 * may hold a token, a public key or a blob: callers pass names, lengths, digests and sentences.
 */

/** Exit codes of `imported-kms-key` commands. */
export const EXIT = {
  OK: 0,
  /** The CLI or the handler refused (a lapsed set, a blob of the wrong length, a failed import). */
  REFUSED: 1,
  USAGE: 2,
  /** S3 or KMS answered with an error, or could not be reached. */
  AWS: 3,
  /** `upload --wait`: no result for this upload within the wait. */
  TIMEOUT: 4,
} as const;

/** A failure with its exit code and one actionable sentence. */
export class CliError extends Error {
  constructor(message: string, public readonly exitCode: number) {
    super(message);
    this.name = 'CliError';
  }
}

/** An AWS SDK error as a CliError naming what was attempted (the error's name and message, never a payload). */
export function awsError(what: string, error: unknown,
  hint = 'Check the bucket, the Region and your credentials (an operator needs only the S3 access grantOperator gives).'): CliError {
  if (error instanceof CliError) return error;
  const e = error as { name?: string; message?: string };
  return new CliError(`${what} failed (${e.name ?? 'Error'}: ${e.message ?? String(error)}). ${hint}`, EXIT.AWS);
}

/** Prints a command's result: `lines` for people, `data` as one JSON object with --json. */
export function report(json: boolean, data: Record<string, unknown>, lines: string[]): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${lines.join('\n')}\n`);
}

/** Prints a failure on stderr (or as `{ "error", "exitCode" }` on stdout with --json) and sets the exit code. */
export function fail(json: boolean, error: CliError): void {
  if (json) process.stdout.write(`${JSON.stringify({ error: error.message, exitCode: error.exitCode }, null, 2)}\n`);
  else process.stderr.write(`imported-kms-key: ${error.message}\n`);
  process.exitCode = error.exitCode;
}
