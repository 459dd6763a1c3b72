/** CPU time of a live process (all its threads) and waiting for a wandbfs mount's fills to end. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from './timing.js';

/** USER_HZ: the unit of /proc/<pid>/stat's times; 100 on every Linux this bench runs on. */
const CLOCK_TICKS_PER_SEC = 100;

/**
 * utime + stime of the whole process (every thread: libfuse's, libuv's pool, workers, GC), in
 * seconds, from /proc/<pid>/stat. Fields are counted after the last ')' because the command name
 * may itself contain spaces or parentheses.
 */
export async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after "pid (comm) ", field 3 (state) is index 0, so utime (14) is 11 and stime (15) is 12
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot parse /proc/${pid}/stat`);
  return (utime + stime) / CLOCK_TICKS_PER_SEC;
}

/**
 * Resolves once the mount's status.json lists no download in flight, i.e. every fill was verified
 * (MD5) and committed or failed; throws after `timeoutMs` saying what it waited for.
 */
export async function waitForFillsDone(mnt: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      const doc = JSON.parse(await readFile(join(mnt, '.wandbfs', 'status.json'), 'utf8')) as {
        downloadsInFlight?: unknown;
      };
      if (doc.downloadsInFlight === 0) return;
      last = `downloadsInFlight ${String(doc.downloadsInFlight)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for the fill to be verified (${last})`);
    }
    await sleep(100);
  }
}
