/**
 * Whether a blob's disk I/O runs on the calling (FUSE) thread or in libuv's pool.
 *
 * Inline, a write of a just-downloaded batch or a read of a cached blob is a copy between the page
 * cache and memory. Handed to the pool, the same copy costs a hop to another thread and back per
 * request. Measured (issue 15): the fill's writes inline spent ~8% less daemon CPU and read ~10%
 * faster; a remounted 1 GiB blob read inline streamed ~10% faster than through 1 MiB windows loaded
 * in the pool, at or above the bench's pool-reading passthrough.
 *
 * But a call can block: the kernel throttles writers when the machine has too much dirty data, a
 * read of a blob the page cache no longer holds waits for the disk, and a cache on a network file
 * system answers slowly. So one call slower than its policy's `slowMs` sends every such call to the
 * pool for `asyncForMs`: one slow call may hold the event loop, not a stream of them. Process-wide,
 * because disk pressure is.
 */
export interface InlineLimits {
  /** larger calls always go to the pool */
  maxBytes: number;
  /** an inline call slower than this sends calls to the pool */
  slowMs: number;
  /** ...for this long */
  asyncForMs: number;
}

export const INLINE_WRITE_MAX_BYTES = 1024 * 1024;
export const SLOW_WRITE_MS = 20;
export const ASYNC_FOR_MS = 30_000;
/**
 * A 128 KiB read from the page cache takes tens of microseconds, one from an SSD a fraction of a
 * millisecond; 5 ms is a disk that seeks or a network file system.
 */
export const SLOW_READ_MS = 5;

export const WRITE_LIMITS: InlineLimits = {
  maxBytes: INLINE_WRITE_MAX_BYTES,
  slowMs: SLOW_WRITE_MS,
  asyncForMs: ASYNC_FOR_MS,
};
/** FUSE reads are at most 128 KiB (libfuse 2); a larger one is not a FUSE read. */
export const READ_LIMITS: InlineLimits = {
  maxBytes: 128 * 1024,
  slowMs: SLOW_READ_MS,
  asyncForMs: ASYNC_FOR_MS,
};

export class InlineIo {
  private asyncUntilMs = 0;
  private readonly listeners = new Set<(tookMs: number) => void>();

  constructor(readonly limits: InlineLimits) {}

  /**
   * `fn` hears of each slow call, i.e. each switch to the pool (none follows for asyncForMs, so at
   * most one per that long): a slow cache disk should say so in the log. Returns the unsubscribe.
   */
  onSlow(fn: (tookMs: number) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** May a call of `bytes` run on this thread now? */
  allowed(bytes: number, nowMs: number): boolean {
    return bytes <= this.limits.maxBytes && nowMs >= this.asyncUntilMs;
  }

  /** An inline call took `tookMs`: a slow one sends calls to the pool for a while. */
  took(tookMs: number, nowMs: number): void {
    if (tookMs <= this.limits.slowMs) return;
    this.asyncUntilMs = nowMs + this.limits.asyncForMs;
    for (const fn of this.listeners) fn(tookMs);
  }
}

/** The process's policy for the fills' positional writes (see the module comment). */
export const inlineWrites = new InlineIo(WRITE_LIMITS);
/** The process's policy for reads of complete blobs. */
export const inlineReads = new InlineIo(READ_LIMITS);
