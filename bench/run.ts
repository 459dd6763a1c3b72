/**
 * The benchmark suite: wandbfs side by side with its baselines, all measured in this one invocation.
 *
 *   npm run bench                      full run (5 samples per row, 5 GiB rows)
 *   npm run bench -- --quick           a few minutes: 3 samples, 1 GiB only
 *   npm run bench -- --only cold,warm  some workloads (names below)
 *   npm run bench -- --runs 7 --json results.json
 *
 * Prints the machine, then one table: median per row, ratio against the same run's baseline, the
 * issue's target and whether it is met. Rows that cannot be measured say why; no number is invented.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dropCaches } from './lib/caches.js';
import { runAllCleanups } from './lib/cleanup.js';
import type { BenchContext, NetSource, Options } from './lib/context.js';
import { makeLocalData, type LocalFile } from './lib/data.js';
import { describeMachine, formatMachine } from './lib/machine.js';
import { fakeNetSource, localNetSource } from './lib/net-source.js';
import { hasTool } from './lib/proc.js';
import { formatMarkdown, formatTable, Report } from './lib/report.js';
import { elapsedSec, GiB, startTimer } from './lib/timing.js';
import { Wandbfs } from './lib/wandbfs.js';
import * as baselines from './workloads/baselines.js';
import { coldRead } from './workloads/cold.js';
import { metadata } from './workloads/metadata.js';
import { peakRss } from './workloads/rss.js';
import { randomRead } from './workloads/random.js';
import { coldVsDirectHttp } from './workloads/random-cold.js';
import { shapedRead } from './workloads/shaped.js';
import { mountStart } from './workloads/startup.js';
import { warmRead } from './workloads/warm.js';

type Workload = (ctx: BenchContext) => Promise<void>;

const WORKLOADS: Record<string, { title: string; run: Workload }> = {
  baselines: {
    title: '0 baselines',
    run: async (ctx) => {
      await baselines.localCat(ctx);
      await baselines.localDd(ctx);
      await baselines.localCold(ctx);
      await baselines.passthroughNoCache(ctx);
      await baselines.passthroughKernelCache(ctx);
      await baselines.curlFull(ctx);
      await baselines.rcloneRead(ctx);
    },
  },
  cold: { title: '1 cold seq read', run: coldRead },
  shaped: { title: '2 shaped cold read', run: shapedRead },
  warm: { title: '3 warm / cached', run: warmRead },
  random: { title: '4 random read (fio)', run: randomRead },
  'random-cold': { title: '4 cold random 4 KiB vs direct HTTP', run: coldVsDirectHttp },
  metadata: { title: '5 metadata', run: metadata },
  rss: { title: '6 daemon peak RSS', run: peakRss },
  startup: { title: '7 mount start', run: mountStart },
};

const USAGE = `usage: node dist/bench/run.js [--quick] [--only ${Object.keys(WORKLOADS).join(',')}] [--runs N] [--json FILE] [--markdown] [--no-wandbfs]`;

function parseArgs(argv: string[]): Options & { markdown: boolean; noWandbfs: boolean } {
  const opts = {
    quick: false,
    runs: 0,
    only: [] as string[],
    json: null as string | null,
    markdown: false,
    noWandbfs: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const [flag, inline] = a.includes('=')
      ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
      : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--quick') opts.quick = true;
    else if (flag === '--no-wandbfs') opts.noWandbfs = true;
    else if (flag === '--markdown') opts.markdown = true;
    else if (flag === '--runs') {
      opts.runs = Number(value());
      if (!Number.isInteger(opts.runs) || opts.runs < 1)
        throw new Error(`--runs wants a positive integer\n${USAGE}`);
    } else if (flag === '--only') opts.only.push(...value().split(',').filter(Boolean));
    else if (flag === '--json') opts.json = value();
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  for (const w of opts.only) if (!WORKLOADS[w]) throw new Error(`unknown workload "${w}"\n${USAGE}`);
  if (opts.runs === 0) opts.runs = opts.quick ? 3 : 5;
  return opts;
}

async function main(): Promise<number> {
  let opts: ReturnType<typeof parseArgs>;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const t0 = startTimer();
  const log = (m: string): void =>
    void process.stderr.write(`[${elapsedSec(t0).toFixed(0).padStart(4)} s] ${m}\n`);
  const machine = await describeMachine(tmpdir());
  process.stdout.write(
    `wandbfs bench (${opts.quick ? 'quick' : 'full'}, ${opts.runs} samples per row, medians)\n`,
  );
  process.stdout.write(`${formatMachine(machine)}\n`);

  const missing: string[] = [];
  for (const tool of ['fusermount', 'curl', 'rclone', 'fio', 'dd', 'cat'])
    if (!(await hasTool(tool))) missing.push(tool);
  if (missing.length) {
    process.stderr.write(`bench: missing tools: ${missing.join(', ')} (see .ci/run for the packages)\n`);
    return 1;
  }
  const drop = await dropCaches();
  process.stdout.write(
    `drop_caches: ${drop.ok ? 'yes' : `no (${drop.reason ?? ''}): "cold" local rows are not cold`}\n`,
  );

  const wandbfs = new Wandbfs();
  if (opts.noWandbfs) wandbfs.unavailable = '--no-wandbfs';
  else await wandbfs.probe();
  process.stdout.write(`wandbfs: ${wandbfs.unavailable === null ? 'available' : wandbfs.notAvailable}\n`);

  const selected = opts.only.length
    ? Object.keys(WORKLOADS).filter((w) => opts.only.includes(w))
    : Object.keys(WORKLOADS);
  const report = new Report();
  try {
    let net: NetSource | null = null;
    if (wandbfs.unavailable === null) net = await fakeNetSource(wandbfs, !opts.quick, log);
    log('generating local data (1 GiB' + (!opts.quick && !net ? ' + 5 GiB' : '') + ')');
    const sizes: Record<string, number> = { 'data-1g.bin': GiB };
    if (!opts.quick && !net) sizes['data-5g.bin'] = 5 * GiB;
    const local = await makeLocalData(sizes);
    const file1g = local.files[0] as LocalFile;
    const file5g = local.files[1] ?? null;
    net ??= await localNetSource(file1g, file5g);
    process.stdout.write(`network baselines read from: ${net.describe}\n`);

    const memo = new Map<string, Promise<unknown>>();
    const ctx: BenchContext = {
      opts,
      report,
      local,
      file1g,
      file5g,
      net,
      wandbfs,
      log,
      once: <T>(key: string, fn: () => Promise<T>): Promise<T> => {
        let p = memo.get(key) as Promise<T> | undefined;
        if (!p) {
          p = fn();
          memo.set(key, p);
        }
        return p;
      },
    };
    for (const name of selected) {
      const w = WORKLOADS[name];
      if (!w) continue;
      log(`== ${w.title}`);
      try {
        await w.run(ctx);
      } catch (err) {
        const msg = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 160);
        log(`${w.title} aborted: ${msg}`);
        report.add({
          id: `${name}.aborted`,
          workload: w.title,
          subject: '(workload aborted)',
          unit: 's',
          samples: [],
          unavailable: `failed: ${msg}`,
        });
      }
    }
  } finally {
    log('cleaning up');
    await runAllCleanups();
  }

  process.stdout.write(`\n${formatTable(report)}\n`);
  if (opts.markdown) process.stdout.write(`\n${formatMarkdown(report)}\n`);
  process.stdout.write(`\ntotal ${elapsedSec(t0).toFixed(0)} s\n`);
  if (opts.json) {
    await writeFile(
      opts.json,
      JSON.stringify({ machine, options: opts, rows: report.toJSON() }, null, 2) + '\n',
    );
    process.stdout.write(`wrote ${opts.json}\n`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await runAllCleanups();
    process.exit(1);
  },
);
