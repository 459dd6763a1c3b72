/**
 * The metadata ceiling: a minimal in-memory fuse-native filesystem shaped like a big W&B project,
 * `/runs/run-00000 .. run-NNNNN/`, each run directory holding `filesPerRun` small files. Nothing is
 * computed per call beyond a map lookup, so `ls -l /runs` and `find` measure the binding and the kernel.
 *
 *   node dist/bench/memory-fs.js <mountpoint> [--runs 10000] [--files-per-run 10] [--xattr]
 *
 * --xattr answers getxattr with ENODATA (as a filesystem that serves user.* xattrs must) instead of
 * leaving it unimplemented, which lets the kernel stop asking after the first ENOSYS.
 */
import { Fuse, fuseWithRawOptions, serveUntilSignalled, type FuseStat } from './lib/fuse.js';

function flagValue(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  return Number.isFinite(v) && v >= 0 ? v : dflt;
}

function main(): void {
  const args = process.argv.slice(2);
  const mnt = args[0];
  if (!mnt || mnt.startsWith('--')) {
    process.stderr.write('usage: memory-fs <mountpoint> [--runs N] [--files-per-run N] [--xattr]\n');
    process.exit(2);
  }
  const runs = flagValue(args, '--runs', 10_000);
  const filesPerRun = flagValue(args, '--files-per-run', 10);
  const withXattr = args.includes('--xattr');

  const now = new Date();
  const dirStat: FuseStat = {
    mode: 0o40555,
    uid: 0,
    gid: 0,
    size: 4096,
    nlink: 2,
    mtime: now,
    atime: now,
    ctime: now,
  };
  const fileStat: FuseStat = {
    mode: 0o100444,
    uid: 0,
    gid: 0,
    size: 1234,
    nlink: 1,
    mtime: now,
    atime: now,
    ctime: now,
  };
  const runNames = Array.from({ length: runs }, (_, i) => `run-${String(i).padStart(5, '0')}`);
  const runSet = new Set(runNames);
  const fileNames = Array.from({ length: filesPerRun }, (_, i) => `file-${i}.txt`);
  const fileSet = new Set(fileNames);

  /** '/', '/runs', '/runs/<run>' are dirs; '/runs/<run>/<file>' files */
  const classify = (path: string): 'dir' | 'file' | null => {
    if (path === '/' || path === '/runs') return 'dir';
    const parts = path.split('/');
    if (parts[1] !== 'runs' || !runSet.has(parts[2] ?? '')) return null;
    if (parts.length === 3) return 'dir';
    if (parts.length === 4 && fileSet.has(parts[3] ?? '')) return 'file';
    return null;
  };

  const fuse = fuseWithRawOptions(
    mnt,
    {
      getattr(path, cb) {
        const kind = classify(path);
        if (kind === null) return cb(Fuse.ENOENT);
        cb(0, kind === 'dir' ? dirStat : fileStat);
      },
      readdir(path, cb) {
        if (path === '/') return cb(0, ['runs']);
        if (path === '/runs') return cb(0, runNames);
        if (classify(path) === 'dir') return cb(0, fileNames);
        cb(Fuse.ENOENT);
      },
      ...(withXattr
        ? { getxattr: (_p: string, _n: string, _pos: number, cb: (c: number) => void) => cb(Fuse.ENODATA) }
        : {}),
    },
    { force: true, autoUnmount: true, attrTimeout: 3600, entryTimeout: 3600 },
    'ro,fsname=wandbfs-bench-memfs,default_permissions',
  );
  serveUntilSignalled(fuse, 'memory-fs');
}

main();
