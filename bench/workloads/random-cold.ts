/**
 * Issue 15's cold random row: fio's 4 KiB psync reads in the first seconds of a fresh mount of the
 * big file (while the background fill is far from done), against the same offsets fetched by ranged
 * GETs from the file's URL, in this process and in a process of its own, and against the floor: a
 * bare fuse-native daemon answering each read with one GET (bench/bare-random-read.ts), sampled in
 * turns with wandbfs.
 */
import { mountBareRandomRead } from '../lib/bench-fs.js';
import {
  measure,
  measureAlternating,
  unavailableRow,
  type BenchContext,
  type NetFile,
  type RowSpec,
} from '../lib/context.js';
import { bigRunFiles } from '../lib/fake-files.js';
import { fillProgress } from '../lib/fill-progress.js';
import { directRandomReads, directRandomReadsInChild, fioOffsets } from '../lib/http-random.js';
import { fioRandRead } from '../lib/readers.js';
import { GiB } from '../lib/timing.js';
import { size } from './baselines.js';
import { W4 } from './random.js';
import { pathIn, subjectFor, withMount } from './wandbfs-side.js';

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
 * reads land while the background fill is still far from done (workload `random`'s 60 s rows mostly
 * read a filled cache), against the same offsets fetched by ranged GETs from the file's URL.
 */
export async function coldVsDirectHttp(ctx: BenchContext): Promise<void> {
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
  const directProcess: RowSpec = {
    id: '4.4k.http.direct.process',
    workload: W4,
    subject: `same, from a separate process (as wandbfs's daemon is), ${size(f)} file, ${seconds} s`,
    short: 'direct HTTP 4k, own process',
    unit: 'IOPS',
  };
  const cold: RowSpec = {
    id: '4.4k.wandbfs.cold.first',
    workload: W4,
    subject: `wandbfs cold, first ${seconds} s of a fresh mount, ${size(f)} file, bs=4k`,
    short: `wandbfs cold first ${seconds} s 4k`,
    unit: 'IOPS',
    comparisons: [
      { vs: direct.id, target: 0.3, op: '>=' },
      { vs: directProcess.id, target: 0.3, op: '>=' },
    ],
  };
  const offsets = await fioOffsets(region, bs, MAX_DIRECT_IOPS * seconds);
  await measure(ctx, direct, ctx.opts.runs, async () => {
    const r = await directRandomReads(await ctx.net.curlUrl(f), offsets, bs, seconds);
    const ranOut = r.ops === offsets.length ? ' (all offsets read before the time was up)' : '';
    ctx.log(`  ${r.ops} GETs in ${r.seconds.toFixed(1)} s on ${r.connections} connection(s)${ranOut}`);
    return r.iops;
  });
  await measure(ctx, directProcess, ctx.opts.runs, async () => {
    const r = await directRandomReadsInChild({ url: await ctx.net.curlUrl(f), offsets, bs, seconds });
    ctx.log(`  ${r.ops} GETs in ${r.seconds.toFixed(1)} s on ${r.connections} connection(s), own process`);
    return r.iops;
  });
  const floor: RowSpec = {
    id: '4.4k.floor.bare',
    workload: W4,
    subject: `floor: bare fuse-native daemon, one ranged GET per read (no cache), ${size(f)} file, ${seconds} s`,
    short: 'bare floor 4k',
    unit: 'IOPS',
    comparisons: [{ vs: direct.id }, { vs: directProcess.id }],
  };
  cold.comparisons?.push({ vs: floor.id });
  const fio = (path: string): Promise<number> =>
    fioRandRead(path, {
      bs: '4k',
      ioBytes: region,
      maxSeconds: seconds,
      timeBased: true,
      invalidate: true,
      sizeBytes: region,
    }).then((r) => r.iops);
  const bare = async (): Promise<number> => {
    const m = await mountBareRandomRead(await ctx.net.curlUrl(f), region);
    try {
      return await fio(m.file);
    } finally {
      await m.stop();
      await m.removeDir();
    }
  };
  const subject = await subjectFor(ctx, f);
  if (typeof subject === 'string') {
    unavailableRow(ctx, cold, subject);
    await measure(ctx, floor, ctx.opts.runs, bare);
    return;
  }
  const wandbfs = (): Promise<number> =>
    withMount(ctx, subject.fake, {}, async (m) => {
      const iops = await fio(await pathIn(m, f));
      ctx.log(`  ${iops.toFixed(0)} IOPS; when fio stopped: ${await fillProgress(m.mnt)}`);
      return iops;
    });
  await measureAlternating(
    ctx,
    [
      { spec: cold, sample: wandbfs },
      { spec: floor, sample: bare },
    ],
    ctx.opts.runs,
  );
}
