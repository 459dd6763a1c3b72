/** The programs a user would read with: cat, dd, curl, fio. Each returns wall seconds or parsed figures. */
import { runOk } from './proc.js';

export async function catSeconds(path: string): Promise<number> {
  return (await runOk('cat', [path], { discardStdout: true })).seconds;
}

export interface DdResult {
  seconds: number;
  bytes: number;
}

/** `dd bs=1M` to /dev/null; `countMiB`/`skipMiB` read a slice (e.g. reader i of 64). */
export async function dd(
  path: string,
  opts: { countMiB?: number; skipMiB?: number } = {},
): Promise<DdResult> {
  const args = [`if=${path}`, 'of=/dev/null', 'bs=1M'];
  if (opts.countMiB !== undefined) args.push(`count=${opts.countMiB}`);
  if (opts.skipMiB !== undefined) args.push(`skip=${opts.skipMiB}`);
  const r = await runOk('dd', args);
  const m = /^(\d+) bytes/m.exec(r.stderr);
  return { seconds: r.seconds, bytes: m?.[1] ? Number(m[1]) : Number.NaN };
}

/** `curl -o <file>`: one stream, written to disk like a download. `rangeEnd` limits to bytes 0..rangeEnd. */
export async function curlSeconds(url: string, outFile: string, rangeEnd?: number): Promise<number> {
  const args = ['-sS', '--fail', '-o', outFile];
  if (rangeEnd !== undefined) args.push('-r', `0-${rangeEnd}`);
  args.push(url);
  return (await runOk('curl', args)).seconds;
}

export interface FioResult {
  mbPerSec: number;
  iops: number;
  seconds: number;
}

export interface FioOptions {
  bs: string;
  /** bytes of I/O per pass; with `timeBased`, one pass over the region is plenty */
  ioBytes: number;
  maxSeconds: number;
  /** drop the file's pages before the run (fio's invalidate=1) */
  invalidate: boolean;
  /** limit the region to the file's first bytes */
  sizeBytes?: number;
  /** run for exactly `maxSeconds` (fio's time_based), not until `ioBytes` are read */
  timeBased?: boolean;
  /** record every I/O fio issues (fio's write_iolog) to this file */
  writeIolog?: string;
}

/**
 * Random reads with fio (psync, one job): `ioBytes` of `bs`-sized reads spread over the whole file,
 * stopping after `maxSeconds`. `invalidate` asks fio to drop the file's pages first (a no-op through
 * most FUSE mounts; "cold" is a fresh mount and cache instead). randrepeat=1 makes the offsets the
 * same every run (they depend on the region's size and bs only, see http-random.ts), and
 * fadvise_hint=1 (POSIX_FADV_RANDOM, fio's default for random I/O, spelt out because the rows rely
 * on it) keeps the kernel from reading ahead: a 4 KiB read stays one 4 KiB read through FUSE.
 */
export async function fioRandRead(path: string, opts: FioOptions): Promise<FioResult> {
  const r = await runOk('fio', [
    ...(opts.sizeBytes ? [`--size=${opts.sizeBytes}`] : []),
    '--name=randread',
    `--filename=${path}`,
    '--readonly',
    '--rw=randread',
    `--bs=${opts.bs}`,
    '--ioengine=psync',
    `--io_size=${opts.ioBytes}`,
    `--runtime=${opts.maxSeconds}`,
    ...(opts.timeBased ? ['--time_based'] : []),
    `--invalidate=${opts.invalidate ? 1 : 0}`,
    '--fadvise_hint=1',
    '--randrepeat=1',
    ...(opts.writeIolog ? [`--write_iolog=${opts.writeIolog}`] : []),
    '--output-format=json',
  ]);
  const parsed: unknown = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
  const read = (parsed as { jobs?: { read?: { bw_bytes?: unknown; iops?: unknown; runtime?: unknown } }[] })
    .jobs?.[0]?.read;
  if (typeof read?.bw_bytes !== 'number' || typeof read.iops !== 'number')
    throw new Error('fio: no read figures');
  const runtimeMs = typeof read.runtime === 'number' ? read.runtime : Number.NaN;
  return { mbPerSec: read.bw_bytes / 1e6, iops: read.iops, seconds: runtimeMs / 1000 };
}

/**
 * Reads a file (or its first `readBytes`) through a mount and returns MB/s: `cat` for a whole file,
 * `dd bs=1M count=` for a prefix. A short read is an error, never a fast number.
 */
export async function readThrough(
  path: string,
  sizeBytes: number,
  readBytes = sizeBytes,
  tool: 'cat' | 'dd' = 'cat',
): Promise<number> {
  if (tool === 'cat' && readBytes >= sizeBytes) return sizeBytes / 1e6 / (await catSeconds(path));
  const r = await dd(path, readBytes < sizeBytes ? { countMiB: Math.floor(readBytes / 2 ** 20) } : {});
  const want = readBytes < sizeBytes ? Math.floor(readBytes / 2 ** 20) * 2 ** 20 : sizeBytes;
  if (r.bytes !== want) throw new Error(`short read through ${path}: ${r.bytes} of ${want} bytes`);
  return r.bytes / 1e6 / r.seconds;
}
