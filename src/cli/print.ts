import { WandbfsError, errorMessage } from '../core/errors.js';
import { redact } from '../core/log.js';

/** Prints an error as the user should see it: message, the fix (hint), the stack only with --debug. */
export function reportError(err: unknown, debug: boolean): void {
  process.stderr.write(`wandbfs: ${redact(errorMessage(err))}\n`);
  if (err instanceof WandbfsError && err.hint) process.stderr.write(`  hint: ${redact(err.hint)}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(redact(err.stack) + '\n');
  else if (!(err instanceof WandbfsError)) process.stderr.write('  (run with --debug for details)\n');
}

/** Runs a command body; errors are reported and turn into a non-zero exit code, never a stack dump. */
export async function runCommand(
  debug: boolean | undefined,
  body: () => Promise<number | void>,
): Promise<void> {
  try {
    const code = await body();
    if (typeof code === 'number') process.exitCode = code;
  } catch (err) {
    reportError(err, debug === true);
    process.exitCode = 1;
  }
}

export function out(line = ''): void {
  process.stdout.write(line + '\n');
}
