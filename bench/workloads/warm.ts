/**
 * Workload 3: warm re-reads (should come from the kernel page cache, like cat of a local file) and the
 * first read of an already-cached blob after a remount (a pread loop through JavaScript, like the
 * passthrough without kernel cache).
 */
import { join } from 'node:path';
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
    subject: 'passthrough FUSE, no kernel cache, cat (alternating with the remount samples)',
    short: 'passthrough, same stretch',
    unit: 'MB/s',
  };
  const remountSpec: RowSpec = {
    id: '3.wandbfs.remount',
    workload: W3,
    subject: `wandbfs first read of cached blob after remount, ${size(f)}`,
    unit: 'MB/s',
    comparisons: [{ vs: pairedPtSpec.id, target: 1.0, op: '>=' }, { vs: pt }, { vs: rclone.remount }],
  };
  const subject = await subjectFor(ctx, f);
  if (typeof subject === 'string') {
    unavailableRow(ctx, warmSpec, subject);
    unavailableRow(ctx, remountSpec, subject);
    unavailableRow(ctx, pairedPtSpec, subject);
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
  await catSeconds(local.path); // both sides read page-cached bytes through JavaScript
  const ptMount = await mountPassthrough(ctx.local.dir, false);
  try {
    // The target is parity with the passthrough, so the two are sampled in turn (one pair per
    // stretch of load) rather than minutes apart. Each wandbfs sample is its own remount over the
    // same filled cache.
    await measureAlternating(
      ctx,
      [
        {
          spec: pairedPtSpec,
          sample: async () => mbPerSec(local.sizeBytes, await catSeconds(join(ptMount.mnt, local.name))),
        },
        { spec: remountSpec, sample: () => withMount(ctx, subject.fake, { cacheDir }, read) },
      ],
      ctx.opts.runs,
    );
  } finally {
    await ptMount.stop();
    await (removeDir as (() => Promise<void>) | null)?.();
  }
}
