import { WandbfsError } from '../core/errors.js';

/** Negative errno values as fuse-native expects them (Linux numbering). */
export const Errno = {
  EPERM: -1,
  ENOENT: -2,
  EINTR: -4,
  EIO: -5,
  EBADF: -9,
  EACCES: -13,
  ENOTDIR: -20,
  EISDIR: -21,
  EINVAL: -22,
  EROFS: -30,
  ERANGE: -34,
  ENODATA: -61,
} as const;

export type ErrnoName = keyof typeof Errno;

/**
 * The ONE table from typed error codes (WandbfsError.code, any layer) to errno. Codes are matched as
 * strings so src/fs needs no import from api/meta/blobs. Anything not listed (and anything that is
 * not a WandbfsError, e.g. a bug or a raw fs error inside the blob cache) becomes EIO.
 */
const TABLE: Record<string, ErrnoName> = {
  // src/fs
  ERR_FS_NOENT: 'ENOENT',
  ERR_FS_NOTDIR: 'ENOTDIR',
  ERR_FS_ISDIR: 'EISDIR',
  ERR_FS_INVAL: 'EINVAL',
  ERR_FS_READONLY: 'EROFS',
  ERR_FS_NOXATTR: 'ENODATA',
  ERR_FS_RANGE: 'ERANGE',
  ERR_FS_BADF: 'EBADF',
  ERR_FS_UNREADABLE: 'EIO',
  ERR_FS_REFERENCE: 'EACCES',
  ERR_FS_SHORT_READ: 'EIO',
  ERR_FS_TIMEOUT: 'EIO',
  ERR_FS_SHUTDOWN: 'EIO',
  // src/core
  ERR_ABORTED: 'EINTR',
  // src/api
  ERR_AUTH: 'EACCES',
  ERR_FORBIDDEN: 'EACCES',
  ERR_NOT_FOUND: 'ENOENT',
  ERR_RATE_LIMITED: 'EIO',
  ERR_TRANSIENT: 'EIO',
  ERR_PERMANENT: 'EIO',
  ERR_URL_EXPIRED: 'EIO',
  ERR_NO_API_KEY: 'EACCES',
  // src/blobs
  ERR_INTEGRITY: 'EIO',
  ERR_DISK_FULL: 'EIO',
  ERR_STALL: 'EIO',
  ERR_CACHE_CLOSED: 'EIO',
  // src/meta
  ERR_META_OFFLINE: 'EIO',
};

export function errnoName(err: unknown): ErrnoName {
  if (err instanceof WandbfsError) return TABLE[err.code] ?? 'EIO';
  return 'EIO';
}

export function toErrno(err: unknown): number {
  return Errno[errnoName(err)];
}

/** Errors that are part of normal operation (shells probe for missing names all the time). */
export function isRoutine(name: ErrnoName): boolean {
  return (
    name === 'ENOENT' ||
    name === 'ENODATA' ||
    name === 'ENOTDIR' ||
    name === 'EISDIR' ||
    name === 'EROFS' ||
    name === 'ERANGE' ||
    name === 'EINVAL'
  );
}
