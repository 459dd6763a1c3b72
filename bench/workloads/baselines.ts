/**
 * The baselines every target is stated against, each measured at most once per invocation (in the
 * same run as the wandbfs rows: the machine is shared, so only same-run ratios mean anything).
 * Each returns its row id.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { dropCaches } from '../lib/caches.js';
import { mountPassthrough, mountRclone } from '../lib/bench-fs.js';
import { measure, unavailableRow, type BenchContext, type NetFile } from '../lib/context.js';
import type { LocalFile } from '../lib/data.js';
import { catSeconds, curlSeconds, dd, readThrough } from '../lib/readers.js';
import { mbPerSec } from '../lib/timing.js';
import { makeTempDir } from '../lib/tmp.js';

export const W0 = '0 baselines';

const gib = (f: LocalFile): string => `${Math.round((f.sizeBytes / 2 ** 30) * 10) / 10} GiB`;

/** cat of the local file with the page cache warm: the local-disk ceiling. */
export function localCat(ctx: BenchContext): Promise<string> {
  return ctx.once('localCat', async () => {
    const f = ctx.file1g;
    await catSeconds(f.path); // warm the page cache
    const id = 'b.local.cat';
    await measure(
      ctx,
      {
        id,
        workload: W0,
        subject: `cat, local ${gib(f)} file, page cache warm`,
        short: 'cat local (warm)',
        unit: 'MB/s',
      },
      ctx.opts.runs,
      async () => mbPerSec(f.sizeBytes, await catSeconds(f.path)),
    );
    return id;
  });
}

export function localDd(ctx: BenchContext): Promise<string> {
  return ctx.once('localDd', async () => {
    const f = ctx.file1g;
    await catSeconds(f.path);
    const id = 'b.local.dd';
    await measure(
      ctx,
      {
        id,
        workload: W0,
        subject: `dd bs=1M, local ${gib(f)} file, page cache warm`,
        short: 'dd local (warm)',
        unit: 'MB/s',
      },
      ctx.opts.runs,
      async () => {
        const r = await dd(f.path);
        return mbPerSec(r.bytes, r.seconds);
      },
    );
    return id;
  });
}

/** cat after drop_caches: the disk itself (informative; needs root). */
export function localCold(ctx: BenchContext): Promise<string> {
  return ctx.once('localCold', async () => {
    const f = ctx.file1g;
    const id = 'b.local.cold';
    const spec = {
      id,
      workload: W0,
      subject: `cat, local ${gib(f)} file, after drop_caches`,
      short: 'cat local (cold)',
      unit: 'MB/s' as const,
    };
    const probe = await dropCaches();
    if (!probe.ok) {
      unavailableRow(ctx, spec, `cannot drop caches (${probe.reason ?? 'unknown'})`);
      return id;
    }
    await measure(ctx, spec, ctx.opts.runs, async () => {
      await dropCaches();
      return mbPerSec(f.sizeBytes, await catSeconds(f.path));
    });
    await catSeconds(f.path); // leave it warm for everyone else
    return id;
  });
}

/** Passthrough FUSE without kernel cache: every 128 KiB read goes through JavaScript. */
export function passthroughNoCache(ctx: BenchContext): Promise<string> {
  return ctx.once('ptNoKc', async () => {
    const f = ctx.file1g;
    await catSeconds(f.path);
    const id = 'b.pt.nokc';
    const m = await mountPassthrough(ctx.local.dir, false);
    try {
      await measure(
        ctx,
        {
          id,
          workload: W0,
          subject: 'passthrough FUSE, no kernel cache, cat',
          short: 'passthrough, no kernel cache',
          unit: 'MB/s',
        },
        ctx.opts.runs,
        async () => mbPerSec(f.sizeBytes, await catSeconds(join(m.mnt, f.name))),
      );
    } finally {
      await m.stop();
    }
    return id;
  });
}

/** Passthrough FUSE with kernel_cache: first read after a fresh mount, and re-reads (page cache). */
export function passthroughKernelCache(ctx: BenchContext): Promise<{ first: string; warm: string }> {
  return ctx.once('ptKc', async () => {
    const f = ctx.file1g;
    await catSeconds(f.path);
    const first = 'b.pt.kc.first';
    const warm = 'b.pt.kc.warm';
    await measure(
      ctx,
      {
        id: first,
        workload: W0,
        subject: 'passthrough FUSE + kernel_cache, first read',
        short: 'passthrough+kernel_cache first',
        unit: 'MB/s',
      },
      ctx.opts.runs,
      async () => {
        const m = await mountPassthrough(ctx.local.dir, true);
        try {
          return mbPerSec(f.sizeBytes, await catSeconds(join(m.mnt, f.name)));
        } finally {
          await m.stop();
        }
      },
    );
    const m = await mountPassthrough(ctx.local.dir, true);
    try {
      await catSeconds(join(m.mnt, f.name));
      await measure(
        ctx,
        {
          id: warm,
          workload: W0,
          subject: 'passthrough FUSE + kernel_cache, re-read',
          short: 'passthrough+kernel_cache re-read',
          unit: 'MB/s',
        },
        ctx.opts.runs,
        async () => mbPerSec(f.sizeBytes, await catSeconds(join(m.mnt, f.name))),
      );
    } finally {
      await m.stop();
    }
    return { first, warm };
  });
}

