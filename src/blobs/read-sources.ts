import { open, unlink } from 'node:fs/promises';
import type { Clock } from '../core/clock.js';
import { digestKey } from '../core/digest.js';
import { isErrno } from '../core/errno-code.js';
import type { Logger } from '../core/log.js';
import { FillBackend, StreamBackend, WarmBackend, type ReadBackend } from './backends.js';
import type { BlobIndex, ClaimResult } from './blob-index.js';
import { FillJob } from './fill-job.js';
import { FollowBackend } from './follow-backend.js';
import { blobPath, partialPath } from './path.js';
import { exportToSdkCache, importFromSdkCache } from './sdk-cache.js';
import type { BlobOpenRequest } from './types.js';

/** The store options the sources read. */
export interface SourceOptions {
  dir: string;
  sdkCacheDir: string | null;
  maxCacheBytes: number;
  chunkBytes: number;
  streams: number;
  readAheadBytes: number;
  writeBatchBytes: number;
  urgentRangeBytes: number;
  stallTimeoutMs: number;
  maxChunkRetries: number;
  verifyBeforeServeBytes: number;
  streamWindowBytes: number;
}

export type SourceCounter =
  'hits' | 'misses' | 'bytesDownloaded' | 'sdkReuses' | 'streamOpens' | 'followOpens';

/** What the sources need from the store that owns them. */
export interface SourceHost {
  readonly index: BlobIndex;
  readonly log: Logger;
  readonly clock: Clock;
  readonly token: string;
  bump(name: SourceCounter, n?: number): void;
  /** Makes room for a fill of `sizeBytes` (eviction); false when impossible. */
  reserveSpace(key: string, sizeBytes: number): Promise<boolean>;
  /** A fill just started: the store shares it with every later reader of the digest. */
  adopt(job: FillJob): void;
  jobSettled(job: FillJob, err: Error | null): void;
}

/** One open's pass down the list: what the earlier sources found out, for the later ones. */
interface Attempt {
  req: BlobOpenRequest;
  key: string;
  /** Memoised: null when the blob cannot be cached (too big, no room), else who fills it. */
  claim: () => Promise<ClaimResult | null>;
}

interface Source {
  name: 'warm' | 'sdk-cache' | 'follow' | 'fill' | 'stream';
  /** A backend, or null to decline and let the next source try. */
  open: (a: Attempt) => Promise<ReadBackend | null>;
}

/**
 * Where a reader's bytes come from, as an ordered list of sources that can each decline: the
 * verified blob on disk, the W&B SDK's cache, another process's running fill, a fill of our own, and
 * finally the uncached stream (which never declines). A reference entry's object (etag blob) takes
 * the same path as a stored file; see fill() for what differs.
 */
export class ReadSources {
  private readonly order: readonly Source[] = [
    { name: 'warm', open: (a) => this.openWarm(a.req) },
    { name: 'sdk-cache', open: (a) => this.fromSdkCache(a) },
    { name: 'follow', open: (a) => this.follow(a) },
    { name: 'fill', open: (a) => this.fill(a) },
    { name: 'stream', open: (a) => Promise.resolve(this.stream(a.req, false)) },
  ];

  constructor(
    private readonly o: SourceOptions,
    private readonly host: SourceHost,
  ) {}

  /** The first source that accepts; counts a hit (warm) or a miss when `count`. */
  async resolve(req: BlobOpenRequest, count: boolean): Promise<ReadBackend> {
    const key = digestKey(req.digest);
    let claimed: Promise<ClaimResult | null> | null = null;
    const attempt: Attempt = { req, key, claim: () => (claimed ??= this.claim(req, key)) };
    for (const source of this.order) {
      // 'follow' is the first source whose bytes come from the network (another process's or ours)
      if (source.name === 'follow') await req.admit?.();
      const backend = await source.open(attempt);
      if (!backend) continue;
      if (count) this.host.bump(source.name === 'warm' ? 'hits' : 'misses');
      return backend;
    }
    throw new Error('unreachable: the stream source never declines');
  }

