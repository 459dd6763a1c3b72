import { stat } from 'node:fs/promises';
import { systemClock, type Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import { AbortedError, errorMessage, WandbfsError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { BlobIndex } from '../blobs/blob-index.js';
import { BlobKeep } from '../blobs/blob-keep.js';
import { blobPath } from '../blobs/path.js';
import type { BlobCache, RangeSource } from '../blobs/types.js';
import type { MetaTree } from '../meta/types.js';
import type { ControlHandlers } from '../admin/control.js';
import { DownloadRates } from '../admin/download-rates.js';
import type {
  PinRequest,
  PinResult,
  WarmFailure,
  WarmProgress,
  WarmRequest,
  WarmResult,
} from '../admin/warm-protocol.js';
import type { BlobContent, ReferenceContent } from './core.js';
import { collectTreeFiles, type TreeBlob } from './tree-files.js';
import { planWarm, type WarmLimits } from './warm-plan.js';

export interface WarmDeps {
  meta: MetaTree;
  blobs: BlobCache;
  /** the mount's database (blob index and pins) */
  db: Db;
  cacheDir: string;
  sourceFor(content: BlobContent, path: string, sizeBytes?: number): RangeSource;
  /** a reference entry's source, as the mount reads it (FsCoreOptions.referenceSourceFor) */
  referenceSourceFor(content: ReferenceContent, sizeBytes: number): RangeSource;
  limits: WarmLimits;
  log: Logger;
  clock?: Clock;
  /** how often progress is sent to the client */
  progressEveryMs?: number;
}

const READ_BYTES = 1024 * 1024;
/** A fill's verified file appears just after it leaves the in-flight list; this bounds the wait. */
const COMMIT_GRACE_MS = 5_000;

/** The warm, pin and download-progress requests of the control socket, served by the mount daemon. */
export function warmHandlers(d: WarmDeps): Required<Omit<ControlHandlers, 'refresh'>> {
  const rates = new DownloadRates(
    () => d.blobs.inFlight(),
    () => (d.clock ?? systemClock).nowMs(),
  );
  return {
    warm: (req, emit, signal) => runWarm(d, req, emit, signal),
    pin: (req) => setPins(d, req),
    downloads: () => rates.current(),
  };
}

/**
 * Fetches every blob under the paths by reading it through the blob cache exactly as a reader of the
 * mount would (same fills, resume, verification, counters), `jobs` files at a time.
 */
export async function runWarm(
  d: WarmDeps,
  req: WarmRequest,
  emit: (p: WarmProgress) => void,
  signal: AbortSignal,
): Promise<WarmResult> {
  const clock = d.clock ?? systemClock;
  const t0 = clock.nowMs();
  const index = new BlobIndex(d.db);
  const files = await collectTreeFiles(d.meta, req.paths, signal);
  const plan = await planWarm(files, d.cacheDir, index, d.limits);
  const result: WarmResult = {
    plan: plan.summary,
    fetchedFiles: 0,
    fetchedBytes: 0,
    failures: [],
    pinned: 0,
    elapsedMs: 0,
    refusal: plan.refusal?.message ?? null,
  };
  if (req.dryRun) return { ...result, elapsedMs: clock.nowMs() - t0 };
  if (plan.refusal) throw plan.refusal;
  if (req.pin) {
    const rows = files.blobs.map((b) => ({ key: b.key, sizeBytes: b.sizeBytes, label: b.path }));
    result.pinned = new BlobKeep(d.db).pin(rows, clock.nowMs());
  }
  const meter = new WarmMeter(d.blobs, plan.toFetch);
  const send = (): void => emit(meter.snapshot());
  d.log.info('warming', { paths: req.paths, files: plan.toFetch.length, jobs: req.jobs });
  const timer = setInterval(send, d.progressEveryMs ?? 250);
  try {
    await eachLimited(plan.toFetch, req.jobs, signal, async (b) => {
      meter.start(b);
      try {
        await fetchOne(d, b, signal, (n) => meter.read(b, n));
        result.fetchedFiles++;
        result.fetchedBytes += b.sizeBytes;
      } catch (err) {
        if (signal.aborted) throw err;
        result.failures.push(failureOf(b, err));
        d.log.warn('warm: could not fetch a file', { path: b.path, error: errorMessage(err) });
      } finally {
        meter.finish(b);
      }
    });
  } finally {
    clearInterval(timer);
  }
  send();
  return { ...result, elapsedMs: clock.nowMs() - t0 };
}

/**
 * Bytes done of a warm-up. A file's bytes count as they reach the cache (the fill's progress), not
 * only as the warm reader gets them: a small blob is handed out only once verified, all at once.
 */
class WarmMeter {
  private readonly inProgress = new Map<string, { b: TreeBlob; read: number }>();
  private filesDone = 0;
  private bytesFinished = 0;
  private readonly total: { files: number; bytes: number };

  constructor(
    private readonly blobs: BlobCache,
    toFetch: readonly TreeBlob[],
  ) {
    this.total = { files: toFetch.length, bytes: toFetch.reduce((s, b) => s + b.sizeBytes, 0) };
  }

  start(b: TreeBlob): void {
    this.inProgress.set(b.key, { b, read: 0 });
  }

  read(b: TreeBlob, n: number): void {
    const p = this.inProgress.get(b.key);
    if (p) p.read += n;
  }

  /** Done or failed: a failed file's bytes count too, so the total stays reachable. */
  finish(b: TreeBlob): void {
    this.inProgress.delete(b.key);
    this.filesDone++;
    this.bytesFinished += b.sizeBytes;
  }

  snapshot(): WarmProgress {
    const filled = new Map(this.blobs.inFlight().map((f) => [f.digest, f.bytesDone]));
    let partial = 0;
    for (const [key, p] of this.inProgress)
      partial += Math.min(p.b.sizeBytes, Math.max(p.read, filled.get(key) ?? 0));
    return {
      filesDone: this.filesDone,
      filesTotal: this.total.files,
      bytesDone: this.bytesFinished + partial,
      bytesTotal: this.total.bytes,
      current: [...this.inProgress.values()].map((p) => p.b.path),
    };
  }
}

function failureOf(b: TreeBlob, err: unknown): WarmFailure {
  return { path: b.path, error: errorMessage(err) };
}

async function fetchOne(
  d: WarmDeps,
  b: TreeBlob,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<void> {
  const reader = await d.blobs.open({
    digest: b.digest,
    sizeBytes: b.sizeBytes,
    source: () => sourceOf(d, b),
  });
  const buf = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(1, b.sizeBytes)));
  try {
    for (let pos = 0; pos < b.sizeBytes;) {
      signal.throwIfAborted();
      const n = await reader.read(buf, buf.length, pos);
      if (n === 0) throw new WarmShortError(pos, b.sizeBytes);
      pos += n;
      onBytes(n);
    }
  } finally {
    await reader.close();
  }
  await waitStored(d, b, signal);
}

/** The source the mount would read the file from: W&B storage, or a reference entry's own store. */
function sourceOf(d: WarmDeps, b: TreeBlob): RangeSource {
  const c = b.content;
  return c.type === 'blob' ? d.sourceFor(c, b.path, b.sizeBytes) : d.referenceSourceFor(c, b.sizeBytes);
}

/** Reading every byte is not enough: the blob counts once it is verified and in blobs/. */
async function waitStored(d: WarmDeps, b: TreeBlob, signal: AbortSignal): Promise<void> {
  let leftAt: number | null = null;
  for (;;) {
    const st = await stat(blobPath(d.cacheDir, b.digest)).catch(() => null);
    if (st?.size === b.sizeBytes) return;
    const filling = d.blobs.inFlight().some((f) => f.digest === b.key);
    if (!filling) leftAt ??= Date.now();
    if (leftAt !== null && Date.now() - leftAt > COMMIT_GRACE_MS) {
      throw new WarmNotStoredError();
    }
    if (signal.aborted) throw new AbortedError('warm cancelled');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `fn` over `items`, at most `limit` at once; stops starting new ones once aborted. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      if (signal.aborted) throw new AbortedError('warm cancelled');
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

async function setPins(d: WarmDeps, req: PinRequest): Promise<PinResult> {
  const files = await collectTreeFiles(d.meta, req.paths);
  const keep = new BlobKeep(d.db);
  const changed = req.pin
    ? keep.pin(
        files.blobs.map((b) => ({ key: b.key, sizeBytes: b.sizeBytes, label: b.path })),
        (d.clock ?? systemClock).nowMs(),
      )
    : keep.unpin(files.blobs.map((b) => b.key));
  d.log.info(req.pin ? 'pinned' : 'unpinned', { paths: req.paths, blobs: files.blobs.length, changed });
  return { blobs: files.blobs.length, bytes: files.blobs.reduce((s, b) => s + b.sizeBytes, 0), changed };
}

/** A warmed file ended before its listed size. */
export class WarmShortError extends WandbfsError {
  constructor(pos: number, size: number) {
    super('ERR_WARM_SHORT', `the file ended at ${pos} of ${size} bytes`);
  }
}

/** A warmed file was read whole but its blob was not committed (verification failed or no room). */
export class WarmNotStoredError extends WandbfsError {
  constructor() {
    super(
      'ERR_WARM_NOT_STORED',
      'read completely but not kept in the cache (failed verification, or no room: see the mount log)',
    );
  }
}
