/**
 * Workload 1, the throughput floor of a cold read: `bench/bare-cold-read.ts`, the simplest
 * fuse-native filesystem that downloads the file with ranged GETs into a scratch file, hashes it in
 * order and serves each read once the written prefix covers it, read with `cat` from the same fake
 * server as curl, rclone and wandbfs. If even that reads below 0.6x curl, issue 15's target is out
 * of reach for a Node + fuse-native filesystem on this machine; what wandbfs reads below it is
 * wandbfs's own overhead. Three variants: MD5 on the daemon's one JavaScript thread (the simplest),
 * MD5 on a worker thread re-reading the scratch file (as wandbfs hashes: on 2 cores it overlaps
 * with the thread serving sockets and FUSE), and no MD5. Their samples alternate with the wandbfs
 * cat row's and rclone's cold read (wandbfs, rclone, bare, bare worker, bare no MD5, wandbfs, ...),
 * so all see the same stretches of a noisy, shared machine.
 */
import { mountBareColdRead, type BareOptions } from '../lib/bench-fs.js';
import {
  measureAlternating,
  unavailableRow,
  type BenchContext,
  type NetFile,
  type RowSpec,
  type SampledRow,
} from '../lib/context.js';
import { fileMd5 } from '../lib/fake-files.js';
import { readThrough } from '../lib/readers.js';
import { GiB, median } from '../lib/timing.js';
import { size } from './baselines.js';
import { W1 } from './cold.js';

export const BARE_MD5_ID = '1.floor.bare.md5';
export const BARE_WORKER_ID = '1.floor.bare.md5worker';
export const BARE_NOMD5_ID = '1.floor.bare.nomd5';

const STREAMS = 8;
const CHUNK_MIB = 8;

interface DaemonReport {
  cpuSeconds: number;
  md5: string | null;
  bytes: number;
}

/** The daemon's JSON line (printed once the download and MD5 are done); missing = an error. */
function parseReport(output: string): DaemonReport {
  const line = output
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  const doc = line ? (JSON.parse(line) as Partial<DaemonReport>) : {};
  if (typeof doc.cpuSeconds !== 'number' || typeof doc.bytes !== 'number' || doc.md5 === undefined)
    throw new Error(`bare-cold-read: no report; its output: ${output.trim().slice(-300)}`);
  return { cpuSeconds: doc.cpuSeconds, md5: doc.md5, bytes: doc.bytes };
}

/** The MD5 the fake server states for the file, or null with a local byte source (not checked). */
function expectedMd5(ctx: BenchContext, f: NetFile): Promise<string | null> {
  const ff = f.fixtureFile;
  if (!ff || ctx.wandbfs.unavailable !== null) return Promise.resolve(null);
  return ctx.once(`md5:${f.name}`, async () => fileMd5(await ctx.wandbfs.fake('huge-file'), ff));
}

type Md5Mode = BareOptions['md5'];

const ROW: Record<'main' | 'worker' | 'none', { id: string; short: string; how: string }> = {
  main: { id: BARE_MD5_ID, short: 'bare floor (MD5)', how: ', MD5' },
  worker: { id: BARE_WORKER_ID, short: 'bare floor (MD5 worker)', how: ', MD5 on a worker thread' },
  none: { id: BARE_NOMD5_ID, short: 'bare floor (no MD5)', how: '' },
};

function bareRow(
  ctx: BenchContext,
  md5: Md5Mode,
  rclone: string,
  curl: string,
): SampledRow & { cpu: number[] } {
  const f = ctx.net.small;
  const r = ROW[md5 ?? 'none'];
  const how = `${STREAMS} ranged streams x ${CHUNK_MIB} MiB into a file${r.how}`;
  const spec: RowSpec = {
    id: r.id,
    workload: W1,
    subject: `floor: bare cold read through fuse-native (${how}, reads wait for the prefix), cat ${size(f)}`,
    short: r.short,
    unit: 'MB/s',
    comparisons: md5
      ? [
          { vs: curl, target: 0.6, op: '>=' },
          { vs: rclone, target: 1.1, op: '>=' },
        ]
      : [{ vs: curl }, { vs: rclone }],
  };
  const cpu: number[] = [];
  const sample = async (): Promise<number> => {
    const url = await ctx.net.curlUrl(f);
    const opts = { streams: STREAMS, chunkMiB: CHUNK_MIB, md5 };
    const m = await mountBareColdRead(url, f.sizeBytes, opts);
    let mbPerSec: number;
    try {
      mbPerSec = await readThrough(m.file, f.sizeBytes, f.readBytes, 'cat');
    } finally {
      await m.stop();
      await m.removeDir();
    }
    const got = parseReport(m.daemon.output());
    if (got.bytes !== f.sizeBytes) throw new Error(`bare-cold-read: ${got.bytes} of ${f.sizeBytes} bytes`);
    const want = md5 ? await expectedMd5(ctx, f) : null;
    if (want !== null && got.md5 !== want) throw new Error(`bare-cold-read: MD5 ${got.md5} != ${want}`);
    cpu.push(got.cpuSeconds / (got.bytes / GiB));
    return mbPerSec;
  };
  return { spec, sample, cpu };
}

/**
 * Measures the wandbfs cat row (`wandbfsCat`, null when it was skipped and its row already says
 * why) in turns with rclone's cold read (the rclone bar of workload 1) and the bare rows.
 */
export async function coldCatWithFloor(
  ctx: BenchContext,
  wandbfsCat: SampledRow | null,
  rclone: SampledRow,
  curl: string,
): Promise<void> {
  const f = ctx.net.small;
  const bare = (['main', 'worker', null] as const).map((md5) => ({
    md5,
    ...bareRow(ctx, md5, rclone.spec.id, curl),
  }));
  if (f.readBytes < f.sizeBytes) {
    const why = `skipped: cat needs a whole file, only the first ${size(f)} is read`;
    // wandbfsColdRow skips its cat row for the same reason, so wandbfsCat is null here
    for (const b of bare) unavailableRow(ctx, b.spec, why);
    unavailableRow(ctx, rclone.spec, why);
    return;
  }
  const checked =
    f.fixtureFile && ctx.wandbfs.unavailable === null
      ? 'checked against the fake server'
      : 'not checked (local byte source)';
  const rows = await measureAlternating(
    ctx,
    [...(wandbfsCat ? [wandbfsCat] : []), rclone, ...bare],
    ctx.opts.runs,
  );
  for (const b of bare) {
    const row = rows.find((r) => r.id === b.spec.id);
    if (!row || b.cpu.length === 0) continue;
    const cpu = `bare daemon CPU ${median(b.cpu).toFixed(2)} CPU-s/GiB (median, from its first open to the end of the download`;
    const note = b.md5 ? `${cpu} and MD5); MD5 ${checked}` : `${cpu}); no MD5`;
    ctx.report.add({ ...row, note });
  }
}
