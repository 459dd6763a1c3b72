import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readRecord } from '../admin/registry.js';
import { WandbfsError } from '../core/errors.js';
import { locate } from './refresh.js';
import { NotMountedError } from './errors.js';

/** The mount daemon a group of paths belongs to, and those paths inside the mount. */
export interface MountTarget {
  mountPoint: string;
  socket: string;
  inner: string[];
}

/**
 * Groups paths by the mount holding them. Paths are resolved through symlinks first (the kernel
 * asks the mount), so `.../artifacts/model/latest` warms the version the alias points at.
 */
export async function mountTargets(paths: readonly string[]): Promise<MountTarget[]> {
  const byMount = new Map<string, MountTarget>();
  for (const p of paths) {
    const real = await realpath(resolve(p)).catch(() => resolve(p));
    const { mountPoint, inner } = await locate(real);
    let t = byMount.get(mountPoint);
    if (!t) {
      const rec = await readRecord(mountPoint);
      if (!rec) throw new NotMountedError(`no running wandbfs owns ${mountPoint}`);
      t = { mountPoint, socket: rec.socket, inner: [] };
      byMount.set(mountPoint, t);
    }
    t.inner.push(inner);
  }
  return [...byMount.values()];
}

/** The mount daemon refused or failed a request; its own code travels as data, never matched on. */
export class DaemonRequestError extends WandbfsError {
  constructor(
    message: string,
    readonly daemonCode: string | undefined,
    hint: string | undefined,
  ) {
    super('ERR_DAEMON_FAILED', message, hint === undefined ? {} : { hint });
  }
}

/** A failed reply of the daemon as a typed error, keeping its hint. */
export function daemonError(
  what: string,
  reply: { error: string; code?: string; hint?: string },
): WandbfsError {
  return new DaemonRequestError(`${what}: ${reply.error}`, reply.code, reply.hint);
}
