/**
 * Workload 3: warm re-reads (should come from the kernel page cache, like cat of a local file) and the
 * first read of an already-cached blob after a remount (a pread loop through JavaScript, like the
 * passthrough without kernel cache).
 */
import { measure, unavailableRow, type BenchContext } from '../lib/context.js';
import { readThrough } from '../lib/readers.js';
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
  const remountSpec = {
    id: '3.wandbfs.remount',
    workload: W3,
    subject: `wandbfs first read of cached blob after remount, ${size(f)}`,
    unit: 'MB/s' as const,
    comparisons: [{ vs: pt, target: 1.0, op: '>=' as const }, { vs: rclone.remount }],
  };
  const subject = await subjectFor(ctx, f);
  if (typeof subject === 'string') {
    unavailableRow(ctx, warmSpec, subject);
    unavailableRow(ctx, remountSpec, subject);
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
  try {
    // each sample is its own remount over the same filled cache
    await measure(ctx, remountSpec, ctx.opts.runs, () => withMount(ctx, subject.fake, { cacheDir }, read));
  } finally {
    await (removeDir as (() => Promise<void>) | null)?.();
  }
}
