import pLimit from 'p-limit';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { API_DEFAULTS } from './client.js';
import { RefRangeSource, type RefSourceDeps, type RefTarget } from './ref-source.js';
import type { RefEndpoints } from './ref-url.js';
import { DEFAULT_RETRY_POLICY, sleepAbortable, type RetryPolicy } from './retry.js';
import { StatsRecorder } from './stats.js';
import { StorageClient } from './storage.js';
import type { RangeSource } from './types.js';
import { userAgent } from './user-agent.js';

export interface ReferenceSourcesOptions {
  endpoints: RefEndpoints;
  logger: Logger;
  /** GETs in flight at once across all references (default: the W&B download default, 16) */
  concurrency?: number;
  stallTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

export interface ReferenceSources {
  /**
   * The bytes of a reference entry (https://, s3://, gs://) from its own store, checked against the
   * ETag and size the manifest recorded; fails with RefUnreadableError (EACCES) otherwise.
   */
  source(target: RefTarget): RangeSource;
  close(): void;
}

/** Redirects a reference's store may send per request (CDNs, region endpoints). */
const MAX_REF_REDIRECTS = 5;

/**
 * Reference entries are read from stores that are not W&B: their own storage client (no W&B
 * connectivity: W&B being down says nothing about an S3 bucket), limit, and counters.
 */
export function createReferenceSources(o: ReferenceSourcesOptions): ReferenceSources {
  const concurrency = o.concurrency ?? API_DEFAULTS.downloadConcurrency;
  const stallTimeoutMs = o.stallTimeoutMs ?? API_DEFAULTS.stallTimeoutMs;
  const storage = new StorageClient({
    userAgent: userAgent(),
    headersTimeoutMs: API_DEFAULTS.storageHeadersTimeoutMs,
    stallTimeoutMs,
    maxSockets: concurrency,
    stats: new StatsRecorder(systemClock),
  });
  const deps: RefSourceDeps = {
    storage,
    limit: pLimit(concurrency),
    retry: { ...DEFAULT_RETRY_POLICY, ...o.retry },
    retryDeps: { clock: systemClock, sleep: sleepAbortable, random: Math.random },
    endpoints: o.endpoints,
    logger: o.logger,
    maxRedirects: MAX_REF_REDIRECTS,
  };
  return { source: (target) => new RefRangeSource(deps, target), close: () => storage.close() };
}
