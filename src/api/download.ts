import type { LimitFunction } from 'p-limit';
import { ContentChangedError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { runLimited } from './abort.js';
import { assertByteRange } from './byte-range.js';
import { PermanentError, RateLimitedError, TransientError } from './errors.js';
import type { FallbackAuth, FileUrls, UrlStage } from './fallback-url.js';
import { stageAfterRejection } from './fallback-url.js';
import type { FetchContext } from './fetch-context.js';
import type { FileUrlBook } from './file-urls.js';
import type { RetryDeps, RetryPolicy } from './retry.js';
import { withRetry } from './retry.js';
import type { StatsRecorder } from './stats.js';
import { SignedUrlRejected, storageStatusError } from './storage-status.js';
import type { StorageClient } from './storage.js';
import type { FileLocator, RangeSource } from './types.js';

export interface DownloaderDeps {
  ctx: FetchContext;
  storage: StorageClient;
  /** the shared download limit; one slot per HTTP request, held while its body streams */
  limit: LimitFunction;
  urls: FileUrlBook;
  /** the W&B auth header for a fallback URL on W&B's own host, else null */
  fallbackAuth: FallbackAuth;
  retry: RetryPolicy;
  retryDeps: RetryDeps;
  stats: StatsRecorder;
  logger: Logger;
  /** chunks are coalesced up to this size before they reach the sink (0: each socket read as it comes) */
  sinkBatchBytes: number;
  /** a server that ignores Range (200) is read from 0 and skipped forward up to this offset */
  maxSkipBytes: number;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;
/** How long small fetches step aside after a 429 or 5xx that named no Retry-After. */
const SMALL_PAUSE_MS = 1000;

/**
 * Byte ranges of one W&B file over its signed URL. Resolves the URL lazily (shared per file), streams
 * each response into the sink chunk by chunk (the sink's promise is the back-pressure), resumes after
 * 429/5xx/resets/stalls from the first byte not yet delivered. A signed URL storage rejects (400 as
 * GCS answers an expired one, 401, 403) is replaced by a fresh one from W&B once, then by the
 * authenticated fallback URL, from the same byte on; only when that fails too is it UrlExpiredError.
 */
export class ApiRangeSource implements RangeSource {
  /** set once a fresh signed URL was rejected too: the rest of this file comes from File.url */
  private fallbackOnly = false;
  /** after storage throttled or failed a small fetch: until then they go through fetchRange's backoff */
  private smallPausedUntilMs = 0;

  constructor(
    private readonly d: DownloaderDeps,
    private readonly locator: FileLocator,
    private readonly label: string,
    /** the size the listing gave; storage reporting another one is ContentChangedError (null: unchecked) */
    private readonly expectedSize: number | null = null,
  ) {}

  describe(): string {
    return this.label;
  }

  async fetchRange(
    start: number,
    endExclusive: number,
    sink: (chunk: Buffer) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    assertByteRange(start, endExclusive, this.label);
    let pos = start;
    let progressMark = start;
    // An expired URL is normal on a long-lived mount: refresh once per stretch without progress,
    // then the authenticated fallback, which this source keeps using once it was needed.
    let stage: UrlStage = this.fallbackOnly ? 'fallback' : 'signed';
    let current: FileUrls | null = null;
    const deliver = async (chunk: Buffer): Promise<void> => {
      await sink(chunk);
      pos += chunk.length;
      if (stage === 'fresh') stage = 'signed';
    };
    await withRetry(
      async () => {
        while (pos < endExclusive) {
          if (stage !== 'fallback' || current === null) {
            current = await this.d.urls.get(this.locator, this.label, signal);
          }
          const urls = current;
          const auth = urls.fallback === null ? null : this.d.fallbackAuth(urls.fallback);
          const target = stage === 'fallback' && urls.fallback !== null ? urls.fallback : urls.direct;
          const headers = stage === 'fallback' ? (auth ?? {}) : {};
          try {
            await runLimited(
              this.d.limit,
              () => this.rangeOnce(target, headers, pos, endExclusive, deliver, signal),
              signal,
            );
          } catch (err) {
            if (!(err instanceof SignedUrlRejected)) throw err;
            if (stage !== 'fallback') await this.d.urls.invalidate(this.locator, urls.direct);
            stage = stageAfterRejection(stage, err.status, auth !== null, this.label);
            if (stage === 'fallback') this.fallbackOnly = true;
            this.d.logger.debug('signed URL rejected', { file: this.label, status: err.status, next: stage });
          }
        }
      },
      {
        policy: this.d.retry,
        deps: this.d.retryDeps,
        signal,
        madeProgress: () => {
          const moved = pos > progressMark;
          progressMark = pos;
          return moved;
        },
        onRetry: (info) => {
          this.d.stats.retry();
          this.d.logger.warn('retrying download', {
            file: this.label,
            offset: pos,
            attempt: info.attempt,
            delayMs: info.delayMs,
            error: info.error.message,
          });
        },
      },
    );
  }

  /**
   * One GET of a small range into `buf` over the signed URL, for a random reader's urgent miss. It
   * skips the download queue (UrgentRanges caps how many run, and queueing them behind background
   * chunks would defeat them) and the retry loop (a failure sends the reader to the chunk's fetch,
   * which has both). A rejected signed URL is dropped from the book, so the next miss asks W&B for
   * a fresh one. Null once this file is read from its fallback URL (fetchRange knows that path), and
   * for a while after a 429 or 5xx (Retry-After, else SMALL_PAUSE_MS): one-shot requests must not
   * keep hitting a storage that asked us to slow down, while fetchRange backs off as told.
   */
  fetchSmall(start: number, endExclusive: number, buf: Buffer): Promise<void> | null {
    if (this.fallbackOnly || this.d.retryDeps.clock.nowMs() < this.smallPausedUntilMs) return null;
    assertByteRange(start, endExclusive, this.label);
    if (buf.length !== endExclusive - start) throw new RangeError('fetchSmall: buffer and range differ');
    return this.smallOnce(start, endExclusive, buf);
  }

  /** No signal and no timer of its own: storage's header timeout and body stall timer bound it. */
  private async smallOnce(start: number, end: number, buf: Buffer): Promise<void> {
    const urls = await this.d.urls.get(this.locator, this.label);
    const { storage } = this.d;
    const res = await storage.get(urls.direct, { range: `bytes=${start}-${end - 1}` }, undefined, this.label);
    if (res.statusCode !== 206) {
      storage.discard(res);
      const err = this.statusFailure(res);
      if (err instanceof SignedUrlRejected) await this.d.urls.invalidate(this.locator, urls.direct);
      else if (err instanceof RateLimitedError || err instanceof TransientError) {
        this.smallPausedUntilMs = this.d.retryDeps.clock.nowMs() + (err.retryAfterMs ?? SMALL_PAUSE_MS);
      }
      throw err;
    }
    const m = CONTENT_RANGE.exec(String(res.headers['content-range'] ?? ''));
    if (!m || Number(m[1]) !== start || Number(m[2]) !== end - 1) {
      res.destroy();
      throw new PermanentError(`storage answered a different byte range than asked for ${this.label}`);
    }
    this.checkTotal(m[3] === '*' ? null : Number(m[3]), () => res.destroy());
    const got = await storage.bodyInto(res, buf, this.label);
    if (got !== buf.length)
      throw new TransientError(`storage sent ${got} of ${buf.length} bytes for ${this.label}`);
  }

  /**
   * Storage names the object's whole size in every answer; one other than the listing's means the
   * object behind the URL was replaced or grew since it was listed (a live run's output.log). Any
   * byte of it would fail the digest check, so nothing more is fetched: the caller re-lists.
   */
  private checkTotal(total: number | null, abandon: () => void): void {
    if (this.expectedSize === null || total === null || !Number.isSafeInteger(total)) return;
    if (total === this.expectedSize) return;
    abandon();
    throw new ContentChangedError(
      `${this.label} is ${total} bytes in storage, but ${this.expectedSize} bytes in its listing`,
      total,
    );
  }

  /** The typed error for a storage answer that is neither 200 nor 206; counts throttling. */
  private statusFailure(res: Parameters<typeof storageStatusError>[0]): Error {
    if (res.statusCode === 416) {
      // asked from inside the listed size, yet past the end: the object shrank
      const m = /\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
      this.checkTotal(m ? Number(m[1]) : null, () => undefined);
    }
    const err = storageStatusError(res, this.label, this.d.retryDeps.clock.nowMs());
    if (
      err instanceof RateLimitedError ||
      (err instanceof TransientError && err.retryAfterMs !== undefined)
    ) {
      this.d.stats.throttled();
    }
    return err;
  }

  /**
   * One GET from `from`; delivers what it receives (possibly less than asked) and returns. Before
   * bodies were read to their end, every chunk and urgent range paid a new TCP (on real storage,
   * TLS) handshake.
   */
  private async rangeOnce(
    url: string,
    headers: Record<string, string>,
    from: number,
    end: number,
    deliver: (chunk: Buffer) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const { storage } = this.d;
    const res = await storage.get(url, { ...headers, range: `bytes=${from}-${end - 1}` }, signal, this.label);
    const status = res.statusCode ?? 0;
    let bodyOffset: number;
    let until = end;
    // A body ending where we stop is read to its end: leaving early destroys the keep-alive socket.
    let drain = false;
    if (status === 206) {
      const m = CONTENT_RANGE.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== from) {
        res.destroy();
        throw new PermanentError(`storage answered a different byte range than asked for ${this.label}`);
      }
      this.checkTotal(m[3] === '*' ? null : Number(m[3]), () => res.destroy());
      bodyOffset = from;
      until = Math.min(end, Number(m[2]) + 1);
      drain = until === Number(m[2]) + 1;
    } else if (status === 200) {
      // Range ignored: the body starts at byte 0. Fine for small offsets, wasteful beyond.
      if (from > this.d.maxSkipBytes) {
        res.destroy();
        throw new PermanentError(`storage ignored the Range header for ${this.label} (HTTP 200)`);
      }
      const length = res.headers['content-length'];
      this.checkTotal(length === undefined ? null : Number(length), () => res.destroy());
      bodyOffset = 0;
    } else {
      storage.discard(res);
      throw this.statusFailure(res);
    }

    let batch: Buffer[] = [];
    let batchBytes = 0;
    const flush = async (): Promise<void> => {
      if (batchBytes === 0) return;
      const out = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
      batch = [];
      batchBytes = 0;
      await deliver(out);
    };
    let offset = bodyOffset;
    try {
      for await (const raw of storage.body(res, signal, this.label)) {
        let chunk = raw;
        if (offset < from) {
          const skip = Math.min(chunk.length, from - offset);
          offset += skip;
          chunk = chunk.subarray(skip);
        }
        if (offset + chunk.length > until) chunk = chunk.subarray(0, until - offset);
        if (chunk.length > 0) {
          batch.push(chunk);
          batchBytes += chunk.length;
          offset += chunk.length;
          if (batchBytes >= this.d.sinkBatchBytes) await flush();
        }
        if (offset >= until && !drain) break;
      }
    } catch (err) {
      // Bytes already received are good; hand them over so the retry resumes after them.
      if (!signal.aborted) await flush();
      throw err;
    }
    await flush();
    if (offset < until) {
      if (status === 200) {
        // A complete unranged body ended early: the file is shorter than the range asked for.
        throw new PermanentError(`${this.label} is shorter (${offset} bytes) than the range asked for`);
      }
      throw new TransientError(`storage sent ${offset - from} of ${until - from} bytes for ${this.label}`);
    }
  }
}
