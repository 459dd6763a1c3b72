import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { stderrFileFor } from '../core/log-file.js';
import { formatBytes } from '../core/units.js';
import { listWandbfsMounts } from '../admin/mountinfo.js';
import { isAlive, readRecords, type MountRecord } from '../admin/registry.js';
import type { DownloadInfo } from '../admin/warm-protocol.js';
import { out, runCommand } from './print.js';
import { isErrno } from '../core/errno-code.js';
import { collectDownloads, downloadLines } from './status-downloads.js';

interface Args {
  json: boolean;
  debug?: boolean;
}

export interface MountStatus {
  mountPoint: string;
  state: 'ok' | 'stale' | 'no-daemon' | 'not-mounted';
  pid: number | null;
  cacheDir: string | null;
  logFile: string | null;
  server: string | null;
  apiKeySource: string | null;
  live: Record<string, unknown> | null;
  /** downloads in progress with rate and ETA (null when the mount cannot be asked) */
  downloads: DownloadInfo[] | null;
}

/** status.json is read by a child `cat` with a timeout, so a wedged daemon cannot hang us. */
export function readLive(mountPoint: string): Promise<Record<string, unknown> | null> {
  return new Promise((resolve) => {
    execFile(
      'cat',
      [`${mountPoint}/.wandbfs/status.json`],
      { timeout: 3000, encoding: 'utf8' },
      (err, stdout) => {
        if (err) return resolve(null);
        try {
          resolve(JSON.parse(stdout) as Record<string, unknown>);
        } catch {
          resolve(null);
        }
      },
    );
  });
}

async function isStale(dir: string): Promise<boolean> {
  try {
    await stat(dir);
    return false;
  } catch (err) {
    return isErrno(err, 'ENOTCONN', 'ECONNABORTED', 'EIO');
  }
}

export async function collectStatus(): Promise<MountStatus[]> {
  const mounts = await listWandbfsMounts();
  const records = await readRecords();
  const byPoint = new Map<string, MountRecord>(records.map((r) => [r.mountPoint, r]));
  const result: MountStatus[] = [];
  for (const m of mounts) {
    const rec = byPoint.get(m.mountPoint);
    byPoint.delete(m.mountPoint);
    const alive = rec ? isAlive(rec.pid) : false;
    const stale = await isStale(m.mountPoint);
    result.push({
      mountPoint: m.mountPoint,
      state: stale ? 'stale' : alive ? 'ok' : 'no-daemon',
      pid: rec?.pid ?? null,
      cacheDir: rec?.cacheDir ?? null,
      logFile: rec?.logFile ?? null,
      server: rec?.baseUrl ?? null,
      apiKeySource: rec?.apiKeySource ?? null,
      live: stale ? null : await readLive(m.mountPoint),
      downloads: null,
    });
  }
  for (const rec of byPoint.values()) {
    if (!isAlive(rec.pid)) continue; // leftover record of a crashed daemon
    result.push({
      mountPoint: rec.mountPoint,
      state: 'not-mounted',
      pid: rec.pid,
      cacheDir: rec.cacheDir,
      logFile: rec.logFile,
      server: rec.baseUrl ?? null,
      apiKeySource: rec.apiKeySource ?? null,
      live: null,
      downloads: null,
    });
  }
  for (const r of result) {
    if (r.state === 'ok') r.downloads = await collectDownloads(socketOf(records, r.mountPoint), r.live);
  }
  return result;
}

const socketOf = (records: MountRecord[], mountPoint: string): string | null =>
  records.find((r) => r.mountPoint === mountPoint)?.socket ?? null;

/** `W&B: online since …` / `W&B: OFFLINE since … (reason)` from status.json's connectivity block. */
export function connectivityLine(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const c = value as { state?: unknown; since?: unknown; reason?: unknown };
  if (c.state === 'online') return `  W&B: online since ${String(c.since)}`;
  if (c.state !== 'offline') return null;
  const why = typeof c.reason === 'string' ? ` (${c.reason})` : '';
  return `  W&B: OFFLINE since ${String(c.since)}${why}; serving cached data, reconnecting in the background`;
}

export const statusCommand: CommandModule<object, Args> = {
  command: 'status',
  describe: 'List wandbfs mounts with their pids, cache dirs, logs and live state',
  builder: (y: Argv) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
      .example('$0 status', 'show every wandbfs mount')
      .example('$0 status --json | jq', 'the same as JSON') as unknown as Argv<Args>,
  handler: (argv: ArgumentsCamelCase<Args>) =>
    runCommand(argv.debug, async () => {
      const all = await collectStatus();
      if (argv.json) return out(JSON.stringify(all, null, 2));
      if (all.length === 0) return out('no wandbfs mounts');
      for (const s of all) {
        out(`${s.mountPoint}  [${s.state}]`);
        out(`  pid: ${s.pid ?? '-'}   cache: ${s.cacheDir ?? '-'}`);
        if (s.server) out(`  server: ${s.server}   key from: ${s.apiKeySource ?? '-'}`);
        if (s.logFile) out(`  log: ${s.logFile}   crash output: ${stderrFileFor(s.logFile)}`);
        const live = s.live;
        if (live) {
          const line = connectivityLine(live.connectivity);
          if (line) out(line);
          const cache = live.cache as
            { hits?: number; misses?: number; bytesDownloaded?: number } | undefined;
          out(
            `  open files: ${String(live.openFiles)}   downloads: ${String(live.downloadsInFlight)}   cache hits/misses: ${cache?.hits ?? 0}/${cache?.misses ?? 0}   downloaded: ${formatBytes(cache?.bytesDownloaded ?? 0)}`,
          );
        }
        for (const line of downloadLines(s.downloads ?? [])) out(line);
        if (s.state === 'stale') out(`  fix: wandbfs unmount ${s.mountPoint}   (the daemon is gone)`);
        if (s.state === 'no-daemon')
          out('  note: mounted, but no wandbfs record for it (started by another user or version?)');
      }
    }),
};
