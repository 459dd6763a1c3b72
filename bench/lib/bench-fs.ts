/** The bench's own FUSE filesystems (passthrough, in-memory) and rclone, mounted as child processes. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mountDaemon, type MountedDaemon } from './fuse-daemon.js';
import { makeTempDir } from './tmp.js';

const benchDir = dirname(dirname(fileURLToPath(import.meta.url)));

export async function mountPassthrough(
  sourceDir: string,
  kernelCache: boolean,
  syncReads = false,
): Promise<MountedDaemon> {
  const { path } = await makeTempDir(kernelCache ? 'pt-kc' : syncReads ? 'pt-sync' : 'pt');
  const mnt = join(path, 'mnt');
  const args = [join(benchDir, 'passthrough-fs.js'), sourceDir, mnt];
  if (kernelCache) args.push('--kernel-cache');
  if (syncReads) args.push('--sync-reads');
  await mkdir(mnt);
  return mountDaemon('passthrough-fs', process.execPath, args, mnt);
}

export interface BareOptions {
  streams: number;
  chunkMiB: number;
  /** MD5 on the daemon's main thread, on a worker thread (--md5-worker), or none (--no-md5) */
  md5: 'main' | 'worker' | null;
}

/**
 * `bench/bare-cold-read.ts` showing `url` as `data.bin` of `bytes` bytes; its scratch file is made
 * in the same temp dir, which `removeDir` deletes after the unmount.
 */
export async function mountBareColdRead(
  url: string,
  bytes: number,
  o: BareOptions,
): Promise<MountedDaemon & { file: string; removeDir: () => Promise<void> }> {
  const { path, remove } = await makeTempDir(`bare-${o.md5 ?? 'nomd5'}`);
  const mnt = join(path, 'mnt');
  await mkdir(mnt);
  const args = [join(benchDir, 'bare-cold-read.js'), url, String(bytes), mnt, join(path, 'scratch.bin')];
  args.push('--streams', String(o.streams), '--chunk-mib', String(o.chunkMiB));
  if (o.md5 !== 'main') args.push(o.md5 ? '--md5-worker' : '--no-md5');
  const m = await mountDaemon('bare-cold-read', process.execPath, args, mnt);
  return { ...m, file: join(mnt, 'data.bin'), removeDir: remove };
}

/** `bench/bare-random-read.ts` showing `url` as `data.bin` of `bytes` bytes. */
export async function mountBareRandomRead(
  url: string,
  bytes: number,
): Promise<MountedDaemon & { file: string; removeDir: () => Promise<void> }> {
  const { path, remove } = await makeTempDir('bare-random');
  const mnt = join(path, 'mnt');
  await mkdir(mnt);
  const args = [join(benchDir, 'bare-random-read.js'), url, String(bytes), mnt];
  const m = await mountDaemon('bare-random-read', process.execPath, args, mnt);
  return { ...m, file: join(mnt, 'data.bin'), removeDir: remove };
}

export async function mountMemoryFs(
  runs: number,
  filesPerRun: number,
  xattr: boolean,
): Promise<MountedDaemon> {
  const flags = ['--runs', String(runs), '--files-per-run', String(filesPerRun)];
  return mountMemory('memfs', xattr ? [...flags, '--xattr'] : flags);
}

/**
 * The in-memory filesystem serving the tree listed in `treeFile` (`find -mindepth 1 -printf
 * '%y\t%P\n'` of a mount), with the kernel's entry and attribute timeouts set to `timeoutS`.
 */
export async function mountMemoryTree(treeFile: string, timeoutS: number): Promise<MountedDaemon> {
  return mountMemory('memtree', ['--tree', treeFile, '--timeout', String(timeoutS), '--xattr']);
}

/** `bench/memory-fs.ts` with `flags`, on a mount point in a temp dir of its own. */
async function mountMemory(label: string, flags: string[]): Promise<MountedDaemon> {
  const { path } = await makeTempDir(label);
  const mnt = join(path, 'mnt');
  await mkdir(mnt);
  return mountDaemon('memory-fs', process.execPath, [join(benchDir, 'memory-fs.js'), mnt, ...flags], mnt);
}

/**
 * `rclone mount :http:` of the bench's HTTP server with a full VFS cache, as a user would set it up
 * for read-only checkpoints. A fresh cache dir per mount unless one is passed (for warm-after-remount).
 */
export async function mountRclone(
  httpUrl: string,
  cacheDir?: string,
): Promise<MountedDaemon & { cacheDir: string; removeDir: () => Promise<void> }> {
  const { path, remove } = await makeTempDir('rclone');
  const mnt = join(path, 'mnt');
  await mkdir(mnt);
  const cache = cacheDir ?? join(path, 'cache');
  const config = join(path, 'rclone.conf');
  await writeFile(config, '');
  const args = [
    'mount',
    ':http:',
    mnt,
    '--http-url',
    httpUrl,
    '--vfs-cache-mode',
    'full',
    '--read-only',
    '--cache-dir',
    cache,
    '--config',
    config,
    '--log-level',
    'ERROR',
  ];
  const m = await mountDaemon('rclone mount', 'rclone', args, mnt);
  return { ...m, cacheDir: cache, removeDir: remove };
}
