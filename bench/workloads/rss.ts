/**
 * Workload 6: daemon peak RSS (VmHWM of the mount process) during a cold 1 GiB read, with 128 readers
 * streaming disjoint slices of it at once, with 128 readers of 128 different files of the `large`
 * fixture at once (each its own fill: what issue 15's 400 MiB target is about), and (full run) during
 * a cold read of the 5 GiB file.
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
import { onePerRun, samePlace } from '../lib/spread-files.js';
import { locateRunFile, type FakeWandb } from '../lib/wandbfs.js';
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
    }),
    true,
  );
  await manyFilesRss(
    ctx,
    spec(`w.${READERS}.files`, `wandbfs, ${READERS} readers of ${READERS} different files, cold`, {
      short: `wandbfs ${READERS} readers, ${READERS} files`,
      limit: { value: 400, op: '<=' },
    }),
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

/** As in test/reliability/burst.test.ts, which gave issue 15's ~930 MiB: 20 ms per request. */
const BURST_LATENCY_MS = 20;

/**
 * READERS `dd`s at once, each of a whole different file of the `large` fixture (one per run, the
 * run's largest), on a fresh mount and cache: READERS fills at once, each with its own download and
 * MD5. Every read must return the file's full size.
 */
async function manyFilesRss(ctx: BenchContext, spec: RowSpec): Promise<void> {
  if (ctx.wandbfs.unavailable !== null) {
    unavailableRow(ctx, spec, ctx.wandbfs.notAvailable);
    return;
  }
  let fake: FakeWandb;
  let files: ReturnType<typeof onePerRun>;
  try {
    fake = await ctx.wandbfs.fake('large');
    files = onePerRun(fake, READERS);
  } catch (err) {
    unavailableRow(ctx, spec, `wandbfs: not available (large fixture: ${String(err).slice(0, 100)})`);
    return;
  }
  const first = files[0];
  if (!first) {
    unavailableRow(ctx, spec, 'no files picked');
    return;
  }
  await measure(ctx, spec, 1, () =>
    withMount(ctx, fake, {}, async (m) => {
      // the layout, from one stat; its content stays cold and the other paths resolve in the burst
      const paths = samePlace(await locateRunFile(m.mnt, first, first.sizeBytes), first, files);
      const saved = { graphql: fake.faults.graphql.latencyMs, storage: fake.faults.storage.latencyMs };
      fake.faults.graphql.latencyMs = BURST_LATENCY_MS;
      fake.faults.storage.latencyMs = BURST_LATENCY_MS;
      try {
        const results = await Promise.all(paths.map((p) => dd(p)));
        const short = results.filter((r, i) => r.bytes !== files[i]?.sizeBytes).length;
        if (short > 0) throw new Error(`${short} of ${READERS} readers did not get the whole file`);
      } finally {
        fake.faults.graphql.latencyMs = saved.graphql;
        fake.faults.storage.latencyMs = saved.storage;
      }
      return peakRssMiB(m.pid);
    }),
  );
}
