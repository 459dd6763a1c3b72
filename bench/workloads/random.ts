/**
 * Workload 4: random reads with fio (4 KiB and 1 MiB blocks), cold and warm — the mmap/safetensors
 * access pattern. Cold through a mount means a fresh mount with an empty cache for every sample.
 * Issue 15's cold 4 KiB row against direct HTTP is random-cold.ts.
 */
import { join } from 'node:path';
import { mountPassthrough, mountRclone } from '../lib/bench-fs.js';
import { dropCaches } from '../lib/caches.js';
import { measure, unavailableRow, type BenchContext, type RowSpec, shortName } from '../lib/context.js';
import { catSeconds, fioRandRead, readThrough, type FioResult } from '../lib/readers.js';
import { MiB } from '../lib/timing.js';
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
}
