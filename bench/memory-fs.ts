/**
 * The metadata ceiling: a minimal in-memory fuse-native filesystem. By default shaped like a big W&B
 * project, `/runs/run-00000 .. run-NNNNN/`, each run directory holding `filesPerRun` small files;
 * with `--tree` the exact tree a wandbfs mount showed (the output of
 * `find <dir> -mindepth 1 -printf '%y\t%P\n'`), so a walk makes the same round trips as over wandbfs.
 * Nothing is computed per call beyond a map lookup, so `ls -l` and `find` measure the binding and the kernel.
 *
 *   node dist/bench/memory-fs.js <mountpoint> [--runs 10000] [--files-per-run 10] [--xattr]
 *   node dist/bench/memory-fs.js <mountpoint> --tree <file> [--timeout 10] [--xattr]
 *
 * --xattr answers getxattr with ENODATA (as a filesystem that serves user.* xattrs must) instead of
 * leaving it unimplemented, which lets the kernel stop asking after the first ENOSYS.
 * --timeout sets the kernel's entry and attribute timeouts (default an hour; wandbfs's are 10 s).
 */
import { readFileSync } from 'node:fs';
import { Fuse, fuseWithRawOptions, serveUntilSignalled, type FuseStat } from './lib/fuse.js';

function flagValue(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  return Number.isFinite(v) && v >= 0 ? v : dflt;
}

function flagString(args: string[], name: string): string | null {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? null) : null;
}

interface Entry {
  stat: FuseStat;
  /** a directory's entries and their stats (so readdir gives the kernel each entry's type) */
  names?: string[];
  stats?: FuseStat[];
}

const now = new Date();
const stat = (mode: number, size: number, nlink: number): FuseStat => ({
  mode,
  uid: 0,
  gid: 0,
  size,
  nlink,
  mtime: now,
  atime: now,
  ctime: now,
});
const dirStat = stat(0o40555, 4096, 2);
const fileStat = stat(0o100444, 1234, 1);
const linkStat = stat(0o120777, 16, 1);

function dir(withStats = true): Entry {
  return withStats ? { stat: dirStat, names: [], stats: [] } : { stat: dirStat, names: [] };
}

/**
 * The synthetic tree: /runs/run-NNNNN/file-N.txt. Its listings carry names only, as they always have
 * (the rows measured against it since issue 15 stay comparable); its hour-long attribute timeout
 * answers the stat that costs `find` after the first walk.
 */
function runsTree(runs: number, filesPerRun: number): Map<string, Entry> {
  const tree = new Map<string, Entry>([['/', dir(false)]]);
  const add = (parent: string, name: string, e: Entry): void => {
    tree.get(parent)?.names?.push(name);
    tree.set(parent === '/' ? `/${name}` : `${parent}/${name}`, e);
  };
  add('/', 'runs', dir(false));
  for (let r = 0; r < runs; r++) {
    const run = `run-${String(r).padStart(5, '0')}`;
    add('/runs', run, dir(false));
    for (let f = 0; f < filesPerRun; f++) add(`/runs/${run}`, `file-${f}.txt`, { stat: fileStat });
  }
  return tree;
}

/**
 * The tree in a `find -printf '%y\t%P\n'` listing: d, f and l entries, parents before children.
 * Its listings carry each entry's type, as wandbfs's do.
 */
function listedTree(file: string): Map<string, Entry> {
  const tree = new Map<string, Entry>([['/', dir()]]);
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const type = line.slice(0, tab);
    const rel = line.slice(tab + 1);
    const cut = rel.lastIndexOf('/');
    const parent = tree.get(cut < 0 ? '/' : `/${rel.slice(0, cut)}`);
    if (!parent?.names || !parent.stats) throw new Error(`tree file: ${rel} comes before its directory`);
    const e: Entry = type === 'd' ? dir() : { stat: type === 'l' ? linkStat : fileStat };
    parent.names.push(rel.slice(cut + 1));
    parent.stats.push(e.stat);
    tree.set(`/${rel}`, e);
  }
  return tree;
}

function main(): void {
  const args = process.argv.slice(2);
  const mnt = args[0];
  if (!mnt || mnt.startsWith('--')) {
    process.stderr.write(
      'usage: memory-fs <mountpoint> [--runs N] [--files-per-run N] [--tree FILE] [--timeout S] [--xattr]\n',
    );
    process.exit(2);
  }
  const treeFile = flagString(args, '--tree');
  const tree = treeFile
    ? listedTree(treeFile)
    : runsTree(flagValue(args, '--runs', 10_000), flagValue(args, '--files-per-run', 10));
  const timeout = flagValue(args, '--timeout', 3600);
  const withXattr = args.includes('--xattr');

  const fuse = fuseWithRawOptions(
    mnt,
    {
      getattr(path, cb) {
        const e = tree.get(path);
        if (!e) return cb(Fuse.ENOENT);
        cb(0, e.stat);
      },
      readdir(path, cb) {
        const e = tree.get(path);
        if (!e?.names) return cb(Fuse.ENOENT);
        cb(0, e.names, e.stats);
      },
      ...(withXattr
        ? { getxattr: (_p: string, _n: string, _pos: number, cb: (c: number) => void) => cb(Fuse.ENODATA) }
        : {}),
    },
    { force: true, autoUnmount: true, attrTimeout: timeout, entryTimeout: timeout },
    'ro,fsname=wandbfs-bench-memfs,default_permissions',
  );
  serveUntilSignalled(fuse, 'memory-fs');
}

main();
