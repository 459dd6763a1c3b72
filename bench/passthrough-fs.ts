/**
 * The binding's ceiling: a minimal fuse-native passthrough of a local directory (open → fd,
 * read → fs.read). Run as a child process (a process must never make sync fs calls into its own mount):
 *
 *   node dist/bench/passthrough-fs.js <source-dir> <mountpoint> [--kernel-cache] [--sync-reads]
 *
 * Without --kernel-cache every read enters JavaScript (the page cache is dropped at each open); with it,
 * `kernel_cache` plus long attr/entry timeouts let re-reads come from the page cache. With
 * --sync-reads each read is a `readSync` straight into the kernel's buffer on the main thread: the
 * fastest a fuse-native program serves a page-cached file, the ceiling of wandbfs's cached reads.
 */
import { close, lstat, open, read, readdir, readSync } from 'node:fs';
import { join } from 'node:path';
import { Fuse, fuseWithRawOptions, serveUntilSignalled, type FuseStat } from './lib/fuse.js';

function errno(err: NodeJS.ErrnoException | null): number {
  return typeof err?.errno === 'number' ? -Math.abs(err.errno) : Fuse.EIO;
}

function main(): void {
  const [source, mnt, ...flags] = process.argv.slice(2);
  if (!source || !mnt) {
    process.stderr.write('usage: passthrough-fs <source-dir> <mountpoint> [--kernel-cache] [--sync-reads]\n');
    process.exit(2);
  }
  const kernelCache = flags.includes('--kernel-cache');
  const syncReads = flags.includes('--sync-reads');
  const src = (p: string): string => join(source, p);

  const fuse = fuseWithRawOptions(
    mnt,
    {
      getattr(path, cb) {
        lstat(src(path), (err, st) => {
          if (err) return cb(errno(err));
          const stat: FuseStat = {
            mode: st.mode,
            uid: st.uid,
            gid: st.gid,
            size: st.size,
            nlink: st.nlink,
            mtime: st.mtime,
            atime: st.atime,
            ctime: st.ctime,
            blocks: st.blocks,
            blksize: st.blksize,
          };
          cb(0, stat);
        });
      },
      readdir(path, cb) {
        readdir(src(path), (err, names) => (err ? cb(errno(err)) : cb(0, names)));
      },
      open(path, flags, cb) {
        if ((flags & 3) !== 0) return cb(Fuse.EROFS);
        open(src(path), 'r', (err, fd) => (err ? cb(errno(err)) : cb(0, fd)));
      },
      release(_path, fd, cb) {
        close(fd, () => cb(0));
      },
      read(_path, fd, buf, len, pos, cb) {
        if (syncReads) {
          let n: number;
          try {
            n = readSync(fd, buf, 0, len, pos);
          } catch (err) {
            return cb(errno(err as NodeJS.ErrnoException));
          }
          return cb(n);
        }
        read(fd, buf, 0, len, pos, (err, n) => cb(err ? errno(err) : n));
      },
    },
    {
      force: true,
      autoUnmount: true,
      kernelCache,
      attrTimeout: kernelCache ? 3600 : 0,
      entryTimeout: kernelCache ? 3600 : 0,
      // the 15 s default would turn a slow read into ETIMEDOUT
      timeout: { default: 30_000, read: 600_000 },
    },
    'ro,fsname=wandbfs-bench-passthrough,default_permissions',
  );
  serveUntilSignalled(fuse, 'passthrough-fs');
}

main();
