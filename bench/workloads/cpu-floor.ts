/**
 * Workload 1, the floor under the daemon CPU rows: each part of a cold read (MD5, serving reads
 * through fuse-native, downloading with ranged GETs into a file) done by the simplest program that
 * does it, each measured per GiB in this same run, and their sum. The issue's <= 3 CPU-s/GiB for
 * wandbfs is then read against a measured floor rather than an asserted one. rclone's daemon CPU
 * for the same cold read is a second reference (rclone verifies no MD5).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { mountPassthrough, mountRclone } from '../lib/bench-fs.js';
import { runCpuScript } from '../lib/child-cpu.js';
import { measure, unavailableRow, type BenchContext, type RowSpec } from '../lib/context.js';
import { processCpuSeconds } from '../lib/proc-cpu.js';
import { catSeconds, readThrough } from '../lib/readers.js';
import type { Row } from '../lib/report.js';
import { GiB } from '../lib/timing.js';
import { makeTempDir } from '../lib/tmp.js';
import { size } from './baselines.js';
import { W1 } from './cold.js';

export const FLOOR_SUM_ID = '1.floor.sum';
export const RCLONE_CPU_ID = '1.rclone.cpu';

const STREAMS = 8;
const CHUNK_MIB = 8;

const perGiB = (cpuSeconds: number, bytes: number): number => cpuSeconds / (bytes / GiB);

const floorSpec = (id: string, subject: string): RowSpec => ({
  id,
  workload: W1,
  subject,
  unit: 'CPU-s/GiB',
});

/** utime+stime (from /proc) a mounted daemon spends while `read` runs, per GiB of `bytes`. */
async function daemonCpuPerGiB(pid: number, bytes: number, read: () => Promise<unknown>): Promise<number> {
  const before = await processCpuSeconds(pid);
  await read();
  return perGiB((await processCpuSeconds(pid)) - before, bytes);
}

function md5Floor(ctx: BenchContext): Promise<Row> {
  const spec = floorSpec(
    '1.floor.md5',
    'floor: MD5 of 1 GiB, node crypto (child process, bytes from memory)',
  );
  return measure(ctx, spec, ctx.opts.runs, async () => {
    const r = await runCpuScript('md5-cpu', [String(GiB)]);
    return perGiB(r.cpuSeconds, r.bytes);
  });
}

async function passthroughFloor(ctx: BenchContext): Promise<Row> {
  const f = ctx.file1g;
  const spec = floorSpec(
    '1.floor.pt',
    'floor: passthrough FUSE daemon (node + fuse-native), dd bs=1M of a page-cached 1 GiB file',
  );
  await catSeconds(f.path); // page cache warm: the daemon's reads are memory copies, not disk waits
  return measure(ctx, spec, ctx.opts.runs, async () => {
    const m = await mountPassthrough(ctx.local.dir, false);
    try {
      const path = join(m.mnt, f.name);
      return await daemonCpuPerGiB(m.pid, f.sizeBytes, () =>
        readThrough(path, f.sizeBytes, f.sizeBytes, 'dd'),
      );
    } finally {
      await m.stop();
    }
  });
}

async function httpFloor(ctx: BenchContext): Promise<Row> {
  const f = ctx.net.small;
  const spec = floorSpec(
    '1.floor.http',
    `floor: ranged HTTP download of the same ${size(f)} file (${STREAMS} streams x ${CHUNK_MIB} MiB, node:http) into a new file`,
  );
  const { path, remove } = await makeTempDir('floor-http');
  try {
    return await measure(ctx, spec, ctx.opts.runs, async (i) => {
      const out = join(path, `download-${i}.bin`);
      try {
        const url = await ctx.net.curlUrl(f);
        const args = [
          url,
          String(f.readBytes),
          out,
          '--streams',
          String(STREAMS),
          '--chunk-mib',
          String(CHUNK_MIB),
        ];
        const r = await runCpuScript('ranged-download', args);
        return perGiB(r.cpuSeconds, r.bytes);
      } finally {
        await rm(out, { force: true });
      }
    });
  } finally {
    await remove();
  }
}

function floorSum(ctx: BenchContext, parts: Row[]): void {
  const spec: RowSpec = {
    ...floorSpec(FLOOR_SUM_ID, 'floor: sum of the three (MD5 + passthrough FUSE + ranged download)'),
    short: 'floor (MD5+FUSE+HTTP)',
  };
  const missing = parts.filter((r) => ctx.report.value(r) === null).map((r) => r.id);
  if (missing.length > 0) {
    unavailableRow(ctx, spec, `not measured: ${missing.join(', ')}`);
    return;
  }
  const sum = parts.reduce((acc, r) => acc + (ctx.report.value(r) ?? 0), 0);
  ctx.log(`${W1} :: ${spec.subject}: ${sum.toFixed(2)} CPU-s/GiB`);
  ctx.report.add({ ...spec, samples: [sum], note: 'the sum of the three floor medians (one value, n = 1)' });
}

function rcloneCpu(ctx: BenchContext): Promise<Row> {
  const f = ctx.net.small;
  const spec: RowSpec = {
    ...floorSpec(
      RCLONE_CPU_ID,
      `rclone mount daemon CPU per GiB, cold dd bs=1M of the same ${size(f)} (no MD5)`,
    ),
    short: 'rclone daemon CPU',
  };
  return measure(ctx, spec, ctx.opts.runs, async () => {
    const m = await mountRclone(ctx.net.server.url);
    try {
      const path = join(m.mnt, f.name);
      return await daemonCpuPerGiB(m.pid, f.readBytes, () =>
        readThrough(path, f.sizeBytes, f.readBytes, 'dd'),
      );
    } finally {
      await m.stop();
      await m.removeDir();
    }
  });
}

/** The floor rows, the sum row (FLOOR_SUM_ID) and rclone's daemon CPU (RCLONE_CPU_ID). */
export async function cpuFloor(ctx: BenchContext): Promise<void> {
  const parts = [await md5Floor(ctx), await passthroughFloor(ctx), await httpFloor(ctx)];
  floorSum(ctx, parts);
  await rcloneCpu(ctx);
}
