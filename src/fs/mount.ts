import { execFile } from 'node:child_process';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../core/log.js';
import { errorMessage } from '../core/errors.js';
import type { FsCore } from './core.js';
import { MountError } from './errors.js';
import { defaultMountOptions, WandbFuse, type MountOptions } from './fuse.js';
import { makeHandlers } from './handlers.js';
import { findMount } from '../admin/mountinfo.js';
import { errnoCode, isErrno } from '../core/errno-code.js';

const execFileP = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** errno codes a dead FUSE daemon's mount answers with. */
const STALE_CODES = new Set(['ENOTCONN', 'ECONNABORTED', 'EIO', 'ENXIO']);

export interface MountTimeouts {
  /** A read waiting longer than this (a stalled download) fails with EIO. */
  readMs: number;
  /**
   * Every other operation (a first listing may page through W&B with retries). Kept below
   * fuse-native's 120 s backstop so we answer EIO before it answers ETIMEDOUT.
   */
  otherMs: number;
  /** How long SIGTERM waits for open files to close before detaching lazily. */
  drainMs: number;
  /** How often to check that nobody unmounted us from outside. */
  pollMs: number;
}

export const defaultTimeouts: MountTimeouts = {
  readMs: 120_000,
  otherMs: 90_000,
  drainMs: 5_000,
  pollMs: 2_000,
};

export interface MountRequest {
  mountPoint: string;
  core: FsCore;
  log: Logger;
  /** Create a missing mount point instead of failing. */
  mkdir?: boolean;
  options?: Partial<MountOptions>;
  timeouts?: Partial<MountTimeouts>;
}

export interface MountedFs {
  readonly mountPoint: string;
  readonly fuse: WandbFuse;
  /** Drains (non-lazy unmount retried while EBUSY), then detaches lazily. Idempotent. */
  unmount(options?: { drainMs?: number }): Promise<void>;
  /** Resolves when the mount went away without unmount() (e.g. `fusermount -u` by someone else). */
  readonly externallyUnmounted: Promise<void>;
}

/** `fusermount -uz`: detaches even when busy. Returns whether a mount was there. */
export async function lazyUnmount(dir: string): Promise<boolean> {
  if (!(await findMount(dir))) return false;
  await execFileP('fusermount', ['-uz', dir]);
  return true;
}

/**
 * Makes `dir` ready to mount on: clears a stale mount left by a crashed daemon, refuses a healthy
 * one, and insists on an existing empty directory (libfuse2 only says "fuse failed" otherwise).
 */
export async function prepareMountPoint(dir: string, log: Logger, mkdirMissing = false): Promise<void> {
  const existing = await findMount(dir);
  if (existing) {
    let staleCode: string | undefined;
    try {
      await stat(dir);
    } catch (err) {
      staleCode = errnoCode(err);
      if (!staleCode || !STALE_CODES.has(staleCode)) throw err;
    }
    if (staleCode === undefined) {
      throw new MountError(
        `${dir} is already a mount point (${existing.fsType} from ${existing.source})`,
        existing.fsType.startsWith('fuse')
          ? `unmount it first: wandbfs unmount ${dir}`
          : 'choose an empty directory that is not a mount point',
      );
    }
    log.warn('clearing stale mount left by a previous wandbfs', { mountPoint: dir, errno: staleCode });
    try {
      await execFileP('fusermount', ['-uz', dir]);
    } catch (err) {
      throw new MountError(
        `cannot clear the stale mount at ${dir}: ${errorMessage(err)}`,
        `run: fusermount -uz ${dir}`,
        err,
      );
    }
  }
  let st;
  try {
    st = await stat(dir);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
    if (!mkdirMissing) {
      throw new MountError(
        `mount point ${dir} does not exist`,
        `create it (mkdir -p ${dir}) or pass --mkdir`,
      );
    }
    await mkdir(dir, { recursive: true });
    st = await stat(dir);
  }
  if (!st.isDirectory())
    throw new MountError(`mount point ${dir} is not a directory`, 'choose an empty directory');
  const entries = await readdir(dir);
  if (entries.length > 0) {
    throw new MountError(
      `mount point ${dir} is not empty (${entries.length} entries)`,
      'choose an empty directory; wandbfs does not mount over existing files',
    );
  }
}

/** fuse.mount() as a promise, with a deadline: libfuse can hang on a broken /dev/fuse. */
function mountNative(fuse: WandbFuse, dir: string): Promise<void> {
  return new Promise<void>((res, rej) => {
    const timer = setTimeout(
      () => rej(new MountError(`mounting ${dir} timed out`, 'run `wandbfs doctor`')),
      20_000,
    );
    fuse.mount((err) => {
      clearTimeout(timer);
      if (err)
        rej(new MountError(`cannot mount ${dir}: ${err.message}`, 'run `wandbfs doctor` to check FUSE', err));
      else res();
    });
  });
}

export async function mountFs(req: MountRequest): Promise<MountedFs> {
  const dir = resolve(req.mountPoint);
  const log = req.log;
  const t = { ...defaultTimeouts, ...req.timeouts };
  await prepareMountPoint(dir, log, req.mkdir ?? false);

  const handlers = makeHandlers(req.core, {
    log: log.child('fuse'),
    stats: req.core.stats,
    deadlineMs: (op) => (op === 'read' ? t.readMs : t.otherMs),
    reported: new WeakSet(),
  });
  const fuse = new WandbFuse(dir, handlers, { ...defaultMountOptions, ...req.options });
  // fuse-native never frees per-thread buffers (fuse-native-notes.md §2): show the count in status.json.
  req.core.attachNativeStats(() => ({ nativeThreadBuffers: fuse._threads.size }));
  await mountNative(fuse, dir);
  log.info('mounted', { mountPoint: dir });

  let unmounting: Promise<void> | null = null;
  let onExternal: () => void = () => undefined;
  const externallyUnmounted = new Promise<void>((r) => (onExternal = r));
  const poll = setInterval(() => {
    void findMount(dir).then(
      (m) => {
        if (m || unmounting) return;
        clearInterval(poll);
        log.warn('mount disappeared (unmounted from outside)', { mountPoint: dir });
        req.core.drain();
        unmounting = releaseNative();
        void unmounting.then(onExternal, onExternal);
      },
      () => undefined,
    );
  }, t.pollMs);
  poll.unref();

  const releaseNative = () =>
    new Promise<void>((res) => {
      fuse.unmount((err) => {
        if (err) log.warn('fuse unmount reported an error', { mountPoint: dir, error: err.message });
        res();
      });
    }).then(() => req.core.closeAll());

  const unmount = async (options: { drainMs?: number } = {}): Promise<void> => {
    if (unmounting) return unmounting;
    clearInterval(poll);
    req.core.drain();
    unmounting = (async () => {
      const until = Date.now() + (options.drainMs ?? t.drainMs);
      // Non-lazy first so open files (a checkpoint being loaded) can finish; lazy once time is up.
      while (await findMount(dir)) {
        try {
          await execFileP('fusermount', ['-u', dir]);
          break;
        } catch (err) {
          if (Date.now() >= until) {
            log.warn('mount still busy, detaching lazily', { mountPoint: dir, error: errorMessage(err) });
            break;
          }
          await sleep(200);
        }
      }
      await releaseNative();
      log.info('unmounted', { mountPoint: dir });
    })();
    return unmounting;
  };

  return { mountPoint: dir, fuse, unmount, externallyUnmounted };
}
