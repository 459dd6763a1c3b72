/**
 * Workload 6: daemon peak RSS (VmHWM of the mount process) during a cold 1 GiB read, with 128 readers
 * streaming disjoint slices at once (issue 15's count), and (full run) during a cold read of the 5 GiB
 * file.
 */
import { join } from 'node:path';
import { mountPassthrough, mountRclone } from '../lib/bench-fs.js';
import {
  measure,
  unavailableRow,
  shortName,
  type BenchContext,
  type NetFile,
  type RowSpec,
} from '../lib/context.js';
import { peakRssMiB } from '../lib/fuse-daemon.js';
import { dd, readThrough } from '../lib/readers.js';
import { size } from './baselines.js';
import { pathIn, subjectFor, withMount } from './wandbfs-side.js';

export const W6 = '6 daemon peak RSS';
const READERS = 128;

/** READERS concurrent `dd`s, reader i reading the i-th 1/READERS of the first `readBytes`. */
async function parallelReaders(path: string, readBytes: number): Promise<void> {
  const sliceMiB = Math.max(1, Math.floor(readBytes / 2 ** 20 / READERS));
  const results = await Promise.all(
    Array.from({ length: READERS }, (_, i) => dd(path, { skipMiB: i * sliceMiB, countMiB: sliceMiB })),
  );
  const short = results.filter((r) => r.bytes !== sliceMiB * 2 ** 20).length;
  if (short > 0) throw new Error(`${short} of ${READERS} readers got a short read`);
}

export async function peakRss(ctx: BenchContext): Promise<void> {
  const f = ctx.net.small;
  const spec = (id: string, subject: string, extra: Partial<RowSpec> = {}): RowSpec => ({
    id: `6.${id}`,
    short: shortName(id),
    workload: W6,
    subject,
    unit: 'MiB',
    ...extra,
  });
  // RSS is a property of the code, not of machine noise: one sample each
  const rcloneOne = spec('rclone.one', `rclone mount, 1 reader, cold ${size(f)}`);
  await measure(ctx, rcloneOne, 1, async () => {
    const m = await mountRclone(ctx.net.server.url);
    try {
      await readThrough(join(m.mnt, f.name), f.sizeBytes, f.readBytes);
      return await peakRssMiB(m.pid);
    } finally {
      await m.stop();
      await m.removeDir();
    }
  });
  const rcloneMany = spec(`rclone.${READERS}`, `rclone mount, ${READERS} readers, cold ${size(f)}`);
  await measure(ctx, rcloneMany, 1, async () => {
    const m = await mountRclone(ctx.net.server.url);
    try {
      await parallelReaders(join(m.mnt, f.name), f.readBytes);
      return await peakRssMiB(m.pid);
    } finally {
      await m.stop();
      await m.removeDir();
    }
  });
  const ptMany = spec(
    `pt.${READERS}`,
    `passthrough FUSE (node), ${READERS} readers, ${Math.round(ctx.file1g.sizeBytes / 2 ** 30)} GiB`,
  );
  await measure(ctx, ptMany, 1, async () => {
    const m = await mountPassthrough(ctx.local.dir, false);
    try {
      await parallelReaders(join(m.mnt, ctx.file1g.name), ctx.file1g.sizeBytes);
      return await peakRssMiB(m.pid);
    } finally {
      await m.stop();
    }
  });

  await wandbfsRss(
    ctx,
    f,
    spec('w.one', `wandbfs, 1 reader, cold ${size(f)}`, { comparisons: [{ vs: rcloneOne.id }] }),
    false,
  );
  await wandbfsRss(
    ctx,
    f,
    spec(`w.${READERS}`, `wandbfs, ${READERS} readers, cold ${size(f)}`, {
      comparisons: [{ vs: rcloneMany.id }, { vs: ptMany.id }],
      limit: { value: 400, op: '<=' },
    }),
    true,
  );
  const bigSpec = spec('w.big', 'wandbfs, 1 reader, cold 5 GiB file', { limit: { value: 150, op: '<=' } });
  if (ctx.opts.quick) {
    unavailableRow(ctx, bigSpec, 'skipped in --quick (5 GiB rows)');
    return;
  }
  await wandbfsRss(ctx, ctx.net.big, bigSpec, false);
}

async function wandbfsRss(
  ctx: BenchContext,
  f: NetFile | null,
  spec: RowSpec,
  parallel: boolean,
): Promise<void> {
  const subject = await subjectFor(ctx, f);
  if (typeof subject === 'string') {
    unavailableRow(ctx, spec, subject);
    return;
  }
  const file = subject.file;
  await measure(ctx, spec, 1, () =>
    withMount(ctx, subject.fake, {}, async (m) => {
      const p = await pathIn(m, file);
      if (parallel) await parallelReaders(p, file.readBytes);
      else await readThrough(p, file.sizeBytes, file.readBytes);
      return peakRssMiB(m.pid);
    }),
  );
}
