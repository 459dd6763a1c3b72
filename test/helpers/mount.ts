import { execFile, type ExecFileOptions } from 'node:child_process';
import { mkdtemp, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger, type LogLevel } from '../../src/core/log.js';
import { FsCore } from '../../src/fs/core.js';
import { mountFs, type MountedFs, type MountTimeouts } from '../../src/fs/mount.js';
import { findMount } from '../../src/admin/mountinfo.js';
import type { MountOptions } from '../../src/fs/fuse.js';
import type { BlobCache, RangeSource } from '../../src/blobs/types.js';
import type { MetaTree } from '../../src/meta/types.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a real tool as a separate process (never a sync fs call into a mount served by this process:
 * that deadlocks the event loop which must answer it). Never throws; a timeout shows as code 124.
 */
export function run(
  cmd: string,
  args: string[],
  options: ExecFileOptions & { timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: options.timeoutMs ?? 20_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', ...options },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
        const code = !e ? 0 : e.killed ? 124 : typeof e.code === 'number' ? e.code : 1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export const sh = (script: string, timeoutMs?: number) =>
  run('sh', ['-c', script], timeoutMs ? { timeoutMs } : {});

/** A fresh directory under the temp dir whose path contains "wandbfs" (CI sweeps those). */
export function tempMountDir(label = 'mnt'): Promise<string> {
  return mkdtemp(join(tmpdir(), `wandbfs-${label}-`));
}

export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs = 10_000,
  stepMs = 50,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

export const waitForMount = (dir: string, timeoutMs?: number) =>
  waitFor(async () => (await findMount(dir)) !== null, timeoutMs);
export const waitForUnmount = (dir: string, timeoutMs?: number) =>
  waitFor(async () => (await findMount(dir)) === null, timeoutMs);

/** Last-resort cleanup for after/finally: detach whatever is mounted at dir, then remove the dir. */
export async function forceCleanup(dir: string): Promise<void> {
  for (let i = 0; i < 3 && (await findMount(dir)); i++) await run('fusermount', ['-uz', dir]);
  await rmdir(dir).catch(() => rm(dir, { recursive: true, force: true }).catch(() => undefined));
}

export interface TestMount {
  dir: string;
  core: FsCore;
  mounted: MountedFs;
  logLines: string[];
  cleanup(): Promise<void>;
}

export interface MountDoublesOptions {
  options?: Partial<MountOptions>;
  timeouts?: Partial<MountTimeouts>;
  logLevel?: LogLevel;
}

/** Mounts an FsCore over the given (test double) layers in this process; cleanup() always unmounts. */
export async function mountInProcess(
  meta: MetaTree,
  blobs: BlobCache,
  o: MountDoublesOptions = {},
): Promise<TestMount> {
  const dir = await tempMountDir();
  const logLines: string[] = [];
  const log: Logger = createLogger({
    level: o.logLevel ?? 'debug',
    sink: { write: (l) => void logLines.push(l) },
  });
  const source: RangeSource = {
    fetchRange: async () => undefined,
    describe: () => 'test source',
  };
  const core = new FsCore({
    meta,
    blobs,
    sourceFor: () => source,
    owner: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
    log,
    version: 'test',
    mountPoint: dir,
    statusExtra: () => ({ api: { rateLimited: 2 } }),
  });
  let mounted: MountedFs;
  try {
    mounted = await mountFs({
      mountPoint: dir,
      core,
      log,
      options: o.options ?? {},
      timeouts: o.timeouts ?? {},
    });
  } catch (err) {
    await forceCleanup(dir);
    throw err;
  }
  return {
    dir,
    core,
    mounted,
    logLines,
    cleanup: async () => {
      try {
        await mounted.unmount({ drainMs: 500 });
      } finally {
        await forceCleanup(dir);
      }
    },
  };
}
