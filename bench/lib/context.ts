/** What every workload gets: options, the report, the data, the byte sources, and the wandbfs handle. */
import type { LocalData, LocalFile } from './data.js';
import type { FileServer, Shaping } from './file-server.js';
import type { FixtureFile } from './fake-files.js';
import type { Comparison, Report, Row, Unit } from './report.js';
import type { Wandbfs } from './wandbfs.js';

export interface Options {
  quick: boolean;
  runs: number;
  only: string[];
  json: string | null;
}

/** A file as the network baselines see it. `readBytes` < `sizeBytes` means "read only the first readBytes". */
export interface NetFile {
  /** name on the bench HTTP server's index page (what rclone lists) */
  name: string;
  sizeBytes: number;
  readBytes: number;
  /** set when the bytes come from the fake W&B server: where wandbfs shows the same file */
  fixtureFile: FixtureFile | null;
}

/** The HTTP side every network baseline reads from (curl directly, rclone through the index page). */
export interface NetSource {
  describe: string;
  /** serves the index page rclone lists (files, or redirects to the fake's signed URLs) */
  server: FileServer;
  /** the ~1 GiB read */
  small: NetFile;
  /** the 5 GiB read (full runs only) */
  big: NetFile | null;
  /** the URL curl downloads (a fresh signed URL when the fake serves the bytes) */
  curlUrl(f: NetFile): Promise<string>;
  setShaping(s: Shaping): void;
}

export interface BenchContext {
  opts: Options;
  report: Report;
  local: LocalData;
  /** the 1 GiB file every 1 GiB row reads (locally, and by name on the HTTP server) */
  file1g: LocalFile;
  /** full run only */
  file5g: LocalFile | null;
  net: NetSource;
  wandbfs: Wandbfs;
  log(msg: string): void;
  /** runs `fn` once per key for the whole invocation (baselines shared by several workloads) */
  once<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

export interface RowSpec {
  id: string;
  workload: string;
  subject: string;
  short?: string;
  unit: Unit;
  comparisons?: Comparison[];
  limit?: { value: number; op: '>=' | '<=' };
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 160);
}

/** --quick is for a look in a few minutes: a row whose first sample takes this long gets only one. */
const QUICK_SLOW_SAMPLE_MS = 15_000;

/**
 * Takes `n` samples of `sample` into one row. A failing sample marks the whole row failed (with the
 * reason) rather than reporting a median of whatever happened to work.
 */
export async function measure(
  ctx: BenchContext,
  spec: RowSpec,
  n: number,
  sample: (i: number) => Promise<number>,
): Promise<Row> {
  const [row] = await measureAlternating(ctx, [{ spec, sample }], n);
  return row as Row;
}

/** A row and how to take one sample of it, for `measureAlternating`. */
export interface SampledRow {
  spec: RowSpec;
  sample: (i: number) => Promise<number>;
}

/**
 * `measure` for several rows at once, their samples taken in turns (a, b, c, a, b, c, ...) so that
 * every row sees the same stretches of a noisy machine. A failing row is marked failed and gets no
 * more samples; the others go on. Rows are added to the report in the order given.
 */
export async function measureAlternating(ctx: BenchContext, rows: SampledRow[], n: number): Promise<Row[]> {
  const state = rows.map((r) => ({ ...r, samples: [] as number[], stopped: false, failed: '' }));
  const one = rows.length === 1;
  // a single row's log lines need no id to say whose they are
  const tag = (id: string): string => (one ? '' : `${id} `);
  if (one) ctx.log(`${rows[0]?.spec.workload ?? ''} :: ${rows[0]?.spec.subject ?? ''}`);
  else {
    ctx.log(`${rows[0]?.spec.workload ?? ''} :: in turns, ${n} samples each:`);
    for (const r of rows) ctx.log(`  - ${r.spec.subject}`);
  }
  for (let i = 0; i < n; i++) {
    for (const r of state) {
      if (r.stopped) continue;
      const t0 = performance.now();
      try {
        r.samples.push(await r.sample(i));
      } catch (err) {
        r.failed = `failed: ${message(err)}`;
        r.stopped = true;
        ctx.log(`  ${tag(r.spec.id)}${r.failed}`);
        continue;
      }
      // full runs always take every sample; the n column shows when --quick took one
      const took = performance.now() - t0;
      if (ctx.opts.quick && i === 0 && n > 1 && took > QUICK_SLOW_SAMPLE_MS) {
        ctx.log(`  ${tag(r.spec.id)}one sample only in --quick (it took ${(took / 1000).toFixed(0)} s)`);
        r.stopped = true;
      }
    }
  }
  return state.map((r) => {
    if (!r.failed)
      ctx.log(`  ${tag(r.spec.id)}samples: ${r.samples.map((s) => s.toPrecision(4)).join(', ')}`);
    return ctx.report.add({ ...r.spec, samples: r.samples, ...(r.failed ? { unavailable: r.failed } : {}) });
  });
}

/** A row that cannot be measured in this run; says why. */
export function unavailableRow(ctx: BenchContext, spec: RowSpec, why: string): Row {
  ctx.log(`${spec.workload} :: ${spec.subject}: ${why}`);
  return ctx.report.add({ ...spec, samples: [], unavailable: why });
}

const WORDS: Record<string, string> = {
  mem: 'in-memory',
  memx: 'in-memory+getxattr',
  pt: 'passthrough',
  w: 'wandbfs',
  ls: 'ls -l',
  one: '1 reader',
  '128': '128 readers',
};

/** A compact label from a row id ('mem.ls.warm' → 'in-memory ls -l warm') for the "vs" column. */
export function shortName(id: string): string {
  return id
    .split('.')
    .map((w) => WORDS[w] ?? w)
    .join(' ');
}
