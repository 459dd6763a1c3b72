/** Wall-clock timing and the statistics the report uses (medians: the machine is shared and noisy). */

export type Timer = bigint;

export function startTimer(): Timer {
  return process.hrtime.bigint();
}

export function elapsedSec(t: Timer): number {
  return Number(process.hrtime.bigint() - t) / 1e9;
}

export async function timeIt<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t = startTimer();
  const value = await fn();
  return { seconds: elapsedSec(t), value };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const hi = s[mid] ?? Number.NaN;
  if (s.length % 2 === 1) return hi;
  const lo = s[mid - 1] ?? Number.NaN;
  return (lo + hi) / 2;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** decimal MB/s, as dd and curl report */
export function mbPerSec(bytes: number, seconds: number): number {
  return bytes / 1e6 / seconds;
}
