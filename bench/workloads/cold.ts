/** Workload 1: cold sequential read (cat, dd bs=1M) through the mount with an empty cache. */
import { measure, unavailableRow, type BenchContext, type NetFile, type SampledRow } from '../lib/context.js';
import { readThrough } from '../lib/readers.js';
import type { Comparison } from '../lib/report.js';
import { BARE_MD5_ID, BARE_WORKER_ID, coldCatWithFloor } from './bare-floor.js';
import { curlFull, rcloneRead, size } from './baselines.js';
import { coldCpu } from './cold-cpu.js';
import { pathIn, subjectFor, withMount } from './wandbfs-side.js';

export const W1 = '1 cold seq read';

/** The row and its sampler, or null when it cannot be measured (its row then says why). */
async function wandbfsColdRow(
  ctx: BenchContext,
  f: NetFile | null,
  tool: 'cat' | 'dd',
  rclone: string,
  curl: string,
  extra: Comparison[] = [],
): Promise<SampledRow | null> {
  const id = `1.wandbfs.${tool}.${f?.name ?? 'big'}`;
  const spec = {
    id,
    workload: W1,
    subject: `wandbfs cold ${tool === 'dd' ? 'dd bs=1M' : 'cat'}, ${f ? size(f) : '5 GiB'}`,
    unit: 'MB/s' as const,
    comparisons: [
      { vs: rclone, target: 1.1, op: '>=' as const },
      { vs: curl, target: 0.6, op: '>=' as const },
      ...extra,
    ],
  };
  if (f && tool === 'cat' && f.readBytes < f.sizeBytes) {
    // cat cannot stop early; the dd row reads the prefix
    unavailableRow(
      ctx,
      spec,
      `skipped: cat needs a whole ${size({ ...f, sizeBytes: f.readBytes })} file, the fixture's is ${size({ ...f, readBytes: f.sizeBytes })}`,
    );
    return null;
  }
  const subject = await subjectFor(ctx, f);
  if (typeof subject === 'string') {
    unavailableRow(ctx, spec, subject);
    return null;
  }
  const file = subject.file;
  const sample = (): Promise<number> =>
    withMount(ctx, subject.fake, {}, async (m) =>
      readThrough(await pathIn(m, file), file.sizeBytes, file.readBytes, tool),
    );
  return { spec, sample };
}

async function wandbfsCold(
  ctx: BenchContext,
  f: NetFile | null,
  tool: 'cat' | 'dd',
  rclone: string,
  curl: string,
): Promise<void> {
  const row = await wandbfsColdRow(ctx, f, tool, rclone, curl);
  if (row) await measure(ctx, row.spec, ctx.opts.runs, row.sample);
}

export async function coldRead(ctx: BenchContext): Promise<void> {
  const small = ctx.net.small;
  const curl = await curlFull(ctx, small);
  const rclone = (await rcloneRead(ctx, small)).cold;
  // the cat row's samples alternate with the bare floor's (bare-floor.ts), which it is compared with
  const cat = await wandbfsColdRow(ctx, small, 'cat', rclone, curl, [
    { vs: BARE_MD5_ID },
    { vs: BARE_WORKER_ID },
  ]);
  await coldCatWithFloor(ctx, cat, rclone, curl);
  await wandbfsCold(ctx, small, 'dd', rclone, curl);
  await coldCpu(ctx);
  if (ctx.opts.quick) {
    ctx.log(`${W1}: 5 GiB rows skipped in --quick`);
    return;
  }
  const big = ctx.net.big;
  if (!big) {
    unavailableRow(
      ctx,
      { id: '1.big', workload: W1, subject: '5 GiB reads', unit: 'MB/s' },
      'no 5 GiB file in this run',
    );
    return;
  }
  const curlBig = await curlFull(ctx, big);
  const rcloneBig = (await rcloneRead(ctx, big)).cold;
  await wandbfsCold(ctx, big, 'cat', rcloneBig, curlBig);
}
