import { randomUUID } from 'node:crypto';
import { statfs, unlink } from 'node:fs/promises';
import { systemClock, type Clock } from '../core/clock.js';
import { defaultSdkCacheDir } from '../core/cache-dir.js';
import type { Db } from '../core/db.js';
import { digestKey, parseDigestKey } from '../core/digest.js';
import { errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { FillBackend, type ReadBackend } from './backends.js';
import { BlobIndex } from './blob-index.js';
import { CacheClosedError, IntegrityError } from './errors.js';
import { planEviction } from './evict-policy.js';
import type { FillJob } from './fill-job.js';
import { inlineReads, inlineWrites } from './inline-io.js';
import { cleanupLeftovers } from './leftovers.js';
import { blobPath } from './path.js';
import { ReadSources } from './read-sources.js';
import { StoreReader, type SwitchReason } from './store-reader.js';
import type { BlobCache, BlobCacheCounters, BlobOpenRequest, BlobReader, FillProgress } from './types.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/**
 * Defaults. Chunk size and stream count are provisional: bench/blob-fill.ts on a loaded 2-core box
 * (50 ms latency, 32 MiB/s per connection) gave 8 MiB x 4 ≈ 105 MiB/s, x 8 ≈ 180 MiB/s, 16 MiB x 8
 * ≈ 215 MiB/s; re-measure against real W&B storage before settling.
 */
export const BLOB_CACHE_DEFAULTS = {
  chunkBytes: 8 * MiB,
  streams: 8,
  /** how far a fill may run ahead of a sequential reader before it waits for it (see FillJob) */
  readAheadBytes: 128 * MiB,
  writeBatchBytes: 1 * MiB,
  /**
   * a random reader's miss on a cold blob fetches this much around it at once (see UrgentRanges).
   * Cold fio 4 KiB psync on 5 GiB, 20 s, by hand: 4 KiB 2332 IOPS, 16 KiB 2101, 64 KiB 1103-1572,
   * 256 KiB ~470 (the bytes cost CPU on both ends while the reader waits); 16 KiB still serves a
   * few neighbouring small reads. Larger reads get a range of their own size.
   */
  urgentRangeBytes: 16 * 1024,
  maxCacheBytes: 50 * GiB,
  minFreeBytes: 5 * GiB,
  stallTimeoutMs: 60_000,
  maxChunkRetries: 2,
  streamWindowBytes: 4 * MiB,
  verifyBeforeServeBytes: 16 * MiB,
  accessFlushMs: 30_000,
} as const;

export interface BlobCacheOptions {
  /** The cache dir (blobs/, partial/, tmp/ live under it; the db is usually <dir>/wandbfs.db). */
  dir: string;
  /** Opened with openDb() including migration 002_blobs; owned by the caller (not closed by us). */
  db: Db;
  log?: Logger;
  clock?: Clock;
  chunkBytes?: number;
  streams?: number;
  readAheadBytes?: number;
  writeBatchBytes?: number;
  /** Size of the small range fetched directly for a random read's miss; 0 = wait for whole chunks. */
  urgentRangeBytes?: number;
  maxCacheBytes?: number;
  minFreeBytes?: number;
  stallTimeoutMs?: number;
  maxChunkRetries?: number;
  /**
   * Blobs up to this size are answered only once verified. Larger blobs are answered as soon as the
   * bytes are on disk, before the digest can be checked (a mismatch then fails later reads with EIO).
   */
  verifyBeforeServeBytes?: number;
  /** Window of the uncached streaming path (blob larger than the cache, disk full). */
  streamWindowBytes?: number;
  /** How often recorded access times and counters are written to the db. */
  accessFlushMs?: number;
  /** W&B SDK cache root to reuse blobs from; undefined = $WANDB_CACHE_DIR or ${XDG_CACHE_HOME:-~/.cache}/wandb; null = off. */
  sdkCacheDir?: string | null;
  /** Clean leftovers and reconcile the index in the background after start (default true). */
  backgroundCleanup?: boolean;
  /** Free bytes on the cache file system (tests inject a full disk). */
  freeBytes?: (dir: string) => Promise<number>;
}

export interface BlobStoreCounters extends BlobCacheCounters {
  /** Blobs taken from the W&B SDK cache instead of downloading. */
  sdkReuses: number;
  /** Opens served by streaming without caching (too big, disk full, another process's fill stalled). */
  streamOpens: number;
  /** Opens that read through another process's fill of the same blob (two mounts, one cache dir). */
  followOpens: number;
  evictions: number;
}

/** BlobCache plus what the CLI, tests and status.json need. */
export interface BlobStore extends BlobCache {
  counters(): BlobStoreCounters;
  /** Resolves when the start-up cleanup has finished (tests; never needed for correctness). */
  idle(): Promise<void>;
}

export function createBlobCache(options: BlobCacheOptions): BlobStore {
  return new Store(options);
}

type Counter = keyof BlobStoreCounters;

class Store implements BlobStore {
  private readonly o: Required<Omit<BlobCacheOptions, 'sdkCacheDir' | 'log' | 'clock' | 'freeBytes'>> & {
    sdkCacheDir: string | null;
    freeBytes: (dir: string) => Promise<number>;
  };
  private readonly log: Logger;
  private readonly clock: Clock;
  readonly index: BlobIndex;
  readonly token = `${process.pid}-${randomUUID()}`;
  private readonly sources: ReadSources;
  private readonly jobs = new Map<string, FillJob>();
  private readonly opening = new Map<string, Promise<ReadBackend>>();
  private readonly pins = new Map<string, number>();
  private readonly accessed = new Map<string, number>();
  private readonly total: BlobStoreCounters = zeroCounters();
  private readonly unflushed: BlobStoreCounters = zeroCounters();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly cleanup: Promise<void>;
  private closed = false;
  private readonly unsubscribeSlowIo: (() => void)[];

  constructor(opts: BlobCacheOptions) {
    this.log = (opts.log ?? silentLogger).child('blobs');
    const slow = (what: string) => (tookMs: number) =>
      this.log.info(
        `cache disk slow: ${what} took ${Math.round(tookMs)} ms; going through the thread pool for a while`,
      );
    this.unsubscribeSlowIo = [
      inlineReads.onSlow(slow('a read of a cached blob')),
      inlineWrites.onSlow(slow('a write to a download')),
    ];
    this.clock = opts.clock ?? systemClock;
    this.o = {
      dir: opts.dir,
      db: opts.db,
      chunkBytes: opts.chunkBytes ?? BLOB_CACHE_DEFAULTS.chunkBytes,
      streams: opts.streams ?? BLOB_CACHE_DEFAULTS.streams,
      readAheadBytes: opts.readAheadBytes ?? BLOB_CACHE_DEFAULTS.readAheadBytes,
      writeBatchBytes: opts.writeBatchBytes ?? BLOB_CACHE_DEFAULTS.writeBatchBytes,
      urgentRangeBytes: opts.urgentRangeBytes ?? BLOB_CACHE_DEFAULTS.urgentRangeBytes,
      maxCacheBytes: opts.maxCacheBytes ?? BLOB_CACHE_DEFAULTS.maxCacheBytes,
      minFreeBytes: opts.minFreeBytes ?? BLOB_CACHE_DEFAULTS.minFreeBytes,
      stallTimeoutMs: opts.stallTimeoutMs ?? BLOB_CACHE_DEFAULTS.stallTimeoutMs,
      maxChunkRetries: opts.maxChunkRetries ?? BLOB_CACHE_DEFAULTS.maxChunkRetries,
      streamWindowBytes: opts.streamWindowBytes ?? BLOB_CACHE_DEFAULTS.streamWindowBytes,
      verifyBeforeServeBytes: opts.verifyBeforeServeBytes ?? BLOB_CACHE_DEFAULTS.verifyBeforeServeBytes,
      accessFlushMs: opts.accessFlushMs ?? BLOB_CACHE_DEFAULTS.accessFlushMs,
      sdkCacheDir: opts.sdkCacheDir === undefined ? defaultSdkCacheDir() : opts.sdkCacheDir,
      backgroundCleanup: opts.backgroundCleanup ?? true,
      freeBytes: opts.freeBytes ?? freeBytesOf,
    };
    if (!(this.o.chunkBytes > 0) || !(this.o.streams > 0) || !(this.o.writeBatchBytes > 0)) {
      throw new RangeError('chunkBytes, streams and writeBatchBytes must be positive');
    }
    this.index = new BlobIndex(opts.db);
    this.sources = new ReadSources(this.o, {
      index: this.index,
      log: this.log,
      clock: this.clock,
      token: this.token,
      bump: (name, n) => this.bump(name, n),
      reserveSpace: (key, size) => this.reserveSpace(key, size),
      adopt: (job) => this.jobs.set(job.key, job),
      jobSettled: (job, err) => this.onJobSettled(job, err),
    });
    this.flushTimer = setInterval(() => this.flush(), this.o.accessFlushMs);
    this.flushTimer.unref();
    this.cleanup = this.o.backgroundCleanup
      ? new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
          cleanupLeftovers({
            dir: this.o.dir,
            index: this.index,
            log: this.log,
            activeKeys: () => this.jobs.keys(),
          }).then(() => undefined),
        )
      : Promise.resolve();
    this.cleanup.catch((err: unknown) => this.log.warn('cache cleanup failed', { error: errorMessage(err) }));
  }

  async open(req: BlobOpenRequest): Promise<BlobReader> {
    if (this.closed) throw new CacheClosedError();
    if (!Number.isSafeInteger(req.sizeBytes) || req.sizeBytes < 0) throw new RangeError('invalid sizeBytes');
    const key = digestKey(req.digest);
    const backend = await this.backendFor(req, true);
    this.pin(key);
    this.accessed.set(key, this.clock.nowMs());
    return new StoreReader(req.sizeBytes, backend, {
      replacement: (why) => this.replacement(req, key, why),
      closed: () => this.releasePin(key),
      nowMs: () => this.clock.nowMs(),
    });
  }

  inFlight(): FillProgress[] {
    return [...this.jobs.values()].map((j) => j.progress());
  }

  counters(): BlobStoreCounters {
    return { ...this.total };
  }

  idle(): Promise<void> {
    return this.cleanup.catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unsubscribeSlowIo) off();
    clearInterval(this.flushTimer);
    await Promise.allSettled([...this.jobs.values()].map((j) => j.cancel()));
    await this.idle();
    for (const key of this.pins.keys()) this.index.unpin(key);
    this.pins.clear();
    this.flush();
  }

  /**
   * Where a reader gets its bytes: the running fill of this digest, else the first source that
   * accepts (ReadSources). Misses for one digest are serialised so exactly one fill starts.
   */
  private async backendFor(req: BlobOpenRequest, count: boolean): Promise<ReadBackend> {
    const key = digestKey(req.digest);
    for (;;) {
      if (this.closed) throw new CacheClosedError();
      const pending = this.opening.get(key);
      if (pending) {
        await pending.catch(() => undefined);
        continue;
      }
      const job = this.jobs.get(key);
      if (job && (job.state === 'running' || job.state === 'verifying')) {
        if (count) this.bump('misses');
        job.acquire();
        return new FillBackend(job);
      }
      const p = this.sources.resolve(req, count);
      this.opening.set(key, p);
      try {
        return await p;
      } finally {
        if (this.opening.get(key) === p) this.opening.delete(key);
      }
    }
  }

  /** What a reader of `req` switches to when its backend has ended or been outgrown. */
  private replacement(req: BlobOpenRequest, key: string, why: SwitchReason): Promise<ReadBackend | null> {
    switch (why) {
      case 'committed':
        return this.sources.openWarm(req);
      case 'reopen':
        return this.backendFor(req, false);
      case 'disk-full':
        // One line per reader that falls back to streaming because its fill hit a full disk.
        this.log.warn('the cache disk is full; streaming this file uncached', {
          blob: key,
          size: req.sizeBytes,
        });
        return Promise.resolve(this.sources.stream(req, false));
      case 'follow-stalled':
        this.log.warn("another process's download of this blob made no progress; streaming it here", {
          blob: key,
          stallTimeoutMs: this.o.stallTimeoutMs,
        });
        return Promise.resolve(this.sources.stream(req, true));
    }
  }

  private releasePin(key: string): void {
    const n = this.pins.get(key) ?? 0;
    if (n <= 0) return;
    this.accessed.set(key, this.clock.nowMs());
    if (n > 1) {
      this.pins.set(key, n - 1);
      return;
    }
    this.pins.delete(key);
    if (!this.closed) this.index.unpin(key);
  }

  private onJobSettled(job: FillJob, err: Error | null): void {
    if (this.jobs.get(job.key) === job) this.jobs.delete(job.key);
    if (err instanceof IntegrityError) this.bump('integrityFailures');
  }

  /**
   * Makes room for `sizeBytes` before a fill starts: least recently used blobs that are neither open
   * nor pinned by the user (`wandbfs cache pin`) go until both maxCacheBytes and minFreeBytes hold.
   * False when pins or a small disk make that impossible.
   */
  private async reserveSpace(key: string, sizeBytes: number): Promise<boolean> {
    const resumed = this.index.getPartial(key)?.sizeBytes ?? 0;
    const used = this.index.usedBytes() - resumed;
    const free = (await this.o.freeBytes(this.o.dir)) - this.index.unwrittenPartialBytes(key);
    const need = Math.max(
      0,
      used + sizeBytes - this.o.maxCacheBytes,
      this.o.minFreeBytes - (free - sizeBytes),
    );
    if (need === 0) return true;
    const pinned = this.index.protectedKeys();
    const plan = planEviction(
      this.index.listBlobs().map((b) => ({ ...b, pinned: pinned.has(b.key) || this.pins.has(b.key) })),
      { needBytes: need },
    );
    let freed = 0;
    for (const c of plan.evict) {
      if (!this.index.deleteIfEvictable(c.key)) continue;
      const d = parseDigestKey(c.key);
      if (d) await unlink(blobPath(this.o.dir, d)).catch(() => undefined);
      freed += c.sizeBytes;
      this.bump('evictions');
    }
    if (plan.evict.length > 0)
      this.log.info('evicted blobs to make room', { count: plan.evict.length, bytes: freed });
    return freed >= need;
  }

  /** In-process refcount; the db holds one pin row per process, written on 0→1 and 1→0 only. */
  private pin(key: string): void {
    const n = this.pins.get(key) ?? 0;
    this.pins.set(key, n + 1);
    if (n === 0) this.index.pin(key);
  }

  private bump(name: Counter, n = 1): void {
    this.total[name] += n;
    this.unflushed[name] += n;
  }

  /** Writes batched access times and counter deltas; cheap, called on a timer and at close. */
  private flush(): void {
    try {
      const accessed = new Map(this.accessed);
      this.accessed.clear();
      this.index.touch(accessed);
      const deltas: Record<string, number> = { ...this.unflushed };
      Object.assign(this.unflushed, zeroCounters());
      this.index.addCounters(deltas);
    } catch (err) {
      this.log.warn('could not record blob access times', { error: errorMessage(err) });
    }
  }
}

function zeroCounters(): BlobStoreCounters {
  return {
    hits: 0,
    misses: 0,
    bytesDownloaded: 0,
    integrityFailures: 0,
    sdkReuses: 0,
    streamOpens: 0,
    followOpens: 0,
    evictions: 0,
  };
}

async function freeBytesOf(dir: string): Promise<number> {
  const s = await statfs(dir).catch(() => null);
  return s ? s.bavail * s.bsize : Number.MAX_SAFE_INTEGER;
}
