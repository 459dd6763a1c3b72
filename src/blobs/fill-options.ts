import type { Clock } from '../core/clock.js';
import type { Digest } from '../core/digest.js';
import type { Logger } from '../core/log.js';
import type { BlobIndex } from './blob-index.js';
import type { FillJob } from './fill-job.js';
import type { RangeSource } from './types.js';

/** Everything one fill is started with (ReadSources builds it from the store's options). */
export interface FillJobOptions {
  key: string;
  digest: Digest;
  sizeBytes: number;
  chunkBytes: number;
  streams: number;
  /** While a sequential reader is active, fetch at most this many chunks ahead of it (ChunkSchedule). */
  readAheadChunks: number;
  /** A random reader's miss is served from a range this big fetched just for it (0 = off; UrgentRanges). */
  urgentRangeBytes: number;
  /** Positional writes are batched up to this many bytes (>= 1 MiB keeps syscalls cheap). */
  writeBatchBytes: number;
  partialPath: string;
  finalPath: string;
  source: RangeSource;
  index: BlobIndex;
  /** Claim token from BlobIndex.claim. */
  token: string;
  /** Chunks already on disk from an interrupted fill (persisted chunk map). */
  doneChunks: readonly number[];
  stallTimeoutMs: number;
  maxChunkRetries: number;
  /** Blobs up to this size are served only after verification (no unverified byte ever reaches a reader). */
  verifyBeforeServeBytes: number;
  log: Logger;
  clock: Clock;
  onBytesDownloaded: (n: number) => void;
  onSettled: (job: FillJob, error: Error | null) => void;
}
