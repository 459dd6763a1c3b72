import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultCacheDir } from '../core/cache-dir.js';
import { isErrno } from '../core/errno-code.js';

/**
 * One record per running mount (foreground or daemon) so `wandbfs status`, `unmount` and `refresh`
 * can find its pid, cache dir, log and control socket. Records live in the default cache dir under
 * mounts/ whatever --cache-dir a mount uses; the pid file and log live in that mount's cache dir.
 */
export interface MountRecord {
  pid: number;
  mountPoint: string;
  cacheDir: string;
  pidFile: string;
  logFile: string | null;
  socket: string;
  startedAt: string;
  version: string;
  baseUrl?: string;
  /** 'env' or 'netrc:<path>': where the API key came from, never the key */
  apiKeySource?: string;
}

export function registryDir(): string {
  return join(defaultCacheDir(), 'mounts');
}

export function slugFor(mountPoint: string): string {
  return createHash('sha1').update(resolve(mountPoint)).digest('hex').slice(0, 12);
}

export interface MountFiles {
  pidFile: string;
  logFile: string;
  socket: string;
}

export function mountFiles(cacheDir: string, mountPoint: string): MountFiles {
  const slug = slugFor(mountPoint);
  const runDir = join(cacheDir, 'run');
  let socket = join(runDir, `mount-${slug}.sock`);
  // Unix socket paths are limited to 108 bytes.
  if (Buffer.byteLength(socket) > 100)
    socket = join(tmpdir(), `wandbfs-${process.getuid?.() ?? 0}-${slug}.sock`);
  return {
    pidFile: join(runDir, `mount-${slug}.pid`),
    logFile: join(cacheDir, 'logs', `mount-${slug}.log`),
    socket,
  };
}

export async function writeRecord(rec: MountRecord): Promise<void> {
  const dir = registryDir();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${slugFor(rec.mountPoint)}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(rec, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
  await mkdir(join(rec.pidFile, '..'), { recursive: true, mode: 0o700 });
  await writeFile(rec.pidFile, `${rec.pid}\n`, { mode: 0o600 });
}

/** Removes the record and pid file, but only if they still belong to `pid`. */
export async function removeRecord(mountPoint: string, pid: number): Promise<void> {
  const rec = await readRecord(mountPoint);
  if (!rec || rec.pid !== pid) return;
  await rm(join(registryDir(), `${slugFor(mountPoint)}.json`), { force: true });
  await rm(rec.pidFile, { force: true });
}

export async function readRecord(mountPoint: string): Promise<MountRecord | null> {
  try {
    return parseRecord(await readFile(join(registryDir(), `${slugFor(mountPoint)}.json`), 'utf8'));
  } catch {
    return null;
  }
}

export async function readRecords(): Promise<MountRecord[]> {
  let names: string[];
  try {
    names = await readdir(registryDir());
  } catch {
    return [];
  }
  const out: MountRecord[] = [];
  for (const n of names.filter((x) => x.endsWith('.json'))) {
    try {
      const rec = parseRecord(await readFile(join(registryDir(), n), 'utf8'));
      if (rec) out.push(rec);
    } catch {
      // unreadable record: ignore, status reports what it can
    }
  }
  return out;
}

function parseRecord(text: string): MountRecord | null {
  const v = JSON.parse(text) as Partial<MountRecord>;
  if (typeof v.pid !== 'number' || typeof v.mountPoint !== 'string' || typeof v.cacheDir !== 'string')
    return null;
  return v as MountRecord;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}
