import { WandbfsError } from '../core/errors.js';

/**
 * Typed errors of the FUSE core. Each carries a code that src/fs/errno.ts maps to an errno; nothing
 * else in src/fs knows errno numbers.
 */
export class NoEntryError extends WandbfsError {
  constructor(path: string) {
    super('ERR_FS_NOENT', `no such file or directory: ${path}`);
  }
}

export class NotADirectoryError extends WandbfsError {
  constructor(path: string) {
    super('ERR_FS_NOTDIR', `not a directory: ${path}`);
  }
}

export class IsADirectoryError extends WandbfsError {
  constructor(path: string) {
    super('ERR_FS_ISDIR', `is a directory: ${path}`);
  }
}

export class NotASymlinkError extends WandbfsError {
  constructor(path: string) {
    super('ERR_FS_INVAL', `not a symbolic link: ${path}`);
  }
}

/** Any attempt to change the tree; the mount is read-only by design. */
export class ReadOnlyError extends WandbfsError {
  constructor(op: string, path: string) {
    super('ERR_FS_READONLY', `${op} on ${path}: wandbfs is read-only`);
  }
}

export class NoXattrError extends WandbfsError {
  constructor(path: string, name: string) {
    super('ERR_FS_NOXATTR', `no attribute ${name} on ${path}`);
  }
}

export class BadHandleError extends WandbfsError {
  constructor(fh: number) {
    super('ERR_FS_BADF', `unknown file handle ${fh}`);
  }
}

/** Listed but cannot be read: reference-only artifact entries, entries without a digest, etc. */
export class UnreadableError extends WandbfsError {
  constructor(path: string, reason: string) {
    super('ERR_FS_UNREADABLE', `${path} cannot be read: ${reason}`);
  }
}

/**
 * A reference entry (s3://, gs://, https://, wandb-artifact://) whose bytes cannot be had (private,
 * gone, changed since logged, no ETag recorded): a permission-style refusal (EACCES), not an I/O
 * failure of the mount. `uri` is the displayed form (no query string).
 */
export class ReferenceUnreadableError extends WandbfsError {
  constructor(path: string, uri: string, reason: string) {
    super('ERR_FS_REFERENCE', `${path} is a reference to ${uri}, which cannot be read: ${reason}`);
  }
}

/** The blob reader returned fewer bytes than the file's size promises: never pass that on as EOF. */
export class ShortReadError extends WandbfsError {
  constructor(path: string, position: number, sizeBytes: number) {
    super('ERR_FS_SHORT_READ', `${path}: content ended at ${position} of ${sizeBytes} bytes`);
  }
}

/** An operation outlived its deadline (e.g. a stalled download); the caller gets EIO, not a hang. */
export class OpTimeoutError extends WandbfsError {
  constructor(op: string, path: string, ms: number) {
    super('ERR_FS_TIMEOUT', `${op} ${path} did not finish within ${ms} ms`);
  }
}

/** The filesystem is shutting down and takes no new opens. */
export class ShuttingDownError extends WandbfsError {
  constructor(path: string) {
    super('ERR_FS_SHUTDOWN', `open ${path}: wandbfs is unmounting`);
  }
}

/** A handler resolved with something fuse-native cannot send (a bug in the handler, not the user's doing). */
export class BadResultError extends WandbfsError {
  constructor(op: string, what: string) {
    super('ERR_FS_BAD_RESULT', `${op} returned ${what}`);
  }
}

/** Mount lifecycle problems the user can fix; the CLI prints `hint`. */
export class MountError extends WandbfsError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super('ERR_MOUNT', message, {
      ...(hint === undefined ? {} : { hint }),
      ...(cause === undefined ? {} : { cause }),
    });
  }
}
