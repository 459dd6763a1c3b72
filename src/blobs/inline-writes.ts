/**
 * Whether the fill's positional writes run on the calling (FUSE) thread or in libuv's pool.
 *
 * Inline, a write of a just-downloaded batch is a copy into the page cache. Handed to the pool, the
 * same copy ran on the other core, away from the bytes, at ~2 CPU-s per GiB across the pool threads
 * (perf of a cold 1 GiB read, issue 15); inline the daemon spent ~8% less CPU and read ~10% faster
 * (alternating fresh mounts). But a buffered write can block: the kernel throttles writers when the
 * machine has too much dirty data, and a cache on a network file system answers slowly. So a write
 * that took longer than SLOW_WRITE_MS sends every fill's writes back to the pool for ASYNC_FOR_MS:
 * one slow write may hold the event loop, not a stream of them. Process-wide, because disk pressure
 * is.
 */
export const INLINE_WRITE_MAX_BYTES = 1024 * 1024;
export const SLOW_WRITE_MS = 20;
export const ASYNC_FOR_MS = 30_000;

export class InlineWrites {
  private asyncUntilMs = 0;

  /** May a write of `bytes` run on this thread now? */
  allowed(bytes: number, nowMs: number): boolean {
    return bytes <= INLINE_WRITE_MAX_BYTES && nowMs >= this.asyncUntilMs;
  }

  /** An inline write took `tookMs`: a slow one sends writes to the pool for a while. */
  took(tookMs: number, nowMs: number): void {
    if (tookMs > SLOW_WRITE_MS) this.asyncUntilMs = nowMs + ASYNC_FOR_MS;
  }
}

/** The process's one policy (see the class comment). */
export const inlineWrites = new InlineWrites();
