/**
 * Workload 5: metadata. `ls -l` of 10,000 run directories and `find` over 100,000 files: the in-memory
 * fuse-native filesystem is the ceiling; wandbfs lists the `large` fixture with 50 ms of GraphQL
 * latency (first listing), then warm, then after a remount, counting GraphQL requests each time.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultMountOptions } from '../../src/fs/fuse.js';
import { mountMemoryFs, mountMemoryTree } from '../lib/bench-fs.js';
import {
  measure,
  measureAlternating,
  unavailableRow,
  type BenchContext,
  type RowSpec,
  shortName,
} from '../lib/context.js';
import { graphqlRequests } from '../lib/fake-files.js';
import { run, runOk } from '../lib/proc.js';
import { makeTempDir } from '../lib/tmp.js';
import type { FakeWandb, WandbfsMount } from '../lib/wandbfs.js';
import { withMount } from './wandbfs-side.js';

export const W5 = '5 metadata';
const RUNS = 10_000;
const FILES_PER_RUN = 10;
const GRAPHQL_LATENCY_MS = 50;

/** `ls -l` in a child process; the output is discarded but must be complete (checked by line count). */
async function lsSeconds(dir: string, expectEntries: number | null): Promise<number> {
  const r = await runOk('ls', ['-l', dir], { timeoutMs: 600_000 });
  const lines = r.stdout.split('\n').filter((l) => l && !l.startsWith('total ')).length;
  if (expectEntries !== null && lines < expectEntries)
    throw new Error(`ls -l listed ${lines} of ${expectEntries} entries`);
  return r.seconds;
}

async function findSeconds(dir: string, timeoutMs: number): Promise<{ seconds: number; entries: number }> {
  const r = await run('find', [dir], { timeoutMs });
  if (r.code !== 0) {
    const first = r.stderr.trim().split('\n')[0] ?? '';
    throw new Error(r.signal ? `find timed out after ${timeoutMs / 1000} s` : `find failed: ${first}`);
  }
  return { seconds: r.seconds, entries: r.stdout.split('\n').filter(Boolean).length };
}

export async function metadata(ctx: BenchContext): Promise<void> {
  const n = ctx.opts.runs;
  const spec = (id: string, subject: string, extra: Partial<RowSpec> = {}): RowSpec => ({
    id: `5.${id}`,
    short: shortName(id),
    workload: W5,
    subject,
    unit: 's',
    ...extra,
  });

  // the ceiling: first listing right after mounting, then warm (long attr/entry timeouts)
  const memFirst = spec('mem.ls.first', `in-memory FUSE: ls -l of ${RUNS} dirs, first after mount`);
  await measure(ctx, memFirst, n, async () => {
    const m = await mountMemoryFs(RUNS, FILES_PER_RUN, false);
    try {
      return await lsSeconds(join(m.mnt, 'runs'), RUNS);
    } finally {
      await m.stop();
    }
  });
  const memWarm = spec('mem.ls.warm', `in-memory FUSE: ls -l of ${RUNS} dirs, warm`);
  const memFindFirst = spec(
    'mem.find.first',
    `in-memory FUSE: find over ${RUNS * FILES_PER_RUN} files, first`,
  );
  const memFindWarm = spec('mem.find.warm', `in-memory FUSE: find over ${RUNS * FILES_PER_RUN} files, warm`);
  const mem = await mountMemoryFs(RUNS, FILES_PER_RUN, false);
  try {
    await lsSeconds(join(mem.mnt, 'runs'), RUNS);
    await measure(ctx, memWarm, n, () => lsSeconds(join(mem.mnt, 'runs'), RUNS));
    await measure(ctx, memFindFirst, 1, async () => (await findSeconds(mem.mnt, 600_000)).seconds);
    await measure(ctx, memFindWarm, n, async () => (await findSeconds(mem.mnt, 600_000)).seconds);
  } finally {
    await mem.stop();
  }
  // what answering getxattr (wandbfs serves user.* xattrs) costs: ls -l asks three times per entry
  // the bar for a listing after a remount (issue 15): nothing cached in the kernel, getxattr answered
  const memXFirst = spec(
    'memx.ls.first',
    `in-memory FUSE + getxattr (ENODATA): ls -l of ${RUNS} dirs, first after mount`,
  );
  await measure(ctx, memXFirst, n, memXFirstSample);
  const memX = spec('memx.ls.warm', `in-memory FUSE + getxattr (ENODATA): ls -l of ${RUNS} dirs, warm`);
  const memx = await mountMemoryFs(RUNS, FILES_PER_RUN, true);
  try {
    await lsSeconds(join(memx.mnt, 'runs'), RUNS);
    await measure(ctx, memX, n, () => lsSeconds(join(memx.mnt, 'runs'), RUNS));
  } finally {
    await memx.stop();
  }

  await wandbfsMetadata(ctx, spec, {
    memFirst: memFirst.id,
    memWarm: memWarm.id,
    memX: memX.id,
    memXFirst: memXFirst.id,
    memFind: memFindWarm.id,
  });
}

