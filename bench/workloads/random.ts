/**
 * Workload 4: random reads with fio (4 KiB and 1 MiB blocks), cold and warm — the mmap/safetensors
 * access pattern. Cold through a mount means a fresh mount with an empty cache for every sample.
 * Issue 15's row adds cold 4 KiB reads in the first seconds of a mount (while the background fill is
 * far from done) against the same ranges fetched directly by HTTP.
 */
import { join } from 'node:path';
import { mountPassthrough, mountRclone } from '../lib/bench-fs.js';
import { dropCaches } from '../lib/caches.js';
import {
  measure,
  unavailableRow,
  type BenchContext,
  type NetFile,
  type RowSpec,
  shortName,
} from '../lib/context.js';
import { bigRunFiles } from '../lib/fake-files.js';
import { fillProgress } from '../lib/fill-progress.js';
import { directRandomReads, fioOffsets } from '../lib/http-random.js';
import { catSeconds, fioRandRead, readThrough, type FioResult } from '../lib/readers.js';
import { GiB, MiB } from '../lib/timing.js';
import { size } from './baselines.js';
import { pathIn, subjectFor, withMount } from './wandbfs-side.js';

export const W4 = '4 random read (fio)';

interface Block {
  bs: '4k' | '1M';
  ioBytes: number;
}

function pick(b: Block, r: FioResult): number {
  return b.bs === '4k' ? r.iops : r.mbPerSec;
}

export async function randomRead(ctx: BenchContext): Promise<void> {
  const blocks: Block[] = [
    // enough I/O that the warm rows take more than a blink; the cold rows stop at maxSeconds
    { bs: '4k', ioBytes: (ctx.opts.quick ? 64 : 256) * MiB },
    { bs: '1M', ioBytes: (ctx.opts.quick ? 1024 : 4096) * MiB },
  ];
  const maxSeconds = ctx.opts.quick ? 20 : 60;
  const local = ctx.file1g;
  const f = ctx.net.small;
  for (const b of blocks) {
    const unit = b.bs === '4k' ? ('IOPS' as const) : ('MB/s' as const);
    const fio = (path: string, invalidate = false, sizeBytes?: number): Promise<number> =>
      fioRandRead(path, { ...b, maxSeconds, invalidate, ...(sizeBytes ? { sizeBytes } : {}) }).then((r) =>
        pick(b, r),
      );
    const row = (id: string, subject: string, extra: Partial<RowSpec> = {}): RowSpec => ({
      id: `4.${b.bs}.${id}`,
      workload: W4,
      subject: `${subject}, bs=${b.bs}`,
      short: `${shortName(id)} ${b.bs}`,
      unit,
      ...extra,
    });

    await catSeconds(local.path);
    const localWarm = row('local.warm', 'local file, page cache warm');
    await measure(ctx, localWarm, ctx.opts.runs, () => fio(local.path));
    const localCold = row('local.cold', 'local file, after drop_caches');
    const probe = await dropCaches();
    if (probe.ok) {
      await measure(ctx, localCold, ctx.opts.runs, async () => {
        await dropCaches();
        return fio(local.path, true);
      });
      await catSeconds(local.path);
    } else {
      unavailableRow(ctx, localCold, `cannot drop caches (${probe.reason ?? 'unknown'})`);
    }

    const pt = row('pt', 'passthrough FUSE, no kernel cache');
    const ptm = await mountPassthrough(ctx.local.dir, false);
    try {
      await measure(ctx, pt, ctx.opts.runs, () => fio(join(ptm.mnt, local.name)));
    } finally {
      await ptm.stop();
    }

    const rcloneCold = row('rclone.cold', 'rclone mount, cold');
    await measure(ctx, rcloneCold, ctx.opts.runs, async () => {
      const m = await mountRclone(ctx.net.server.url);
      try {
        return await fio(join(m.mnt, f.name), false, f.readBytes);
      } finally {
        await m.stop();
        await m.removeDir();
      }
    });

    const coldSpec = row('wandbfs.cold', 'wandbfs cold', {
      comparisons: [{ vs: rcloneCold.id }, { vs: pt.id }],
    });
    const warmSpec = row('wandbfs.warm', 'wandbfs warm (after a full read)', {
      comparisons: [{ vs: localWarm.id }, { vs: pt.id }],
    });
    const subject = await subjectFor(ctx, f);
    if (typeof subject === 'string') {
      unavailableRow(ctx, coldSpec, subject);
      unavailableRow(ctx, warmSpec, subject);
      continue;
    }
    await measure(ctx, coldSpec, ctx.opts.runs, () =>
      withMount(ctx, subject.fake, {}, async (m) => fio(await pathIn(m, f), false, f.readBytes)),
    );
    await withMount(ctx, subject.fake, {}, async (m) => {
      const p = await pathIn(m, f);
      await readThrough(p, f.sizeBytes, f.readBytes);
      await measure(ctx, warmSpec, ctx.opts.runs, () => fio(p, false, f.readBytes));
    });
  }
  await coldVsDirectHttp(ctx);
}

