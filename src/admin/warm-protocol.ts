/**
 * What `wandbfs warm`, `wandbfs cache pin|unpin` and `wandbfs status` exchange with a mount daemon
 * over its control socket (src/admin/control.ts). Plain data; both sides import only these types.
 */

export interface WarmRequest {
  /** absolute paths inside the mount ('/' is the mount root) */
  paths: string[];
  /** files fetched in parallel */
  jobs: number;
  /** only plan: report totals and what is cached, fetch nothing */
  dryRun: boolean;
  /** pin every blob of the plan (before fetching, so the warm-up cannot evict its own files) */
  pin: boolean;
}

/** Totals of a warm-up: unique blobs (a checkpoint shared by two versions counts once). */
export interface WarmPlanSummary {
  files: number;
  bytes: number;
  /** already complete in the cache */
  cachedFiles: number;
  cachedBytes: number;
  /** interrupted downloads that will resume, and the bytes they already hold */
  partialFiles: number;
  partialBytes: number;
  /** entries that cannot be fetched (references logged without an ETag or of other schemes, entries without a digest) */
  unreadable: number;
  /** generated files (metadata.json) that need no fetching */
  generated: number;
}

export interface WarmProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** the files being fetched right now */
  current: string[];
}

export interface WarmFailure {
  path: string;
  error: string;
}

export interface WarmResult {
  plan: WarmPlanSummary;
  /** blobs fetched now (not counting ones that were cached) */
  fetchedFiles: number;
  fetchedBytes: number;
  failures: WarmFailure[];
  /** how many blobs were pinned (new pins only) */
  pinned: number;
  elapsedMs: number;
  /** dry run: why the real run would be refused; null when it would go ahead */
  refusal: string | null;
}

export interface PinRequest {
  paths: string[];
  pin: boolean;
}

export interface PinResult {
  /** unique blobs under the paths */
  blobs: number;
  bytes: number;
  /** pins added (pin) or removed (unpin) */
  changed: number;
}

/** One download in progress, with a rate measured over the last few seconds. */
export interface DownloadInfo {
  label: string;
  sizeBytes: number;
  bytesDone: number;
  percent: number;
  /** bytes per second over the recent window; null until measurable */
  rateBytesPerSec: number | null;
  /** seconds until done at that rate; null when unknown */
  etaSeconds: number | null;
}
