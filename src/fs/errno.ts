import { WandbfsError, type ErrorCode } from '../core/errors.js';

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
  ENETUNREACH: -101,
} as const;

export type ErrnoName = keyof typeof Errno;

/**
 * The ONE table from typed error codes (WandbfsError.code, any layer) to errno, and the only place
 * that looks at codes at all (everywhere else tells errors apart with instanceof). It is a
 * Record<ErrorCode, ...>, so a new code in src/core/errors.ts does not compile until it has a row
 * here. Anything that is not a WandbfsError (a bug, a raw fs error inside the blob cache) is EIO.
 */
const TABLE: Record<ErrorCode, ErrnoName> = {
  // src/fs
  ERR_FS_NOENT: 'ENOENT',
  ERR_FS_NOTDIR: 'ENOTDIR',
  ERR_FS_ISDIR: 'EISDIR',
  ERR_FS_INVAL: 'EINVAL',
  ERR_FS_READONLY: 'EROFS',
  ERR_FS_NOXATTR: 'ENODATA',
  ERR_FS_BADF: 'EBADF',
  ERR_FS_UNREADABLE: 'EIO',
  ERR_FS_REFERENCE: 'EACCES',
  ERR_FS_SHORT_READ: 'EIO',
  ERR_FS_TIMEOUT: 'EIO',
  ERR_FS_SHUTDOWN: 'EIO',
  ERR_FS_BAD_RESULT: 'EIO',
  ERR_MOUNT: 'EIO',
  // src/core
  ERR_ABORTED: 'EINTR',
  ERR_CONFIG: 'EIO',
  ERR_SCHEMA_TOO_NEW: 'EIO',
  ERR_MIGRATION: 'EIO',
  // a file whose bytes no longer match its listing, even after a re-list (FsCore re-lists first)
  ERR_CONTENT_CHANGED: 'EIO',
  // src/config
  ERR_NO_API_KEY: 'EACCES',
  // src/api
  ERR_AUTH: 'EACCES',
  ERR_FORBIDDEN: 'EACCES',
  ERR_NOT_FOUND: 'ENOENT',
  ERR_RATE_LIMITED: 'EIO',
  ERR_TRANSIENT: 'EIO',
  ERR_PERMANENT: 'EIO',
  ERR_URL_EXPIRED: 'EIO',
  // the registry role lists and describes versions but refuses their files: a permission, not a fault
  ERR_REGISTRY_NO_DOWNLOAD: 'EACCES',
  // a reference entry's own store refused or changed the object: a permission problem, not a disk one
  ERR_REF_UNREADABLE: 'EACCES',
  // W&B (or storage) cannot be reached and nothing is cached: "Network is unreachable" says why,
  // where EIO would send people looking for a broken disk (docs/semantics.md).
  ERR_OFFLINE: 'ENETUNREACH',
  // src/blobs
  ERR_INTEGRITY: 'EIO',
  ERR_DISK_FULL: 'EIO',
  ERR_STALL: 'EIO',
  ERR_CACHE_CLOSED: 'EIO',
  // src/meta
  ERR_META_OFFLINE: 'EIO',
  // src/admin and src/cli: never thrown inside a FUSE handler; listed so the table stays exhaustive
  ERR_CONTROL: 'EIO',
  ERR_CONTROL_TIMEOUT: 'EIO',
  ERR_NOT_MOUNTED: 'EIO',
  ERR_UNMOUNT: 'EIO',
  ERR_REFRESH: 'EIO',
  ERR_DAEMON_START: 'EIO',
  ERR_UNREACHABLE_AT_MOUNT: 'EIO',
  ERR_DAEMON_FAILED: 'EIO',
  // src/fs warm/pin requests over the control socket: never a FUSE reply either
  ERR_NO_SUCH_PATH: 'ENOENT',
  ERR_WARM_REFUSED: 'EIO',
  ERR_WARM_SHORT: 'EIO',
  ERR_WARM_NOT_STORED: 'EIO',
};

export function errnoName(err: unknown): ErrnoName {
  // `?? 'EIO'`: a code can still arrive untyped (e.g. a cast in a test double).
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
