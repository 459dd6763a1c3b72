import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { sendControl, type ControlEvent } from '../admin/control.js';
import type { WarmProgress, WarmResult } from '../admin/warm-protocol.js';
import { ConfigError } from '../core/errors.js';
import { formatBytes } from '../core/units.js';
import { out, runCommand } from './print.js';
import { barLine, formatRate, plainLine, RateMeter } from './progress.js';
import { daemonError, mountTargets, type MountTarget } from './target.js';

interface Args {
  paths: string[];
  jobs: number;
  dryRun: boolean;
  pin: boolean;
  debug?: boolean;
}

/** Shows progress events: a bar redrawn on a terminal, one line per second otherwise (logs, CI). */
class ProgressView {
  private readonly meter = new RateMeter();
  private lastPrint = Date.now();
  private last: WarmProgress | null = null;
  private drawn = false;

  constructor(private readonly tty: boolean) {}

  onEvent(e: ControlEvent): void {
    if (e.event !== 'progress') return;
    const now = Date.now();
    this.meter.add(now, e.data.bytesDone);
    this.last = e.data;
    if (this.tty) this.draw();
    else if (now - this.lastPrint >= 1000) {
      this.lastPrint = now;
      process.stderr.write(plainLine(this.line(e.data)) + '\n');
    }
  }

  /** Leaves the terminal clean for the summary. */
  finish(): void {
    if (this.tty && this.drawn) process.stderr.write('\r\x1b[K');
  }

  private line(p: WarmProgress) {
    return { ...p, rate: this.meter.rate() };
  }

  private draw(): void {
    if (!this.last) return;
    this.drawn = true;
    process.stderr.write('\r' + barLine(this.line(this.last), process.stderr.columns || 80) + '\x1b[K');
  }
}

function printPlan(r: WarmResult, where: string): void {
  const p = r.plan;
  out(
    `${where}: ${p.files} file(s), ${formatBytes(p.bytes)}; already cached ${p.cachedFiles} file(s), ` +
      `${formatBytes(p.cachedBytes)}; would fetch ${p.files - p.cachedFiles} file(s), ` +
      `${formatBytes(p.bytes - p.cachedBytes - p.partialBytes)}` +
      (p.partialFiles > 0
        ? ` (${p.partialFiles} interrupted download(s) resume with ${formatBytes(p.partialBytes)} done)`
        : ''),
  );
  if (p.unreadable > 0) out(`  ${p.unreadable} entr(ies) cannot be fetched and are skipped`);
  if (r.refusal) out(`  would be refused: ${r.refusal}`);
}

function printResult(r: WarmResult, where: string): void {
  const secs = r.elapsedMs / 1000;
  const rate = secs > 0 ? formatRate(r.fetchedBytes / secs) : formatRate(null);
  out(
    `${where}: fetched ${r.fetchedFiles} file(s), ${formatBytes(r.fetchedBytes)} in ${secs.toFixed(1)} s (${rate}); ` +
      `${r.plan.cachedFiles} file(s), ${formatBytes(r.plan.cachedBytes)} were cached already` +
      (r.pinned > 0 ? `; pinned ${r.pinned} blob(s)` : ''),
  );
  if (r.plan.unreadable > 0) out(`  skipped ${r.plan.unreadable} entr(ies) that cannot be fetched`);
  for (const f of r.failures) out(`  failed: ${f.path}: ${f.error}`);
}

async function warmOne(t: MountTarget, a: Args): Promise<boolean> {
  const view = new ProgressView(process.stderr.isTTY === true);
  let reply;
  try {
    reply = await sendControl(
      t.socket,
      { op: 'warm', paths: t.inner, jobs: a.jobs, dryRun: a.dryRun, pin: a.pin },
      { idleTimeoutMs: 300_000, onEvent: (e) => view.onEvent(e) },
    );
  } finally {
    view.finish();
  }
  if (!reply.ok) throw daemonError(`warm in ${t.mountPoint} refused`, reply);
  const r = reply.result as WarmResult;
  const where =
    t.inner.length === 1 ? `${t.mountPoint}${t.inner[0] === '/' ? '' : t.inner[0]}` : t.mountPoint;
  if (a.dryRun) printPlan(r, where);
  else printResult(r, where);
  return r.failures.length === 0 && !(a.dryRun && r.refusal);
}

export const warmCommand: CommandModule<object, Args> = {
  command: 'warm <paths..>',
  describe: 'Download every file under the given paths of a mount into the cache, with progress',
  builder: (y: Argv) =>
    y
      .positional('paths', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'paths inside a mount',
      })
      .option('jobs', { alias: 'j', type: 'number', default: 4, describe: 'files downloaded in parallel' })
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'only show what would be fetched and what is cached already',
      })
      .option('pin', {
        type: 'boolean',
        default: false,
        describe: 'pin the files so `cache prune` and the size limit keep them (undo: cache unpin)',
      })
      .example('$0 warm ~/wandb/team/proj/artifacts/model/v3', 'fetch a version before going offline')
      .example('$0 warm --pin ~/wandb/team/proj/artifacts/model/latest', 'fetch and keep the latest version')
      .example(
        '$0 warm --dry-run ~/wandb/team/proj/runs/run-1/files',
        'how much would be downloaded',
      ) as unknown as Argv<Args>,
  handler: (a: ArgumentsCamelCase<Args>) =>
    runCommand(a.debug, async () => {
      if (!Number.isInteger(a.jobs) || a.jobs < 1 || a.jobs > 64)
        throw new ConfigError(`--jobs must be a whole number from 1 to 64, not ${a.jobs}`, 'e.g. --jobs 4');
      let ok = true;
      for (const t of await mountTargets(a.paths)) ok = (await warmOne(t, a)) && ok;
      return ok ? 0 : 1;
    }),
};
