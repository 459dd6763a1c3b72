/**
 * Workload 3: warm re-reads (should come from the kernel page cache, like cat of a local file) and the
 * first read of an already-cached blob after a remount (a pread loop through JavaScript, like the
 * passthrough without kernel cache).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { blobsRoot } from '../../src/blobs/path.js';
import { mountPassthrough } from '../lib/bench-fs.js';
import {
  measure,
  measureAlternating,
  unavailableRow,
  type BenchContext,
  type RowSpec,
} from '../lib/context.js';
import { catSeconds, readThrough } from '../lib/readers.js';
import { mbPerSec } from '../lib/timing.js';
import { localCat, passthroughKernelCache, passthroughNoCache, rcloneRead, size } from './baselines.js';
import type { WandbfsMount } from '../lib/wandbfs.js';
import { pathIn, subjectFor, withMount } from './wandbfs-side.js';

export const W3 = '3 warm / cached';

export async function warmRead(ctx: BenchContext): Promise<void> {
  const cat = await localCat(ctx);
  const pt = await passthroughNoCache(ctx);
  const ptKc = await passthroughKernelCache(ctx);
  const rclone = await rcloneRead(ctx, ctx.net.small);
  const f = ctx.net.small;
  const warmSpec = {
    id: '3.wandbfs.warm',
    workload: W3,
    subject: `wandbfs warm re-read, ${size(f)}`,
    unit: 'MB/s' as const,
    comparisons: [{ vs: cat, target: 0.7, op: '>=' as const }, { vs: ptKc.warm }, { vs: rclone.warm }],
  };
  const pairedPtSpec: RowSpec = {
    id: '3.pt.paired',
    workload: W3,
    subject:
      'passthrough FUSE, no kernel cache, first cat after its mount (alternating with the remount samples)',
    short: 'passthrough, same stretch',
    unit: 'MB/s',
  };
  // The ceiling of a cached read through fuse-native: the same passthrough answering each read
  // with a readSync into the kernel's buffer, as wandbfs does while its disk keeps up.
  const syncPtSpec: RowSpec = {
    id: '3.ptsync.paired',
    workload: W3,
    subject:
      'passthrough FUSE, no kernel cache, synchronous reads, first cat after its mount (alternating, the ceiling)',
    short: 'sync passthrough, same stretch',
    unit: 'MB/s',
  };
  const remountSpec: RowSpec = {
    id: '3.wandbfs.remount',
    workload: W3,
    subject: `wandbfs first read of cached blob after remount, ${size(f)}`,
    unit: 'MB/s',
    comparisons: [
      { vs: pairedPtSpec.id, target: 1.0, op: '>=' },
      { vs: syncPtSpec.id },
      { vs: pt },
      { vs: rclone.remount },
    ],
  };
  const subject = await subjectFor(ctx, f);
  if (typeof subject === 'string') {
    unavailableRow(ctx, warmSpec, subject);
    unavailableRow(ctx, remountSpec, subject);
    unavailableRow(ctx, pairedPtSpec, subject);
    unavailableRow(ctx, syncPtSpec, subject);
    return;
  }
  const read = async (m: WandbfsMount): Promise<number> =>
    readThrough(await pathIn(m, f), f.sizeBytes, f.readBytes);
  let cacheDir = '';
  let removeDir: (() => Promise<void>) | null = null;
  await withMount(ctx, subject.fake, { keepDir: true }, async (m) => {
    cacheDir = m.cacheDir;
    removeDir = m.removeDir;
    await read(m); // the cold fill, not measured here
    await measure(ctx, warmSpec, ctx.opts.runs, () => read(m));
  });
  const local = ctx.file1g;
  // Both sides read page-cached bytes through JavaScript. The passthroughs keep the local file in
  // the page cache by reading it every turn; the blob file is read before each remount, because
  // nothing touches it between samples and a host may page out cache left untouched for a minute
  // (this machine's DAMON reclaim does), which made the first remount a disk read.
  await catSeconds(local.path);
  const blob = await fileOfSize(blobsRoot(cacheDir), f.sizeBytes);
  // Each sample of all three is its own mount: a first read after a mount allocates the new
  // inode's page cache, which a mount reused across samples would not pay (on this VM the balloon's
  // free page reporting hands freed pages back to the host, so fresh ones are slow to touch).
  const catThroughNew = async (syncReads: boolean): Promise<number> => {
    const mount = await mountPassthrough(ctx.local.dir, false, syncReads);
    try {
      return mbPerSec(local.sizeBytes, await catSeconds(join(mount.mnt, local.name)));
    } finally {
      await mount.stop();
    }
  };
  try {
    // The target is parity with the passthrough, so they are sampled in turn (one sample each per
    // stretch of load) rather than minutes apart, each wandbfs sample over the same filled cache.
    await measureAlternating(
      ctx,
      [
        { spec: pairedPtSpec, sample: () => catThroughNew(false) },
        { spec: syncPtSpec, sample: () => catThroughNew(true) },
        {
          spec: remountSpec,
          sample: async () => {
            if (blob !== null) await catSeconds(blob);
            return withMount(ctx, subject.fake, { cacheDir }, read);
          },
        },
      ],
      ctx.opts.runs,
    );
  } finally {
    await (removeDir as (() => Promise<void>) | null)?.();
  }
}

/** The first file under `root` of `bytes` bytes (the blob a fill committed), or null. */
async function fileOfSize(root: string, bytes: number): Promise<string | null> {
  for (const name of await readdir(root, { recursive: true }).catch(() => [] as string[])) {
    const path = join(root, name);
    const st = await stat(path).catch(() => null);
    if (st?.isFile() && st.size === bytes) return path;
  }
  return null;
}