/** More than direct GETs on localhost manage per second, so the offsets outlast the time budget. */
const MAX_DIRECT_IOPS = 12_000;

/**
 * The 5 GiB file. Quick runs leave it out of ctx.net (nothing else there may read it whole), but these
 * rows read only seconds of it, and the 1 GiB file's fill finishes within 10 s, after which reads
 * hit the cache: take it from the fake when there is one, else fall back to the 1 GiB file.
 */
async function coldRandomFile(ctx: BenchContext): Promise<NetFile> {
  if (ctx.net.big) return ctx.net.big;
  if (ctx.wandbfs.unavailable !== null || !ctx.net.small.fixtureFile) return ctx.net.small;
  const largest = bigRunFiles(await ctx.wandbfs.fake('huge-file'), 5 * GiB).at(-1);
  if (!largest) return ctx.net.small;
  return {
    name: 'data-big.bin',
    sizeBytes: largest.sizeBytes,
    readBytes: largest.sizeBytes,
    fixtureFile: largest,
  };
}

/**
 * Cold 4 KiB random reads (fio psync) for a short time on a fresh mount of the big file, so the
 * reads land while the background fill is still far from done (the 60 s rows above mostly read a
 * filled cache), against the same offsets fetched by ranged GETs from the file's URL.
 */
async function coldVsDirectHttp(ctx: BenchContext): Promise<void> {
  const f = await coldRandomFile(ctx);
  const seconds = ctx.opts.quick ? 10 : 20;
  const bs = 4096;
  const region = Math.floor(f.readBytes / bs) * bs;
  const direct: RowSpec = {
    id: '4.4k.http.direct',
    workload: W4,
    subject: `same 4 KiB ranges by direct HTTP GET (one at a time, keep-alive), ${size(f)} file, ${seconds} s`,
    short: 'direct HTTP 4k',
    unit: 'IOPS',
  };
  const cold: RowSpec = {
    id: '4.4k.wandbfs.cold.first',
    workload: W4,
    subject: `wandbfs cold, first ${seconds} s of a fresh mount, ${size(f)} file, bs=4k`,
    short: `wandbfs cold first ${seconds} s 4k`,
    unit: 'IOPS',
    comparisons: [{ vs: direct.id, target: 0.3, op: '>=' }],
  };
  const offsets = await fioOffsets(region, bs, MAX_DIRECT_IOPS * seconds);
  await measure(ctx, direct, ctx.opts.runs, async () => {
    const r = await directRandomReads(await ctx.net.curlUrl(f), offsets, bs, seconds);
    const ranOut = r.ops === offsets.length ? ' (all offsets read before the time was up)' : '';
    ctx.log(`  ${r.ops} GETs in ${r.seconds.toFixed(1)} s on ${r.connections} connection(s)${ranOut}`);
    return r.iops;
  });
  const subject = await subjectFor(ctx, f);
  if (typeof subject === 'string') {
    unavailableRow(ctx, cold, subject);
    return;
  }
  await measure(ctx, cold, ctx.opts.runs, () =>
    withMount(ctx, subject.fake, {}, async (m) => {
      const r = await fioRandRead(await pathIn(m, f), {
        bs: '4k',
        ioBytes: region,
        maxSeconds: seconds,
        timeBased: true,
        invalidate: true,
        sizeBytes: region,
      });
      ctx.log(`  ${r.iops.toFixed(0)} IOPS; when fio stopped: ${await fillProgress(m.mnt)}`);
      return r.iops;
    }),
  );
}