interface Ids {
  memFirst: string;
  memWarm: string;
  memX: string;
  memXFirst: string;
  memFind: string;
}

async function wandbfsMetadata(
  ctx: BenchContext,
  spec: (id: string, s: string, e?: Partial<RowSpec>) => RowSpec,
  ids: Ids,
): Promise<void> {
  // the remount row's bar, sampled in turns with it: measured minutes apart, the bar and the row
  // moved with the machine by more than the margin being judged (1.15-1.53x over four runs)
  const memXPaired = spec(
    'memx.ls.first.paired',
    `in-memory FUSE + getxattr (ENODATA): ls -l of ${RUNS} dirs, first after mount (alternating with the remount samples)`,
    { short: 'in-memory+getxattr first, same stretch' },
  );
  // the warm find's ceiling: the same walk over the same tree, served from memory with the same
  // kernel timeouts (the synthetic tree has 10,000 directories, the large project about 110,000)
  const memTree = spec(
    'memtree.find.warm',
    `in-memory FUSE serving the tree wandbfs showed, its ${defaultMountOptions.attrTimeoutS} s entry/attr timeouts: find, warm (alternating with wandbfs)`,
    { short: 'in-memory, same tree + timeouts' },
  );
  const rows = {
    first: spec(
      'w.ls.first',
      `wandbfs ls -l of ${RUNS} runs, first (${GRAPHQL_LATENCY_MS} ms GraphQL latency)`,
      {
        comparisons: [{ vs: ids.memFirst }],
      },
    ),
    warm: spec('w.ls.warm', `wandbfs ls -l of ${RUNS} runs, warm`, {
      comparisons: [{ vs: ids.memWarm, target: 2, op: '<=' }, { vs: ids.memX }],
    }),
    warmGql: {
      ...spec('w.ls.warm.gql', 'wandbfs warm ls -l: GraphQL requests'),
      unit: 'req' as const,
      limit: { value: 0, op: '<=' as const },
    },
    memXPaired,
    remount: spec('w.ls.remount', `wandbfs ls -l of ${RUNS} runs, after remount`, {
      comparisons: [
        { vs: ids.memWarm, target: 2, op: '<=' },
        { vs: memXPaired.id, target: 1.3, op: '<=' },
        { vs: ids.memXFirst },
      ],
    }),
    remountGql: {
      ...spec('w.ls.remount.gql', 'wandbfs ls -l after remount: GraphQL requests'),
      unit: 'req' as const,
      limit: { value: 0, op: '<=' as const },
    },
    findFirst: spec(
      'w.find.first',
      `wandbfs find over the large project, first (${GRAPHQL_LATENCY_MS} ms GraphQL latency)`,
    ),
    memTree,
    findWarm: spec('w.find.warm', 'wandbfs find over the large project, warm', {
      comparisons: [{ vs: ids.memFind, target: 3, op: '<=' }, { vs: memTree.id }],
    }),
  };
  const all = Object.values(rows);
  if (ctx.wandbfs.unavailable !== null) {
    for (const r of all) unavailableRow(ctx, r, ctx.wandbfs.notAvailable);
    return;
  }
  let fake: FakeWandb;
  try {
    fake = await ctx.wandbfs.fake('large');
  } catch (err) {
    for (const r of all)
      unavailableRow(ctx, r, `wandbfs: not available (large fixture: ${String(err).slice(0, 100)})`);
    return;
  }
  const proj = fake.fixture.entities.flatMap((e) => e.projects).find((p) => p.runs.length >= RUNS);
  if (!proj) {
    for (const r of all) unavailableRow(ctx, r, `the large fixture has no project with ${RUNS} runs`);
    return;
  }
  // find the layout once, on a throwaway mount, so no timed listing is warmed by the search
  let rel: { runs: string; project: string };
  try {
    rel = await withMount(ctx, fake, {}, async (m) => {
      const project = join(proj.entityName, proj.name);
      for (const runs of [join(project, 'runs'), project]) {
        const r = await run('ls', [join(m.mnt, runs)], { timeoutMs: 600_000 });
        // runs are listed by display name, so count entries rather than look for an id
        if (r.code === 0 && r.stdout.split('\n').filter(Boolean).length >= RUNS) return { runs, project };
      }
      throw new Error(`cannot find the runs of ${project} in the mount`);
    });
  } catch (err) {
    for (const r of all) unavailableRow(ctx, r, `wandbfs: ${String(err).slice(0, 120)}`);
    return;
  }
  const runsDir = (m: WandbfsMount): string => join(m.mnt, rel.runs);
  const projectDir = (m: WandbfsMount): string => join(m.mnt, rel.project);
  const gql = (): number => graphqlRequests(fake);
  const n = ctx.opts.runs;
  const findTimeoutMs = (ctx.opts.quick ? 180 : 900) * 1000;

  // first listing: each sample is a fresh mount and cache; locating the dir lists its parents only
  const firstCounts: number[] = [];
  await measure(ctx, rows.first, n, () =>
    withMount(ctx, fake, {}, async (m) => {
      // resolving the parents is not part of the listing being timed
      await runOk('stat', [runsDir(m)], { timeoutMs: 120_000 });
      fake.faults.graphql.latencyMs = GRAPHQL_LATENCY_MS;
      try {
        const before = gql();
        const t = await lsSeconds(runsDir(m), RUNS);
        firstCounts.push(gql() - before);
        return t;
      } finally {
        fake.faults.graphql.latencyMs = 0;
      }
    }),
  );
  const firstRow = ctx.report.get(rows.first.id);
  if (firstRow && firstCounts.length)
    firstRow.note = `GraphQL requests per first listing: ${firstCounts.join(', ')}`;

  let cacheDir = '';
  let removeDir: (() => Promise<void>) | null = null;
  // The targets are about listings *within* their freshness TTL; the finds below take minutes, more
  // than the default 60 s listing TTL, so these mounts keep listings fresh for an hour.
  const fresh = ['--ttl-listing', '1h', '--ttl-run', '1h', '--ttl-active-run', '1h'];
  await withMount(ctx, fake, { keepDir: true, extraArgs: fresh }, async (m) => {
    cacheDir = m.cacheDir;
    removeDir = m.removeDir;
    await lsSeconds(runsDir(m), RUNS);
    fake.faults.graphql.latencyMs = GRAPHQL_LATENCY_MS;
    try {
      const before = gql();
      await measure(ctx, rows.warm, n, () => lsSeconds(runsDir(m), RUNS));
      ctx.report.add({ ...rows.warmGql, samples: [gql() - before] });
      const b2 = gql();
      let entries = 0;
      await measure(ctx, rows.findFirst, 1, async () => {
        const r = await findSeconds(projectDir(m), findTimeoutMs);
        entries = r.entries;
        return r.seconds;
      });
      const findRow = ctx.report.get(rows.findFirst.id);
      if (findRow) findRow.note = `${entries} entries, ${gql() - b2} GraphQL requests`;
    } finally {
      fake.faults.graphql.latencyMs = 0;
    }
    if (ctx.report.get(rows.findFirst.id)?.unavailable === undefined) {
      await measureFindWarm(ctx, { wandbfs: rows.findWarm, memTree }, projectDir(m), n, findTimeoutMs);
      // workload 7 restarts on this cache (every run and file listed) instead of filling its own
      const filled = cacheDir;
      void ctx.once('large-cache', () => Promise.resolve<LargeCache>({ cacheDir: filled, error: null }));
      removeDir = null;
    } else {
      unavailableRow(ctx, rows.findWarm, 'first find failed');
    }
  });
  try {
    const counts: number[] = [];
    const remountSample = (): Promise<number> =>
      withMount(ctx, fake, { cacheDir, extraArgs: fresh }, async (m) => {
        fake.faults.graphql.latencyMs = GRAPHQL_LATENCY_MS;
        try {
          const before = gql();
          const t = await lsSeconds(runsDir(m), RUNS);
          counts.push(gql() - before);
          return t;
        } finally {
          fake.faults.graphql.latencyMs = 0;
        }
      });
    await measureAlternating(
      ctx,
      [
        { spec: rows.memXPaired, sample: memXFirstSample },
        { spec: rows.remount, sample: remountSample },
      ],
      n,
    );
    ctx.report.add({ ...rows.remountGql, samples: counts.length ? [Math.max(...counts)] : [] });
  } finally {
    await (removeDir as (() => Promise<void>) | null)?.();
  }
}

