import { ContentChangedError, RefUnreadableError, WandbfsError } from '../core/errors.js';

/** Downloaded bytes did not match the digest (or the size): nothing was cached; maps to EIO. */
export class IntegrityError extends WandbfsError {
  constructor(message: string) {
    super('ERR_INTEGRITY', message, { hint: 'the next open downloads the file again' });
  }
}

/** The cache disk is full (ENOSPC) or the limits leave no room; reads fall back to streaming. */
export class DiskFullError extends WandbfsError {
  constructor(message: string, cause?: unknown) {
    super('ERR_DISK_FULL', message, {
      cause,
      hint: 'free disk space, lower --max-cache-size, or run `wandbfs cache prune`',
    });
  }
}

/** A fill made no progress for stallTimeoutMs; waiting reads fail instead of hanging. */
export class StallError extends WandbfsError {
  constructor(label: string, stallMs: number) {
    super('ERR_STALL', `download of ${label} made no progress for ${stallMs} ms`, {
      hint: 'the next read retries; check the network',
    });
  }
}

/** The blob cache was closed while a read was waiting. */
export class CacheClosedError extends WandbfsError {
  constructor() {
    super('ERR_CACHE_CLOSED', 'blob cache is closed');
  }
}

/**
 * Corrupt data, an object replaced since it was listed, a reference's object its store no longer
 * serves as logged (other ETag or size, private, gone), or a full disk lose a fill's partial file
 * (its chunks belong to no digest anyone will ask for, or cannot be kept); anything else keeps it
 * for a resume.
 */
export function losesPartial(err: unknown): boolean {
  return (
    err instanceof IntegrityError ||
    err instanceof ContentChangedError ||
    err instanceof RefUnreadableError ||
    err instanceof DiskFullError
  );
}
