import { randomUUID } from 'node:crypto';
import { open, statfs, unlink } from 'node:fs/promises';
import { systemClock, type Clock } from '../core/clock.js';
import { defaultSdkCacheDir } from '../core/cache-dir.js';
import type { Db } from '../core/db.js';
import { digestKey, parseDigestKey } from '../core/digest.js';
import { errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { FillBackend, StreamBackend, WarmBackend, type ReadBackend } from './backends.js';
import { BlobIndex, type ClaimResult } from './blob-index.js';
import { CacheClosedError, DiskFullError, IntegrityError } from './errors.js';
import { planEviction } from './evict-policy.js';
import { FillJob } from './fill-job.js';
import { FollowBackend, FollowEnded } from './follow-backend.js';
import { isErrno } from '../core/errno-code.js';
import { cleanupLeftovers } from './leftovers.js';
import { blobPath, partialPath } from './path.js';
import { importFromSdkCache } from './sdk-cache.js';
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
  private readonly token = `${process.pid}-${randomUUID()}`;
  private readonly jobs = new Map<string, FillJob>();
  private readonly opening = new Map<string, Promise<ReadBackend>>();
  private readonly pins = new Map<string, number>();
  private readonly accessed = new Map<string, number>();
  private readonly total: BlobStoreCounters = zeroCounters();
  private readonly unflushed: BlobStoreCounters = zeroCounters();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly cleanup: Promise<void>;
  private closed = false;

  constructor(opts: BlobCacheOptions) {
    this.log = (opts.log ?? silentLogger).child('blobs');
    this.clock = opts.clock ?? systemClock;
    this.o = {
      dir: opts.dir,
      db: opts.db,
      chunkBytes: opts.chunkBytes ?? BLOB_CACHE_DEFAULTS.chunkBytes,
      streams: opts.streams ?? BLOB_CACHE_DEFAULTS.streams,
      readAheadBytes: opts.readAheadBytes ?? BLOB_CACHE_DEFAULTS.readAheadBytes,
      writeBatchBytes: opts.writeBatchBytes ?? BLOB_CACHE_DEFAULTS.writeBatchBytes,
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
    return new StoreReader(this, req, key, backend);
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
    clearInterval(this.flushTimer);
    await Promise.allSettled([...this.jobs.values()].map((j) => j.cancel()));
    await this.idle();
    for (const key of this.pins.keys()) this.index.unpin(key);
    this.pins.clear();
    this.flush();
  }

  // --- used by StoreReader -------------------------------------------------------------------

  /**
   * Finds where a reader gets its bytes: the blob on disk, the running fill, a new fill, or the
   * uncached stream. Misses for one digest are serialised so exactly one fill starts.
   */
  async backendFor(req: BlobOpenRequest, count: boolean): Promise<ReadBackend> {
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
      const p = this.resolveBackend(req, count);
      this.opening.set(key, p);
      try {
        return await p;
      } finally {
        if (this.opening.get(key) === p) this.opening.delete(key);
      }
    }
  }

  /** The verified blob on disk, or null. Lazily reconciles the index with what is on disk. */
  async openWarm(req: BlobOpenRequest): Promise<WarmBackend | null> {
    const key = digestKey(req.digest);
    const path = blobPath(this.o.dir, req.digest);
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      if (this.index.get(key)) this.index.delete(key);
      return null;
    }
    const { size } = await fh.stat();
    if (size !== req.sizeBytes) {
      await fh.close();
      this.log.warn('cached blob has an unexpected size; fetching again', {
        blob: key,
        size,
        expected: req.sizeBytes,
      });
      if (this.index.deleteIfUnpinned(key) || !this.index.get(key)) await unlink(path).catch(() => undefined);
      return null;
    }
    if (!this.index.get(key)) this.index.putPresent(key, size, this.clock.nowMs());
    return new WarmBackend(fh);
  }

  streamBackend(req: BlobOpenRequest, promote: boolean): StreamBackend {
    this.bump('streamOpens');
    return new StreamBackend(
      req.source,
      req.sizeBytes,
      this.o.streamWindowBytes,
      this.o.stallTimeoutMs,
      (n) => this.bump('bytesDownloaded', n),
      promote ? this.clock.nowMs() + 1000 : null,
    );
  }

  releasePin(key: string): void {
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

  nowMs(): number {
    return this.clock.nowMs();
  }

  // --- internals -----------------------------------------------------------------------------

  private async resolveBackend(req: BlobOpenRequest, count: boolean): Promise<ReadBackend> {
    const key = digestKey(req.digest);
    const warm = await this.openWarm(req);
    if (warm) {
      if (count) this.bump('hits');
      return warm;
    }
    if (count) this.bump('misses');
    if (this.o.sdkCacheDir) {
      const taken = await importFromSdkCache({
        sdkCacheDir: this.o.sdkCacheDir,
        cacheDir: this.o.dir,
        digest: req.digest,
        sizeBytes: req.sizeBytes,
        log: this.log,
      });
      if (taken) {
        this.bump('sdkReuses');
        this.index.putPresent(key, req.sizeBytes, this.clock.nowMs());
        const w = await this.openWarm(req);
        if (w) return w;
      }
    }
    if (req.sizeBytes > this.o.maxCacheBytes) {
      this.log.info('file is larger than the cache limit; streaming it uncached', {
        blob: key,
        size: req.sizeBytes,
      });
      return this.streamBackend(req, false);
    }
    if (!(await this.reserveSpace(key, req.sizeBytes))) {
      this.log.warn('no room in the cache (limits or disk full); streaming uncached', {
        blob: key,
        size: req.sizeBytes,
      });
      return this.streamBackend(req, false);
    }
    const claim = this.index.claim(key, req.sizeBytes, this.o.chunkBytes, this.token, this.clock.nowMs());
    if (claim.kind === 'other') return this.follow(req, key, claim);
    let job: FillJob;
    try {
      job = await FillJob.start({
        key,
        digest: req.digest,
        sizeBytes: req.sizeBytes,
        chunkBytes: this.o.chunkBytes,
        streams: this.o.streams,
        // never fewer chunks than streams, or the window itself would idle workers
        readAheadChunks: Math.max(this.o.streams, Math.ceil(this.o.readAheadBytes / this.o.chunkBytes)),
        writeBatchBytes: this.o.writeBatchBytes,
        partialPath: partialPath(this.o.dir, req.digest),
        finalPath: blobPath(this.o.dir, req.digest),
        source: req.source(),
        index: this.index,
        token: this.token,
        doneChunks: claim.doneChunks,
        stallTimeoutMs: this.o.stallTimeoutMs,
        maxChunkRetries: this.o.maxChunkRetries,
        verifyBeforeServeBytes: this.o.verifyBeforeServeBytes,
        log: this.log,
        clock: this.clock,
        onBytesDownloaded: (n) => this.bump('bytesDownloaded', n),
        onSettled: (j, err) => this.onJobSettled(j, err),
      });
    } catch (err) {
      this.index.release(key, this.token);
      if (isErrno(err, 'ENOSPC', 'EDQUOT')) return this.streamBackend(req, false);
      throw err;
    }
    this.jobs.set(key, job);
    job.acquire();
    return new FillBackend(job);
  }

  private onJobSettled(job: FillJob, err: Error | null): void {
    if (this.jobs.get(job.key) === job) this.jobs.delete(job.key);
    if (err instanceof IntegrityError) this.bump('integrityFailures');
  }

  /** One line per reader that falls back to streaming because its fill hit a full disk. */
  reportDiskFull(key: string, sizeBytes: number): void {
    this.log.warn('the cache disk is full; streaming this file uncached', { blob: key, size: sizeBytes });
  }

  /** Reads through another process's fill of the same blob instead of downloading it again. */
  private follow(
    req: BlobOpenRequest,
    key: string,
    claim: Extract<ClaimResult, { kind: 'other' }>,
  ): ReadBackend {
    this.log.debug('another process is filling this blob; reading through its download', {
      blob: key,
      pid: claim.ownerPid,
    });
    this.bump('followOpens');
    return new FollowBackend({
      key,
      partialPath: partialPath(this.o.dir, req.digest),
      ownerToken: claim.ownerToken,
      chunkBytes: claim.chunkBytes,
      sizeBytes: req.sizeBytes,
      servePartial: req.sizeBytes > this.o.verifyBeforeServeBytes,
      stallTimeoutMs: this.o.stallTimeoutMs,
      index: this.index,
      clock: this.clock,
    });
  }

  /** A follower whose owner made no progress for the stall timeout streams on its own. */
  followStalled(req: BlobOpenRequest, key: string): ReadBackend {
    this.log.warn("another process's download of this blob made no progress; streaming it here", {
      blob: key,
      stallTimeoutMs: this.o.stallTimeoutMs,
    });
    return this.streamBackend(req, true);
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

/** The face of a blob that one open file sees; switches backend as the blob's state changes. */
class StoreReader implements BlobReader {
  readonly sizeBytes: number;
  private closed = false;
  private switching: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly req: BlobOpenRequest,
    private readonly key: string,
    private backend: ReadBackend,
  ) {
    this.sizeBytes = req.sizeBytes;
  }

  async read(buf: Buffer, length: number, position: number): Promise<number> {
    if (this.closed) throw new CacheClosedError();
    const len = Math.max(0, Math.min(length, buf.length, this.sizeBytes - position));
    if (len === 0 || position < 0) return 0;
    while (this.switching) await this.switching;
    await this.maybeSwitch();
    const backend = this.backend;
    try {
      return await backend.read(buf, len, position);
    } catch (err) {
      if (!(err instanceof FollowEnded || err instanceof DiskFullError)) throw err;
      // A concurrent read on this file may have switched already: then just read from the new backend.
      if (backend === this.backend) {
        if (err instanceof DiskFullError) {
          // The fill ran out of disk: this reader keeps working, uncached.
          this.store.reportDiskFull(this.key, this.sizeBytes);
          this.replace(this.store.streamBackend(this.req, false));
        } else {
          // The other process's fill ended or changed hands: the blob file, our own fill, or a stream.
          const next =
            err.reason === 'stalled'
              ? this.store.followStalled(this.req, this.key)
              : await this.store.backendFor(this.req, false);
          if (backend === this.backend) this.replace(next);
          else void next.close().catch(() => undefined);
        }
      }
      return this.read(buf, length, position);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.switching) await this.switching;
    await this.backend.close();
    this.store.releasePin(this.key);
  }

  /** A finished fill → read the blob file; a failed fill (not corrupt) → try again; stream → promote. */
  private async maybeSwitch(): Promise<void> {
    const b = this.backend;
    let next: Promise<ReadBackend | null> | null = null;
    if (b instanceof FillBackend) {
      if (b.job.state === 'done') next = this.store.openWarm(this.req);
      else if (b.job.state === 'failed' && !(b.job.error instanceof IntegrityError)) {
        next = this.store.backendFor(this.req, false);
      }
    } else if (
      b instanceof StreamBackend &&
      b.promoteAfterMs !== null &&
      this.store.nowMs() >= b.promoteAfterMs
    ) {
      b.promoteAfterMs = this.store.nowMs() + 1000;
      next = this.store.openWarm(this.req);
    }
    if (!next) return;
    const p = next.then((nb) => {
      if (nb) this.replace(nb);
    });
    this.switching = p.finally(() => (this.switching = null));
    await this.switching;
  }

  private replace(nb: ReadBackend): void {
    const old = this.backend;
    this.backend = nb;
    void old.close().catch(() => undefined);
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
