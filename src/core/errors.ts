/**
 * Every error code in wandbfs, grouped by the layer that throws it. src/fs/errno.ts maps each one to
 * an errno in a Record<ErrorCode, ...>, so adding a code here without an errno fails to compile.
 * Code outside that table tells errors apart by class (instanceof), never by comparing codes.
 */
export type ErrorCode =
  // src/core
  | 'ERR_CONFIG'
  | 'ERR_ABORTED'
  | 'ERR_SCHEMA_TOO_NEW'
  | 'ERR_MIGRATION'
  | 'ERR_CONTENT_CHANGED'
  // src/config
  | 'ERR_NO_API_KEY'
  // src/api
  | 'ERR_AUTH'
  | 'ERR_FORBIDDEN'
  | 'ERR_NOT_FOUND'
  | 'ERR_RATE_LIMITED'
  | 'ERR_TRANSIENT'
  | 'ERR_PERMANENT'
  | 'ERR_URL_EXPIRED'
  | 'ERR_REF_UNREADABLE'
  | 'ERR_OFFLINE'
  | 'ERR_REGISTRY_NO_DOWNLOAD'
  // src/blobs
  | 'ERR_INTEGRITY'
  | 'ERR_DISK_FULL'
  | 'ERR_STALL'
  | 'ERR_CACHE_CLOSED'
  // src/meta
  | 'ERR_META_OFFLINE'
  // src/fs
  | 'ERR_FS_NOENT'
  | 'ERR_FS_NOTDIR'
  | 'ERR_FS_ISDIR'
  | 'ERR_FS_INVAL'
  | 'ERR_FS_READONLY'
  | 'ERR_FS_NOXATTR'
  | 'ERR_FS_BADF'
  | 'ERR_FS_UNREADABLE'
  | 'ERR_FS_REFERENCE'
  | 'ERR_FS_SHORT_READ'
  | 'ERR_FS_TIMEOUT'
  | 'ERR_FS_SHUTDOWN'
  | 'ERR_FS_BAD_RESULT'
  | 'ERR_MOUNT'
  | 'ERR_NO_SUCH_PATH'
  | 'ERR_WARM_REFUSED'
  | 'ERR_WARM_SHORT'
  | 'ERR_WARM_NOT_STORED'
  | 'ERR_DAEMON_FAILED'
  // src/admin
  | 'ERR_CONTROL'
  | 'ERR_CONTROL_TIMEOUT'
  // src/cli
  | 'ERR_NOT_MOUNTED'
  | 'ERR_UNMOUNT'
  | 'ERR_REFRESH'
  | 'ERR_DAEMON_START'
  | 'ERR_UNREACHABLE_AT_MOUNT';

/**
 * Base of every typed error in wandbfs. Layers subclass it (api/errors.ts, blobs/errors.ts, ...);
 * nothing matches on message text, and only src/fs/errno.ts turns these into errno values.
 * Messages must never contain secrets: redact when the error is built, not when it is logged.
 */
export class WandbfsError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
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

/** A cache database migration failed; the transaction was rolled back. */
export class MigrationError extends WandbfsError {
  constructor(migration: string, cause: unknown) {
    super('ERR_MIGRATION', `migration ${migration} failed`, { cause });
  }
}

/**
 * The stored object behind a file's URL is not the one its listing describes (storage reports
 * another size): thrown by the API's range source, it makes the blob cache drop the download and the
 * FUSE core re-list the file (a running run's growing output.log, a replaced checkpoint). Core, not
 * api or blobs, because all three layers act on it and blobs may not import api.
 */
export class ContentChangedError extends WandbfsError {
  constructor(
    message: string,
    /** the size storage reports now, when it said one */
    readonly actualSize: number | null,
  ) {
    super('ERR_CONTENT_CHANGED', message, { hint: 'the file changed on W&B since it was listed' });
  }
}

/**
 * A reference entry's object (https://, s3://, gs://) cannot be read from its own store: private,
 * gone, or changed since the artifact was logged (another ETag). The message names the URI without
 * its query string; never retried. Core, not api, because the blob cache drops a fill's partial on
 * it (the bytes belong to an object the store no longer serves) and blobs may not import api.
 */
export class RefUnreadableError extends WandbfsError {
  constructor(message: string) {
    super('ERR_REF_UNREADABLE', message, {
      hint: 'wandbfs reads only public objects of a reference entry, and only while their ETag is the logged one',
    });
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
