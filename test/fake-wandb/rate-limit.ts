/**
 * A request quota per route, as W&B documents its rate limits: every answer carries
 * `RateLimit-Remaining` (requests left in the window) and `RateLimit-Reset` (seconds until it
 * resets); past the limit the answer is 429 with those headers, `Retry-After`, or both.
 */
import type { RouteFaults } from './faults.js';

export interface Quota {
  /** requests allowed per window */
  limit: number;
  windowMs: number;
}

/** Which headers a 429 carries. */
export type RateLimitHeaders = 'retry-after' | 'ratelimit' | 'both';

export class QuotaWindow {
  private startMs = 0;
  private used = 0;

  /** Counts one request; the headers for its answer and whether it is over the limit. */
  take(q: Quota, nowMs = Date.now()): { over: boolean; headers: Record<string, string> } {
    if (nowMs - this.startMs >= q.windowMs) {
      this.startMs = nowMs;
      this.used = 0;
    }
    this.used++;
    const resetSec = Math.max(0, (this.startMs + q.windowMs - nowMs) / 1000);
    return {
      over: this.used > q.limit,
      headers: {
        'RateLimit-Remaining': String(Math.max(0, q.limit - this.used)),
        'RateLimit-Reset': resetSec.toFixed(3),
      },
    };
  }
}

/** The headers of a 429 from the fault draw or the quota, per the route's `rateLimitHeaders`. */
export function tooManyHeaders(
  f: RouteFaults,
  quotaHeaders: Record<string, string> | null,
): Record<string, string> {
  const retryAfter =
    quotaHeaders === null
      ? String(f.retryAfterSec)
      : String(Math.ceil(Number(quotaHeaders['RateLimit-Reset'])));
  const rl = quotaHeaders ?? { 'RateLimit-Remaining': '0', 'RateLimit-Reset': String(f.retryAfterSec) };
  switch (f.rateLimitHeaders) {
    case 'retry-after':
      return { 'Retry-After': retryAfter };
    case 'ratelimit':
      return rl;
    case 'both':
      return { ...rl, 'Retry-After': retryAfter };
  }
}