/** A wandbfs cache dir holding the metadata of the whole `large` fixture (kept until the run ends). */
export interface LargeCache {
  cacheDir: string;
  /** why the cache could not be filled, or null */
  error: string | null;
}

/**
 * wandbfs's warm `find` in turns with the in-memory filesystem serving the very tree it showed (one
 * more walk lists it), after one walk of that filesystem to warm it as wandbfs is. Without that
 * tree, wandbfs's samples alone.
 */
async function measureFindWarm(
  ctx: BenchContext,
  rows: { wandbfs: RowSpec; memTree: RowSpec },
  dir: string,
  n: number,
  timeoutMs: number,
): Promise<void> {
  const wandbfsSample = async (): Promise<number> => (await findSeconds(dir, timeoutMs)).seconds;
  const tmp = await makeTempDir('tree');
  let mem: Awaited<ReturnType<typeof mountMemoryTree>> | null = null;
  try {
    try {
      const listed = await runOk('find', [dir, '-mindepth', '1', '-printf', '%y\\t%P\\n'], { timeoutMs });
      const file = join(tmp.path, 'tree.txt');
      await writeFile(file, listed.stdout);
      mem = await mountMemoryTree(file, defaultMountOptions.attrTimeoutS);
      await findSeconds(mem.mnt, timeoutMs);
    } catch (err) {
      unavailableRow(
        ctx,
        rows.memTree,
        `the tree could not be served from memory: ${String(err).slice(0, 120)}`,
      );
      await measure(ctx, rows.wandbfs, n, wandbfsSample);
      return;
    }
    const memMnt = mem.mnt;
    await measureAlternating(
      ctx,
      [
        { spec: rows.wandbfs, sample: wandbfsSample },
        { spec: rows.memTree, sample: async () => (await findSeconds(memMnt, timeoutMs)).seconds },
      ],
      n,
    );
  } finally {
    await mem?.stop();
    await tmp.remove();
  }
}

/** The in-memory filesystem answering getxattr, mounted afresh: its first `ls -l` of the runs. */
async function memXFirstSample(): Promise<number> {
  const m = await mountMemoryFs(RUNS, FILES_PER_RUN, true);
  try {
    return await lsSeconds(join(m.mnt, 'runs'), RUNS);
  } finally {
    await m.stop();
  }
}
