/**
 * Workload 7: mount start time (spawn → mounted → `ls` of the root answers), with an empty cache and
 * with a cache holding the metadata of the `large` fixture's 100,000 files.
 */
import { mountMemoryFs, mountPassthrough, mountRclone } from '../lib/bench-fs.js';
import { measure, unavailableRow, type BenchContext, type RowSpec, shortName } from '../lib/context.js';
import type { MountedDaemon } from '../lib/fuse-daemon.js';
import { run, runOk } from '../lib/proc.js';
import type { LargeCache } from './metadata.js';
import { withMount } from './wandbfs-side.js';

export const W7 = '7 mount start';

async function readySeconds(m: MountedDaemon): Promise<number> {
  const r = await runOk('ls', [m.mnt], { timeoutMs: 60_000 });
  return m.startSeconds + r.seconds;
}

export async function mountStart(ctx: BenchContext): Promise<void> {
  const n = ctx.opts.runs;
  const spec = (id: string, subject: string, extra: Partial<RowSpec> = {}): RowSpec => ({
    id: `7.${id}`,
    short: shortName(id),
    workload: W7,
    subject,
    unit: 's',
    ...extra,
  });
  const pt = spec('pt', 'passthrough FUSE (node + fuse-native), start');
  await measure(ctx, pt, n, async () => {
    const m = await mountPassthrough(ctx.local.dir, false);
    try {
      return await readySeconds(m);
    } finally {
      await m.stop();
    }
  });
  const mem = spec('mem', 'in-memory FUSE, 10,000 runs, start');
  await measure(ctx, mem, n, async () => {
    const m = await mountMemoryFs(10_000, 10, false);
    try {
      return await readySeconds(m);
    } finally {
      await m.stop();
    }
  });
  const rclone = spec('rclone', 'rclone mount, empty cache, start');
  await measure(ctx, rclone, n, async () => {
    const m = await mountRclone(ctx.net.server.url);
    try {
      return await readySeconds(m);
    } finally {
      await m.stop();
      await m.removeDir();
    }
  });

  const empty = spec('w.empty', 'wandbfs, empty cache, start', {
    comparisons: [{ vs: pt.id }, { vs: rclone.id }],
  });
  const full = spec('w.100k', 'wandbfs, cache with 100,000 files, start', {
    comparisons: [{ vs: empty.id }, { vs: pt.id }],
  });
  if (ctx.wandbfs.unavailable !== null) {
    unavailableRow(ctx, empty, ctx.wandbfs.notAvailable);
    unavailableRow(ctx, full, ctx.wandbfs.notAvailable);
    return;
  }
  const fake = await ctx.wandbfs.fake('large');
  await measure(ctx, empty, n, () => withMount(ctx, fake, {}, readySeconds));

  // a cache holding every run and file of the large fixture: workload 5 leaves one behind; else fill
  // one here (find walks it all), then restart on it
  const cache = await ctx.once('large-cache', async (): Promise<LargeCache> => {
    let out: LargeCache = { cacheDir: '', error: null };
    await withMount(ctx, fake, { keepDir: true }, async (m) => {
      const timeoutMs = (ctx.opts.quick ? 300 : 900) * 1000;
      ctx.log(`${W7}: filling a cache with the large fixture (find, up to ${timeoutMs / 1000} s)`);
      const r = await run('find', [m.mnt], { timeoutMs });
      const entries = r.stdout.split('\n').filter(Boolean).length;
      ctx.log(`${W7}: find listed ${entries} entries in ${r.seconds.toFixed(1)} s`);
      const error =
        r.code === 0
          ? null
          : r.signal
            ? 'filling the cache with find timed out'
            : `find failed: ${r.stderr.slice(-160)}`;
      out = { cacheDir: m.cacheDir, error };
    });
    return out;
  });
  if (cache.error !== null) unavailableRow(ctx, full, cache.error);
  else await measure(ctx, full, n, () => withMount(ctx, fake, { cacheDir: cache.cacheDir }, readySeconds));
}
