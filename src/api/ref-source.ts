import type { IncomingMessage } from 'node:http';
import type { LimitFunction } from 'p-limit';
import type { Logger } from '../core/log.js';
import { runLimited } from './abort.js';
import { assertByteRange } from './byte-range.js';
import { unreachableCode } from './connectivity.js';
import { RefUnreadableError, TransientError } from './errors.js';
import { errorForStatus } from './http-errors.js';
import { nodeHeaders, retryDelayOf } from './rate-limit.js';
import { displayRef, refHttpUrl, type RefEndpoints } from './ref-url.js';
import type { RetryDeps, RetryPolicy } from './retry.js';
import { withRetry } from './retry.js';
import type { StorageClient } from './storage.js';
import type { RangeSource } from './types.js';

export interface RefSourceDeps {
  /** anonymous GETs; its own client, so W&B being offline does not stop a reference's store */
  storage: StorageClient;
  limit: LimitFunction;
  retry: RetryPolicy;
  retryDeps: RetryDeps;
  endpoints: RefEndpoints;
  logger: Logger;
  /** redirects followed per request (a CDN or a bucket's region endpoint); more fail the read */
  maxRedirects: number;
}

/** What a manifest recorded for a reference entry. */
export interface RefTarget {
  /** the entry's `ref` URI */
  uri: string;
  /** the entry's digest: the object's ETag when logged */
  etag: string;
  sizeBytes: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/** An ETag as compared: weak prefix and quotes dropped (the SDK records it without quotes). */
export function bareEtag(raw: string | string[] | undefined): string | null {
  if (typeof raw !== 'string') return null;
  return raw.replace(/^W\//, '').replace(/^"(.*)"$/s, '$1');
}

/**
 * Byte ranges of a reference entry's object from its own store. Trust rule: a response counts only
 * when its ETag is the one the manifest recorded and its total size is the recorded size, so every
 * byte handed on belongs to the object as it was logged; anything else (private, gone, changed) is
 * RefUnreadableError, which reaches the reader as EACCES. 5xx, 429 and resets are retried.
 */
export class RefRangeSource implements RangeSource {
  private readonly label: string;

  constructor(
    private readonly d: RefSourceDeps,
    private readonly t: RefTarget,
  ) {
    this.label = displayRef(t.uri);
  }

  describe(): string {
    return this.label;
  }

  async fetchRange(
    start: number,
    endExclusive: number,
    sink: (chunk: Buffer) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const url = refHttpUrl(this.t.uri, this.d.endpoints);
    if (url === null) throw new RefUnreadableError(`${this.label} is not an object wandbfs can fetch`);
    assertByteRange(start, endExclusive, this.label);
    let pos = start;
    let mark = start;
    await withRetry(
      async () => {
        while (pos < endExclusive) {
          await runLimited(
            this.d.limit,
            () =>
              this.rangeOnce(url, pos, endExclusive, signal, async (chunk) => {
                await sink(chunk);
                pos += chunk.length;
              }),
            signal,
          );
        }
      },
      {
        policy: this.d.retry,
        deps: this.d.retryDeps,
        signal,
        madeProgress: () => {
          const moved = pos > mark;
          mark = pos;
          return moved;
        },
        onRetry: (info) =>
          this.d.logger.debug('retrying reference download', {
            reference: this.label,
            error: info.error.message,
          }),
      },
    );
  }

  /** One GET from `from` (redirects followed); hands on what arrives, possibly less than asked. */
  private async rangeOnce(
    url: string,
    from: number,
    end: number,
    signal: AbortSignal,
    deliver: (chunk: Buffer) => Promise<void>,
  ): Promise<void> {
    const res = await this.follow(url, { range: `bytes=${from}-${end - 1}` }, signal);
    const status = res.statusCode ?? 0;
    const { until, drain } = this.checkResponse(res, status, from, end);
    let offset = status === 206 ? from : 0;
    for await (const raw of this.d.storage.body(res, signal, this.label)) {
      let chunk = raw;
      if (offset < from) {
        const skip = Math.min(chunk.length, from - offset);
        offset += skip;
        chunk = chunk.subarray(skip);
      }
      if (offset + chunk.length > until) chunk = chunk.subarray(0, until - offset);
      if (chunk.length > 0) {
        offset += chunk.length;
        await deliver(chunk);
      }
      // a body ending where we stop is read to its end, so its keep-alive socket is reused
      if (offset >= until && !drain) break;
    }
    if (offset < until) throw new TransientError(`${this.label} ended early (${offset} of ${until} bytes)`);
  }

  /**
   * Status, ETag and size of a response; returns where its useful bytes end, and whether the body
   * ends there too (then it is read to its end). Consumes bad ones.
   */
  private checkResponse(
    res: IncomingMessage,
    status: number,
    from: number,
    end: number,
  ): { until: number; drain: boolean } {
    if (status !== 200 && status !== 206) {
      this.d.storage.discard(res);
      if (status === 429 || status >= 500) {
        const retryAfterMs = retryDelayOf(nodeHeaders(res.headers), status, this.d.retryDeps.clock.nowMs());
        throw errorForStatus(status, this.label, retryAfterMs === undefined ? {} : { retryAfterMs });
      }
      throw new RefUnreadableError(`${this.label} answered HTTP ${status} (not public, or gone)`);
    }
    const fail = (why: string): never => {
      res.destroy();
      throw new RefUnreadableError(`${this.label} ${why}`);
    };
    const etag = bareEtag(res.headers.etag);
    if (etag !== bareEtag(this.t.etag)) {
      fail(`changed since the artifact was logged (ETag ${etag ?? 'missing'}, logged ${this.t.etag})`);
    }
    let total = Number(res.headers['content-length']);
    let until = end;
    let drain = false;
    if (status === 206) {
      const m = CONTENT_RANGE.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== from) fail('answered a different byte range than asked');
      total = m?.[3] === '*' ? NaN : Number(m?.[3]);
      until = Math.min(end, Number(m?.[2]) + 1);
      drain = until === Number(m?.[2]) + 1;
    }
    if (Number.isFinite(total) && total !== this.t.sizeBytes) {
      fail(`has ${total} bytes, the artifact logged ${this.t.sizeBytes}`);
    }
    return { until, drain };
  }

  /** GET with redirects followed (capped; http(s) only; never from https down to http). */
  private async follow(
    url: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    let target = url;
    for (let hop = 0; ; hop++) {
      const res = await this.d.storage.get(target, headers, signal, this.label).catch((err: unknown) => {
        // No DNS, refused, no route: the store is not there for us; retrying for minutes would only
        // hold the open (W&B's own reachability is a different matter, see connectivity.ts).
        const code = unreachableCode(err);
        throw code === undefined ? err : new RefUnreadableError(`${this.label} cannot be reached (${code})`);
      });
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (!REDIRECTS.has(status) || typeof location !== 'string') return res;
      this.d.storage.discard(res);
      if (hop >= this.d.maxRedirects) {
        throw new RefUnreadableError(`${this.label} redirected more than ${this.d.maxRedirects} times`);
      }
      const next = safeRedirect(target, location);
      if (next === null)
        throw new RefUnreadableError(`${this.label} redirected to a URL wandbfs does not follow`);
      target = next;
    }
  }
}

function safeRedirect(from: string, location: string): string | null {
  try {
    const next = new URL(location, from);
    if (next.protocol !== 'https:' && next.protocol !== 'http:') return null;
    if (new URL(from).protocol === 'https:' && next.protocol === 'http:') return null;
    return next.href;
  } catch {
    return null;
  }
}
