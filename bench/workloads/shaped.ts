/**
 * Workload 2: the cold read with storage shaped like a cloud bucket (latency per request, bandwidth cap
 * per connection): one curl stream and rclone against wandbfs's parallel ranged fill.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { mountRclone } from '../lib/bench-fs.js';
import { measure, unavailableRow, type BenchContext, type NetFile } from '../lib/context.js';
import type { Shaping } from '../lib/file-server.js';
import { curlSeconds, readThrough } from '../lib/readers.js';
import { MiB, mbPerSec } from '../lib/timing.js';
import { makeTempDir } from '../lib/tmp.js';
import { size } from './baselines.js';
import { pathIn, subjectFor, withMount } from './wandbfs-side.js';

export const W2 = '2 shaped cold read';
export const SHAPING: Shaping = { latencyMs: 20, bandwidthBytesPerSec: 50e6 };

export async function shapedRead(ctx: BenchContext): Promise<void> {
  // 1 GiB at 50 MB/s is 21 s per single-stream sample; --quick reads the first 256 MiB instead
  const readBytes = Math.min(ctx.net.small.sizeBytes, ctx.opts.quick ? 256 * MiB : 1024 * MiB);
  const f: NetFile = { ...ctx.net.small, readBytes };
  const shape = `${SHAPING.latencyMs} ms/request, ${SHAPING.bandwidthBytesPerSec / 1e6} MB/s/conn`;
  ctx.net.setShaping(SHAPING);
  try {
    const curlId = '2.curl';
    const { path } = await makeTempDir('curl-shaped');
    const out = join(path, 'out.bin');
    await measure(
      ctx,
      {
        id: curlId,
        workload: W2,
        subject: `curl -o file, ${size(f)}, ${shape}`,
        short: 'curl shaped',
        unit: 'MB/s',
      },
      ctx.opts.runs,
      async () => {
        try {
          return mbPerSec(
            f.readBytes,
            await curlSeconds(
              await ctx.net.curlUrl(f),
              out,
              f.readBytes < f.sizeBytes ? f.readBytes - 1 : undefined,
            ),
          );
        } finally {
          await rm(out, { force: true });
        }
      },
    );

    const rcloneId = '2.rclone';
    await measure(
      ctx,
      {
        id: rcloneId,
        workload: W2,
        subject: `rclone mount, cold, ${size(f)}, shaped`,
        short: 'rclone shaped',
        unit: 'MB/s',
      },
      ctx.opts.runs,
      async () => {
        const m = await mountRclone(ctx.net.server.url);
        try {
          return await readThrough(join(m.mnt, f.name), f.sizeBytes, f.readBytes, 'dd');
        } finally {
          await m.stop();
          await m.removeDir();
        }
      },
    );

    const spec = {
      id: '2.wandbfs',
      workload: W2,
      subject: `wandbfs cold dd bs=1M, ${size(f)}, shaped`,
      unit: 'MB/s' as const,
      comparisons: [
        { vs: curlId, target: 3, op: '>=' as const },
        { vs: rcloneId, target: 2, op: '>=' as const },
      ],
    };
    const subject = await subjectFor(ctx, f);
    if (typeof subject === 'string') {
      unavailableRow(ctx, spec, subject);
      return;
    }
    await measure(ctx, spec, ctx.opts.runs, () =>
      withMount(ctx, subject.fake, {}, async (m) =>
        readThrough(await pathIn(m, f), f.sizeBytes, f.readBytes, 'dd'),
      ),
    );
  } finally {
    ctx.net.setShaping({ latencyMs: 0, bandwidthBytesPerSec: 0 });
  }
}