/** curl -o <file>: the single-stream network baseline. */
export function curlFull(ctx: BenchContext, f: NetFile = ctx.net.small): Promise<string> {
  return ctx.once(`curl:${f.name}`, async () => {
    const id = `b.curl.${f.name}`;
    const { path } = await makeTempDir('curl');
    const out = join(path, 'out.bin');
    const subject = `curl -o file, ${size(f)}, ${ctx.net.describe}`;
    await measure(
      ctx,
      { id, workload: W0, subject, short: `curl ${size(f)}`, unit: 'MB/s' },
      ctx.opts.runs,
      async () => {
        try {
          const range = f.readBytes < f.sizeBytes ? f.readBytes - 1 : undefined;
          return mbPerSec(f.readBytes, await curlSeconds(await ctx.net.curlUrl(f), out, range));
        } finally {
          await rm(out, { force: true });
        }
      },
    );
    return id;
  });
}

/** "1 GiB", or "first 1 GiB of 5 GiB" when only a prefix is read. */
export function size(f: NetFile): string {
  const g = (n: number): string =>
    n < 2 ** 30 ? `${Math.round(n / 2 ** 20)} MiB` : `${Math.round((n / 2 ** 30) * 10) / 10} GiB`;
  return f.readBytes < f.sizeBytes ? `first ${g(f.readBytes)} of ${g(f.sizeBytes)}` : g(f.sizeBytes);
}

/**
 * rclone mount (--vfs-cache-mode full): cold = fresh mount and empty cache per sample; warm = re-read
 * on the same mount; remount = first read after a remount that keeps the cache dir.
 */
export function rcloneRead(
  ctx: BenchContext,
  f: NetFile = ctx.net.small,
): Promise<{ cold: string; warm: string; remount: string }> {
  return ctx.once(`rclone:${f.name}`, async () => {
    const ids = {
      cold: `b.rclone.cold.${f.name}`,
      warm: `b.rclone.warm.${f.name}`,
      remount: `b.rclone.remount.${f.name}`,
    };
    const url = ctx.net.server.url;
    const read = (mnt: string): Promise<number> => readNetFile(mnt, f);
    const cold = rcloneColdSampler(ctx, f);
    await measure(
      ctx,
      {
        id: ids.cold,
        workload: W0,
        subject: `rclone mount, cold read, ${size(f)}`,
        short: `rclone cold ${size(f)}`,
        unit: 'MB/s',
      },
      ctx.opts.runs,
      cold.sample,
    );
    const last = cold.last;
    if (ctx.report.get(ids.cold)?.unavailable !== undefined || last.cache === null) {
      unavailableRow(
        ctx,
        { id: ids.remount, workload: W0, subject: `rclone mount, after remount, ${size(f)}`, unit: 'MB/s' },
        'cold read failed',
      );
      unavailableRow(
        ctx,
        { id: ids.warm, workload: W0, subject: `rclone mount, warm re-read, ${size(f)}`, unit: 'MB/s' },
        'cold read failed',
      );
      return ids;
    }
    const m = await mountRclone(url, last.cache);
    try {
      const sub = `rclone mount, first read after remount (cache kept), ${size(f)}`;
      await measure(
        ctx,
        { id: ids.remount, workload: W0, subject: sub, short: 'rclone after remount', unit: 'MB/s' },
        1,
        () => read(m.mnt),
      );
      const warm = `rclone mount, warm re-read, ${size(f)}`;
      await measure(
        ctx,
        { id: ids.warm, workload: W0, subject: warm, short: 'rclone warm', unit: 'MB/s' },
        ctx.opts.runs,
        () => read(m.mnt),
      );
    } finally {
      await m.stop();
      await last.remove?.();
    }
    return ids;
  });
}

/**
 * Cold rclone reads of `f`, one per call: a fresh mount and an empty cache dir each. Only the newest
 * sample's filled cache stays on disk (5 GiB x runs would add up); `last` says where it is, and
 * `last.remove` deletes it.
 */
export function rcloneColdSampler(
  ctx: BenchContext,
  f: NetFile,
): {
  sample: () => Promise<number>;
  last: { cache: string | null; remove: (() => Promise<void>) | null };
} {
  // a holder, not a let: TypeScript does not see assignments made inside the sample closure
  const last: { cache: string | null; remove: (() => Promise<void>) | null } = { cache: null, remove: null };
  const sample = async (): Promise<number> => {
    await last.remove?.();
    last.cache = null;
    last.remove = null;
    const m = await mountRclone(ctx.net.server.url);
    try {
      return await readNetFile(m.mnt, f);
    } finally {
      await m.stop();
      last.cache = m.cacheDir;
      last.remove = m.removeDir;
    }
  };
  return { sample, last };
}

/** MB/s of reading `f` (or its first readBytes) through an rclone mount of the bench's HTTP index. */
function readNetFile(mnt: string, f: NetFile): Promise<number> {
  return readThrough(join(mnt, f.name), f.sizeBytes, f.readBytes);
}
