/** Workload 1: cold sequential read (cat, dd bs=1M) through the mount with an empty cache. */
import {
  measure,
  measureAlternating,
  unavailableRow,
  type BenchContext,
  type NetFile,
  type SampledRow,
} from '../lib/context.js';
import { readThrough } from '../lib/readers.js';
import type { Comparison } from '../lib/report.js';
import { BARE_MD5_ID, BARE_WORKER_ID, coldCatWithFloor } from './bare-floor.js';
import { curlFull, rcloneColdSampler, rcloneRead, size } from './baselines.js';
import { coldCpu } from './cold-cpu.js';
import { pathIn, subjectFor, withMount } from './wandbfs-side.js';

export const W1 = '1 cold seq read';

/** The row and its sampler, or null when it cannot be measured (its row then says why). */
async function wandbfsColdRow(
  ctx: BenchContext,
  f: NetFile | null,
  tool: 'cat' | 'dd',
  rclone: RcloneBars,
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
      { vs: rclone.paired, target: 1.1, op: '>=' as const },
      { vs: curl, target: 0.6, op: '>=' as const },
      { vs: rclone.baseline },
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

/**
 * The rclone bar of the cold rows: its cold read sampled in turns with wandbfs's cold `cat`
 * (`paired`), so both see the same stretch of the machine (rclone's cold 1 GiB read moved from 217
 * to 347 MB/s between two full runs while curl moved 9%), and workload 0's (`baseline`), shown
 * beside it.
 */
interface RcloneBars {
  paired: string;
  baseline: string;
}

/** rclone's cold read of `f` as a row sampled in turns with wandbfs's; `cleanup` removes its last cache. */
function pairedRclone(ctx: BenchContext, f: NetFile): SampledRow & { cleanup: () => Promise<void> } {
  const cold = rcloneColdSampler(ctx, f);
  return {
    spec: {
      id: `1.rclone.paired.${f.name}`,
      workload: W1,
      subject: `rclone mount, cold read, ${size(f)} (in turns with the wandbfs cold cat samples)`,
      short: 'rclone cold, same stretch',
      unit: 'MB/s',
    },
    sample: cold.sample,
    cleanup: async () => {
      await cold.last.remove?.();
    },
  };
}

export async function coldRead(ctx: BenchContext): Promise<void> {
  const small = ctx.net.small;
  const curl = await curlFull(ctx, small);
  const rcloneSmall = pairedRclone(ctx, small);
  const rclone = { paired: rcloneSmall.spec.id, baseline: (await rcloneRead(ctx, small)).cold };
  // the cat row's samples alternate with rclone's and the bare floor's (bare-floor.ts)
  const cat = await wandbfsColdRow(ctx, small, 'cat', rclone, curl, [
    { vs: BARE_MD5_ID },
    { vs: BARE_WORKER_ID },
  ]);
  try {
    await coldCatWithFloor(ctx, cat, rcloneSmall, curl);
  } finally {
    await rcloneSmall.cleanup();
  }
  const dd = await wandbfsColdRow(ctx, small, 'dd', rclone, curl);
  if (dd) await measure(ctx, dd.spec, ctx.opts.runs, dd.sample);
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
  const rcloneBig = pairedRclone(ctx, big);
  const bars = { paired: rcloneBig.spec.id, baseline: (await rcloneRead(ctx, big)).cold };
  const catBig = await wandbfsColdRow(ctx, big, 'cat', bars, curlBig);
  if (!catBig) return;
  try {
    await measureAlternating(ctx, [catBig, rcloneBig], ctx.opts.runs);
  } finally {
    await rcloneBig.cleanup();
  }
}
