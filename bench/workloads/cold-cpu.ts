/**
 * Workload 1, CPU side: how many CPU-seconds the daemon spends per GiB of cold sequential read
 * (download, writes, MD5 verification, FUSE), and whether the read scales with cores. Each sample
 * mounts afresh, reads the whole file with `dd bs=1M`, waits until the fill is verified and
 * committed, and takes utime+stime of the daemon (all threads) from /proc before and after. The
 * daemon on every core and the daemon pinned to CPU 0 (`taskset -c 0`) alternate sample by sample,
 * so both see the same stretch of a noisy machine. The floor rows (cpu-floor.ts) follow, and the
 * all-cores row is read against their sum and against rclone's daemon CPU.
 */
import { unavailableRow, type BenchContext, type NetFile, type RowSpec } from '../lib/context.js';
import { peakRssMiB } from '../lib/fuse-daemon.js';
import { processCpuSeconds, waitForFillsDone } from '../lib/proc-cpu.js';
import { readThrough } from '../lib/readers.js';
import { GiB } from '../lib/timing.js';
import { size } from './baselines.js';
import { cpuFloor, FLOOR_SUM_ID, RCLONE_CPU_ID } from './cpu-floor.js';
import { pathIn, subjectFor, withMount, type WandbfsSubject } from './wandbfs-side.js';
import { W1 } from './cold.js';

const VERIFY_TIMEOUT_MS = 300_000;

interface CpuSample {
  mbPerSec: number;
  cpuSecPerGiB: number;
  peakRssMiB: number;
}

type Cores = 'all' | 'one';

async function sample(ctx: BenchContext, subject: WandbfsSubject, cores: Cores): Promise<CpuSample> {
  const file = subject.file;
  return withMount(ctx, subject.fake, cores === 'one' ? { cpuList: '0' } : {}, async (m) => {
    const path = await pathIn(m, file);
    const before = await processCpuSeconds(m.pid);
    const mbPerSec = await readThrough(path, file.sizeBytes, file.readBytes, 'dd');
    await waitForFillsDone(m.mnt, VERIFY_TIMEOUT_MS);
    const after = await processCpuSeconds(m.pid);
    const peak = await peakRssMiB(m.pid);
    return { mbPerSec, cpuSecPerGiB: (after - before) / (file.readBytes / GiB), peakRssMiB: peak };
  });
}

function specs(f: NetFile): Record<string, RowSpec> {
  const s = size(f);
  const pinned = 'daemon on 1 core (taskset -c 0)';
  return {
    cpuAll: {
      id: '1.cpu.all',
      workload: W1,
      subject: `wandbfs daemon CPU per GiB, cold dd ${s} + MD5 verify, all cores`,
      unit: 'CPU-s/GiB',
      comparisons: [{ vs: FLOOR_SUM_ID }, { vs: RCLONE_CPU_ID }],
      limit: { value: 3, op: '<=' },
    },
    cpuOne: {
      id: '1.cpu.one',
      workload: W1,
      subject: `wandbfs daemon CPU per GiB, cold dd ${s} + MD5 verify, ${pinned}`,
      unit: 'CPU-s/GiB',
    },
    mbAll: {
      id: '1.cores.all',
      short: 'wandbfs cold dd, all cores',
      workload: W1,
      subject: `wandbfs cold dd bs=1M, ${s}, all cores (samples of the CPU rows)`,
      unit: 'MB/s',
    },
    rssAll: {
      id: '1.rss.all',
      workload: W1,
      subject: `wandbfs daemon peak RSS, cold dd ${s}, all cores (samples of the CPU rows)`,
      unit: 'MiB',
    },
    mbOne: {
      id: '1.cores.one',
      workload: W1,
      subject: `wandbfs cold dd bs=1M, ${s}, ${pinned}`,
      unit: 'MB/s',
      comparisons: [{ vs: '1.cores.all' }],
    },
  };
}

async function wandbfsCpu(ctx: BenchContext): Promise<void> {
  const f = ctx.net.small;
  const rows = specs(f);
  const subject = await subjectFor(ctx, f);
  if (typeof subject === 'string') {
    for (const r of Object.values(rows)) unavailableRow(ctx, r, subject);
    return;
  }
  const got: Record<Cores, CpuSample[]> = { all: [], one: [] };
  ctx.log(`${W1} :: daemon CPU per GiB, all cores and taskset -c 0, ${ctx.opts.runs} samples each`);
  try {
    for (let i = 0; i < ctx.opts.runs; i++) {
      for (const cores of ['all', 'one'] as const) {
        const s = await sample(ctx, subject, cores);
        ctx.log(
          `  ${cores === 'all' ? 'all cores' : 'taskset -c 0'}: ${s.mbPerSec.toFixed(0)} MB/s, ${s.cpuSecPerGiB.toFixed(2)} CPU-s/GiB, peak RSS ${s.peakRssMiB.toFixed(0)} MiB`,
        );
        got[cores].push(s);
      }
    }
  } catch (err) {
    const why = `failed: ${(err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 160)}`;
    for (const r of Object.values(rows)) unavailableRow(ctx, r, why);
    return;
  }
  const pick = (cores: Cores, f: (s: CpuSample) => number): number[] => got[cores].map(f);
  const filled: [RowSpec | undefined, number[]][] = [
    [rows.cpuAll, pick('all', (s) => s.cpuSecPerGiB)],
    [rows.cpuOne, pick('one', (s) => s.cpuSecPerGiB)],
    [rows.mbAll, pick('all', (s) => s.mbPerSec)],
    [rows.mbOne, pick('one', (s) => s.mbPerSec)],
    [rows.rssAll, pick('all', (s) => s.peakRssMiB)],
  ];
  for (const [spec, samples] of filled) if (spec) ctx.report.add({ ...spec, samples });
}

export async function coldCpu(ctx: BenchContext): Promise<void> {
  await wandbfsCpu(ctx);
  await cpuFloor(ctx);
}
