/**
 * Starting and stopping a FUSE daemon (our bench filesystems, rclone, wandbfs) as a child process,
 * with its unmount registered on the cleanup stack so Ctrl+C or a crash never leaves a stale mount.
 */
import { readFile } from 'node:fs/promises';
import { onCleanup } from './cleanup.js';
import { unmountFuse, waitForFuseMount } from './mounts.js';
import { startDaemon, stopDaemon, type Daemon } from './proc.js';
import { elapsedSec, startTimer } from './timing.js';

export interface MountedDaemon {
  mnt: string;
  daemon: Daemon;
  pid: number;
  /** seconds from spawn until the mount showed up in /proc/self/mountinfo */
  startSeconds: number;
  /** unmount (polite, then lazy) and stop the process; idempotent */
  stop(): Promise<void>;
}

export async function mountDaemon(
  label: string,
  cmd: string,
  args: readonly string[],
  mnt: string,
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<MountedDaemon> {
  const t = startTimer();
  const daemon = startDaemon(cmd, args, opts.env);
  const stop = onCleanup(`${label} at ${mnt}`, async () => {
    await unmountFuse(mnt);
    await stopDaemon(daemon);
    // a daemon killed the hard way can leave the mount behind: detach lazily
    await unmountFuse(mnt, 0);
  });
  try {
    await waitForFuseMount(mnt, opts.timeoutMs ?? 30_000, () => !daemon.exited(), daemon.output);
  } catch (err) {
    await stop();
    throw err;
  }
  const pid = daemon.child.pid;
  if (pid === undefined) throw new Error(`${label}: no pid`);
  return { mnt, daemon, pid, startSeconds: elapsedSec(t), stop };
}

/** Peak resident set size (VmHWM) of a live process, in MiB. */
export async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  if (!m?.[1]) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}
