/**
 * Base of every typed error in wandbfs. Layers subclass it (api/errors.ts, blobs/errors.ts, ...);
 * nothing matches on message text, and only src/fs/errno.ts turns these into errno values.
 * Messages must never contain secrets: redact when the error is built, not when it is logged.
 */
export class WandbfsError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** A user-facing configuration problem (bad flag, missing key, bad mount point). The CLI prints `hint`. */
export class ConfigError extends WandbfsError {
  constructor(message: string, hint?: string) {
    super('ERR_CONFIG', message, hint === undefined ? {} : { hint });
  }
}

/** The operation was cancelled through an AbortSignal. */
export class AbortedError extends WandbfsError {
  constructor(message = 'operation aborted') {
    super('ERR_ABORTED', message);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
