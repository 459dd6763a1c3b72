/**
 * A typed face of fuse-native for the benchmark filesystems (fuse-native ships no types). Only the
 * parts the bench uses. Callbacks must always receive numbers (see fuse-native-notes.md: null or an
 * Error hangs the caller).
 */
import { createRequire } from 'node:module';

export interface FuseStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  mtime: Date;
  atime: Date;
  ctime: Date;
  blocks?: number;
  blksize?: number;
}

export type Cb<T = undefined> = (code: number, value?: T) => void;

export interface FuseOps {
  getattr(path: string, cb: Cb<FuseStat>): void;
  /** with `stats`, libfuse hands each entry's type to the kernel (d_type): `find` then needs no stat */
  readdir?(path: string, cb: (code: number, names?: string[], stats?: FuseStat[]) => void): void;
  open?(path: string, flags: number, cb: Cb<number>): void;
  release?(path: string, fd: number, cb: (code: number) => void): void;
  /** cb's first argument is the byte count (0 = EOF) or a negative errno */
  read?(
    path: string,
    fd: number,
    buf: Buffer,
    len: number,
    pos: number,
    cb: (bytesOrErrno: number) => void,
  ): void;
  getxattr?(
    path: string,
    name: string,
    position: number,
    cb: (code: number, value?: Buffer | null) => void,
  ): void;
}

export interface FuseOptions {
  force?: boolean;
  mkdir?: boolean;
  autoUnmount?: boolean;
  kernelCache?: boolean;
  autoCache?: boolean;
  attrTimeout?: number;
  entryTimeout?: number;
  fsname?: string;
  timeout?: number | false | Record<string, number | false>;
}

export interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
  _fuseOptions(): string;
}

export interface FuseCtor {
  new (mnt: string, ops: FuseOps, opts: FuseOptions): FuseInstance;
  ENOENT: number;
  EIO: number;
  EROFS: number;
  ENODATA: number;
  EBADF: number;
}

const require = createRequire(import.meta.url);
export const Fuse = require('fuse-native') as FuseCtor;

/**
 * fuse-native exposes no `ro`, `negative_timeout` and so on; appending raw `-o` options through the
 * `_fuseOptions` override is the documented way (fuse-native-notes.md §4).
 */
export function fuseWithRawOptions(
  mnt: string,
  ops: FuseOps,
  opts: FuseOptions,
  extra: string,
): FuseInstance {
  const fuse = new Fuse(mnt, ops, opts);
  const base = fuse._fuseOptions.bind(fuse);
  fuse._fuseOptions = () => {
    const b = base();
    return extra ? (b ? `${b},${extra}` : `-o${extra}`) : b;
  };
  return fuse;
}

/** The one file of the bare floor daemons (bench/bare-*.ts). */
export const ONE_FILE = '/data.bin';

/**
 * getattr, readdir and open of a read-only filesystem holding only ONE_FILE, of `bytes` bytes;
 * `onOpen` runs at each open of it.
 */
export function oneFileOps(
  bytes: number,
  onOpen: () => void = () => {},
): Pick<FuseOps, 'getattr' | 'readdir' | 'open'> {
  const now = new Date();
  const [uid, gid] = [process.getuid?.() ?? 0, process.getgid?.() ?? 0];
  const base = { nlink: 1, uid, gid, mtime: now, atime: now, ctime: now };
  return {
    getattr(path, cb) {
      if (path === '/') return cb(0, { ...base, mode: 0o40555, size: 4096 });
      if (path === ONE_FILE) return cb(0, { ...base, mode: 0o100444, size: bytes });
      cb(Fuse.ENOENT);
    },
    readdir(path, cb) {
      if (path !== '/') return cb(Fuse.ENOENT);
      cb(0, [ONE_FILE.slice(1)]);
    },
    open(path, flags, cb) {
      if (path !== ONE_FILE) return cb(Fuse.ENOENT);
      if ((flags & 3) !== 0) return cb(Fuse.EROFS);
      onOpen();
      cb(0, 1);
    },
  };
}

/**
 * Mounts, prints `ready` on stdout (the parent waits for the mount in /proc/self/mountinfo anyway)
 * and unmounts on SIGTERM/SIGINT so the parent's kill never leaves a stale mount.
 */
export function serveUntilSignalled(fuse: FuseInstance, label: string): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    fuse.unmount(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('uncaughtException', (err) => {
    process.stderr.write(`${label}: ${err.stack ?? String(err)}\n`);
    stop();
  });
  fuse.mount((err) => {
    if (err) {
      process.stderr.write(`${label}: mount failed: ${err.message}\n`);
      process.exit(1);
    }
    process.stdout.write('ready\n');
  });
}