  /** The verified blob on disk, or null. Lazily reconciles the index with what is on disk. */
  async openWarm(req: BlobOpenRequest): Promise<WarmBackend | null> {
    const { index, log, clock } = this.host;
    const key = digestKey(req.digest);
    const path = blobPath(this.o.dir, req.digest);
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      if (index.get(key)) index.delete(key);
      return null;
    }
    const { size } = await fh.stat();
    if (size !== req.sizeBytes) {
      await fh.close();
      log.warn('cached blob has an unexpected size; fetching again', {
        blob: key,
        size,
        expected: req.sizeBytes,
      });
      if (index.deleteIfUnpinned(key) || !index.get(key)) await unlink(path).catch(() => undefined);
      return null;
    }
    if (!index.get(key)) index.putPresent(key, size, clock.nowMs());
    return new WarmBackend(fh, size);
  }

  /** Bytes straight from the source, uncached; `promote` tries the blob file again every second. */
  stream(req: BlobOpenRequest, promote: boolean): StreamBackend {
    this.host.bump('streamOpens');
    return new StreamBackend(
      req.source,
      req.sizeBytes,
      this.o.streamWindowBytes,
      this.o.stallTimeoutMs,
      (n) => this.host.bump('bytesDownloaded', n),
      promote ? this.host.clock.nowMs() + 1000 : null,
    );
  }

  private async fromSdkCache(a: Attempt): Promise<ReadBackend | null> {
    if (!this.o.sdkCacheDir) return null;
    const taken = await importFromSdkCache({
      sdkCacheDir: this.o.sdkCacheDir,
      cacheDir: this.o.dir,
      digest: a.req.digest,
      sizeBytes: a.req.sizeBytes,
      log: this.host.log,
    });
    if (!taken) return null;
    this.host.bump('sdkReuses');
    this.host.index.putPresent(a.key, a.req.sizeBytes, this.host.clock.nowMs());
    return this.openWarm(a.req);
  }

  /** Room in the cache, then the claim; null (and one log line) when the blob is streamed instead. */
  private async claim(req: BlobOpenRequest, key: string): Promise<ClaimResult | null> {
    const { log, index } = this.host;
    if (req.sizeBytes > this.o.maxCacheBytes) {
      log.info('file is larger than the cache limit; streaming it uncached', {
        blob: key,
        size: req.sizeBytes,
      });
      return null;
    }
    if (!(await this.host.reserveSpace(key, req.sizeBytes))) {
      log.warn('no room in the cache (limits or disk full); streaming uncached', {
        blob: key,
        size: req.sizeBytes,
      });
      return null;
    }
    return index.claim(key, req.sizeBytes, this.o.chunkBytes, this.host.token, this.host.clock.nowMs());
  }

  /** Reads through another process's fill of the same blob instead of downloading it again. */
  private async follow(a: Attempt): Promise<ReadBackend | null> {
    const claim = await a.claim();
    if (claim?.kind !== 'other') return null;
    this.host.log.debug('another process is filling this blob; reading through its download', {
      blob: a.key,
      pid: claim.ownerPid,
    });
    this.host.bump('followOpens');
    return new FollowBackend({
      key: a.key,
      partialPath: partialPath(this.o.dir, a.req.digest),
      ownerToken: claim.ownerToken,
      chunkBytes: claim.chunkBytes,
      sizeBytes: a.req.sizeBytes,
      servePartial: a.req.sizeBytes > this.verifyBeforeServe(a.req),
      stallTimeoutMs: this.o.stallTimeoutMs,
      index: this.host.index,
      clock: this.host.clock,
    });
  }

  /**
   * Starts our own fill (resuming the chunks on disk); declines on a full disk. A reference entry's
   * fill differs in three ways: its bytes are served as they arrive (each response was checked, and
   * there is no hash at the end to wait for), the open waits for its first byte so a private, gone
   * or changed object fails the open as before, and the finished blob is left in the W&B SDK's cache.
   */
  private async fill(a: Attempt): Promise<ReadBackend | null> {
    const claim = await a.claim();
    if (claim?.kind !== 'mine') return null;
    const { host, o } = this;
    let job: FillJob;
    try {
      job = await FillJob.start({
        key: a.key,
        digest: a.req.digest,
        sizeBytes: a.req.sizeBytes,
        chunkBytes: o.chunkBytes,
        streams: o.streams,
        // never fewer chunks than streams, or the window itself would idle workers
        readAheadChunks: Math.max(o.streams, Math.ceil(o.readAheadBytes / o.chunkBytes)),
        writeBatchBytes: o.writeBatchBytes,
        urgentRangeBytes: o.urgentRangeBytes,
        partialPath: partialPath(o.dir, a.req.digest),
        finalPath: blobPath(o.dir, a.req.digest),
        source: a.req.source(),
        index: host.index,
        token: host.token,
        doneChunks: claim.doneChunks,
        stallTimeoutMs: o.stallTimeoutMs,
        maxChunkRetries: o.maxChunkRetries,
        verifyBeforeServeBytes: this.verifyBeforeServe(a.req),
        log: host.log,
        clock: host.clock,
        onBytesDownloaded: (n) => host.bump('bytesDownloaded', n),
        onSettled: (j, err) => host.jobSettled(j, err),
      });
    } catch (err) {
      host.index.release(a.key, host.token);
      if (isErrno(err, 'ENOSPC', 'EDQUOT')) return null;
      throw err;
    }
    host.adopt(job);
    job.acquire();
    if (a.req.digest.algo === 'etag') await this.referenceStarted(job, a.req);
    return new FillBackend(job);
  }

  /**
   * An etag blob has no content hash to wait for: every response that wrote it carried the logged
   * ETag and size (api/ref-source.ts), so none of it needs holding back; a stored file's small blobs
   * are served only once their MD5 matched.
   */
  private verifyBeforeServe(req: BlobOpenRequest): number {
    return req.digest.algo === 'etag' ? 0 : this.o.verifyBeforeServeBytes;
  }

  /** Waits for a reference fill's first byte (failing the open with its error), then hooks the SDK export. */
  private async referenceStarted(job: FillJob, req: BlobOpenRequest): Promise<void> {
    try {
      if (req.sizeBytes > 0) await job.read(Buffer.alloc(1), 1, 0);
    } catch (err) {
      job.release();
      throw err;
    }
    const sdkCacheDir = this.o.sdkCacheDir;
    if (!sdkCacheDir) return;
    void job.whenSettled().then(async (err) => {
      if (err) return;
      await exportToSdkCache({
        sdkCacheDir,
        blobFile: blobPath(this.o.dir, req.digest),
        digest: req.digest,
        log: this.host.log,
      });
    });
  }
}
