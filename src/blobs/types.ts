import type { Digest } from '../core/digest.js';

/**
 * What the blob cache needs from whoever can fetch bytes. The blob layer declares it and the API
 * layer's downloader satisfies it structurally (src/app.ts wires them), so blobs never imports api.
 */
export interface RangeSource {
  /**
   * Streams bytes [start, endExclusive) of the file, in order, into `sink`, awaiting each call (that is
   * the back-pressure). Resolves when the range is complete; rejects with a typed error otherwise
   * (bytes already handed to `sink` are valid). Refreshing expired signed URLs is the source's job.
   */
  fetchRange(
    start: number,
    endExclusive: number,
    sink: (chunk: Buffer) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void>;
  /**
   * Optional: one attempt at a small range straight into `buf` (length endExclusive - start), for
   * a random reader's urgent miss: no retries, no queue behind background chunks, bounded by the
   * source's own timeouts; a failure only means the reader waits for the range's chunk, whose fetch
   * has the retries. Returns null when the source cannot do it now (the caller then uses fetchRange).
   */
  fetchSmall?(start: number, endExclusive: number, buf: Buffer): Promise<void> | null;
  /** Human label for logs and status.json (e.g. 'entity/project/run/output.log'); never a signed URL. */
  describe(): string;
}

export interface BlobOpenRequest {
  digest: Digest;
  sizeBytes: number;
  /** Called only when bytes must be downloaded; a warm open never builds a source. */
  source: () => RangeSource;
  /**
   * Asked once before bytes would come from the network (the cache and the SDK cache declined);
   * rejecting refuses the open (a W&B Registry role that may not download). A cached blob opens
   * without it, so it never costs a request.
   */
  admit?: () => Promise<void>;
}

/** One open file's view of a blob. Reads are answered as soon as their byte range is on disk. */
export interface BlobReader {
  readonly sizeBytes: number;
  /** Reads up to `length` bytes at `position` into `buf` (from offset 0); returns bytes read, 0 at EOF. */
  read(buf: Buffer, length: number, position: number): Promise<number>;
  /**
   * The same read answered at once when that is cheap (a cached blob: an inline pread or a loaded
   * window), else null and nothing happened: the caller then uses `read`.
   */
  readSync?(buf: Buffer, length: number, position: number): number | null;
  /** Unpins the blob; idempotent. */
  close(): Promise<void>;
}

export interface FillProgress {
  digest: string;
  label: string;
  sizeBytes: number;
  bytesDone: number;
  startedAtMs: number;
}

export interface BlobCacheCounters {
  hits: number;
  misses: number;
  bytesDownloaded: number;
  integrityFailures: number;
}

/** The face of the blob cache that the FUSE core uses. */
export interface BlobCache {
  open(req: BlobOpenRequest): Promise<BlobReader>;
  inFlight(): FillProgress[];
  counters(): BlobCacheCounters;
  close(): Promise<void>;
}
