import { parseRetryAfter } from './retry.js';

/** Reads one response header (fetch Headers.get or node:http headers), undefined when absent. */
export type HeaderGet = (name: string) => string | null | undefined;

/** What W&B says about its rate limit on a response (`RateLimit-Remaining` 0–1000, `RateLimit-Reset`). */
export interface RateLimitInfo {
  /** requests left in the current window */
  remaining: number | undefined;
  /** until the window resets */
  resetMs: number | undefined;
}

function seconds(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  return /^\d+(\.\d+)?$/.test(v) ? Math.round(Number(v) * 1000) : undefined;
}

export function rateLimitOf(get: HeaderGet): RateLimitInfo {
  const r = get('ratelimit-remaining')?.trim();
  return {
    remaining: r !== undefined && /^\d+$/.test(r) ? Number(r) : undefined,
    resetMs: seconds(get('ratelimit-reset')),
  };
}

/**
 * How long to wait before retrying this answer: `Retry-After` when present, else for a 429 the
 * `RateLimit-Reset` of the window (W&B may send either or both).
 */
export function retryDelayOf(get: HeaderGet, status: number, nowMs: number): number | undefined {
  const retryAfter = parseRetryAfter(get('retry-after'), nowMs);
  if (retryAfter !== undefined || status !== 429) return retryAfter;
  return rateLimitOf(get).resetMs;
}

/** node:http's header record as a HeaderGet. */
export function nodeHeaders(headers: Record<string, string | string[] | undefined>): HeaderGet {
  return (name) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
}
