/** Mount bookkeeping through /proc/self/mountinfo, and unmounting that never leaves a stale mount. */
import { readFile } from 'node:fs/promises';
import { run } from './proc.js';
import { sleep } from './timing.js';

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

export async function listMounts(): Promise<MountEntry[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = left.split(' ')[4];
    const [fsType, source] = right.split(' ');
    if (mountPoint && fsType)
      out.push({ mountPoint: unescapeMountPath(mountPoint), fsType, source: source ?? '' });
  }
  return out;
}

export async function findMount(path: string): Promise<MountEntry | undefined> {
  return (await listMounts()).find((m) => m.mountPoint === path);
}

export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return (await listMounts()).map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(prefix));
}

/**
 * Polls until `path` is a FUSE mount. `alive` lets the caller stop early when the daemon has died,
 * `describe` supplies its output for the error.
 */
export async function waitForFuseMount(
  path: string,
  timeoutMs: number,
  alive: () => boolean,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await findMount(path);
    if (m && m.fsType.startsWith('fuse')) return;
    if (!alive())
      throw new Error(`mount process exited before ${path} was mounted: ${describe().trim().slice(-600)}`);
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${path} to be mounted`);
    await sleep(10);
  }
}

/**
 * Unmounts `path` if mounted: a polite `fusermount -u` first (retried while busy, e.g. a reader is
 * still draining), then a lazy `-uz`, which always detaches.
 */
export async function unmountFuse(path: string, politeMs = 3000): Promise<void> {
  const deadline = Date.now() + politeMs;
  while (await findMount(path)) {
    const r = await run('fusermount', ['-u', path]);
    if (r.code === 0) break;
    if (Date.now() > deadline) {
      await run('fusermount', ['-uz', path]);
      break;
    }
    await sleep(100);
  }
}
