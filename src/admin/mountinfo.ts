import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  /** FUSE mounts record their owner as user_id= in the super options. */
  userId: number | null;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const l = left.split(' ');
    const r = right.split(' ');
    const mp = l[4];
    if (mp === undefined) continue;
    const uid = /(?:^|,)user_id=(\d+)(?:,|$)/.exec(r[2] ?? '');
    out.push({
      mountPoint: unescape(mp),
      fsType: r[0] ?? '',
      source: unescape(r[1] ?? ''),
      userId: uid?.[1] ? Number(uid[1]) : null,
    });
  }
  return out;
}

/** Reads /proc/self/mountinfo (a procfs file: safe to read even while our own mount is wedged). */
export async function listMounts(file = '/proc/self/mountinfo'): Promise<MountEntry[]> {
  return parseMountinfo(await readFile(file, 'utf8'));
}

/** The last (top-most) mount at `dir`, if any. */
export async function findMount(dir: string): Promise<MountEntry | null> {
  const target = resolve(dir);
  const hits = (await listMounts()).filter((m) => m.mountPoint === target);
  return hits[hits.length - 1] ?? null;
}

/** wandbfs mounts owned by `uid` (default: this user). */
export async function listWandbfsMounts(
  uid: number | null = process.getuid?.() ?? null,
): Promise<MountEntry[]> {
  return (await listMounts()).filter(
    (m) =>
      (m.fsType === 'fuse.wandbfs' || m.source === 'wandbfs') &&
      (uid === null || m.userId === null || m.userId === uid),
  );
}
