import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { AbortedError } from '../core/errors.js';
import { RateLimitedError, TransientError } from './errors.js';

/**
 * When to try again. Only RateLimitedError and TransientError are retried (429, 5xx, resets,
 * timeouts, stalls); everything else (400/401/403/404, GraphQL errors) fails at once.
 */
export interface RetryPolicy {
  /** attempts in total, the first included */
  maxAttempts: number;
  /** first backoff; doubles per retry */
  baseDelayMs: number;
  /** cap of one computed backoff (a server's Retry-After is honoured even when longer) */
  maxDelayMs: number;
  /** total budget from the first attempt; no sleep is started that would end past it */
  deadlineMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 10,
  baseDelayMs: 250,
  maxDelayMs: 20_000,
  deadlineMs: 120_000,
};

export interface RetryDeps {
  clock: Clock;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** uniform in [0, 1) */
  random: () => number;
}

export const systemRetryDeps: RetryDeps = { clock: systemClock, sleep: sleepAbortable, random: Math.random };

export interface RetryInfo {
  /** the attempt that just failed (1-based) */
  attempt: number;
  delayMs: number;
  error: RateLimitedError | TransientError;
}

export interface AttemptContext {
  attempt: number;
  /** what is left of the deadline; an attempt may shorten its own timeout to it */
  remainingMs: number;
}

export function isRetryable(err: unknown): err is RateLimitedError | TransientError {
  return err instanceof RateLimitedError || err instanceof TransientError;
}

/**
 * Delay before retry number `retry` (1-based). Without Retry-After: exponential with "equal jitter"
 * (half fixed, half random) so a burst of clients that failed together spreads out. With Retry-After:
 * exactly that plus up to 10% (max 1 s) so the herd does not return in the same millisecond.
 */
export function backoffDelayMs(
  policy: RetryPolicy,
  retry: number,
  random: () => number,
  retryAfterMs?: number,
): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) {
    return retryAfterMs + Math.floor(random() * Math.min(1000, retryAfterMs * 0.1));
  }
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(exp / 2 + random() * (exp / 2));
}

/** Retry-After as delta-seconds (fractions allowed) or an HTTP date; undefined when absent or garbage. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  // HTTP dates always name a weekday/month; this keeps Date.parse from reading '-1' as a year.
  if (!/[A-Za-z]/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export async function withRetry<T>(
  fn: (ctx: AttemptContext) => Promise<T>,
  options: {
    policy: RetryPolicy;
    deps?: RetryDeps;
    signal?: AbortSignal;
    onRetry?: (info: RetryInfo) => void;
    /**
     * Long transfers: when the failed attempt still moved forward (bytes delivered), the attempt count
     * and the deadline start over, so a connection that resets every few hundred MiB still finishes.
     */
    madeProgress?: () => boolean;
  },
): Promise<T> {
  const { policy, signal } = options;
  const deps = options.deps ?? systemRetryDeps;
  let start = deps.clock.nowMs();
  let streakFirst = 1;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new AbortedError();
    try {
      return await fn({
        attempt,
        remainingMs: Math.max(0, policy.deadlineMs - (deps.clock.nowMs() - start)),
      });
    } catch (err) {
      if (signal?.aborted) throw err instanceof AbortedError ? err : new AbortedError();
      if (!isRetryable(err)) throw err;
      if (options.madeProgress?.()) {
        start = deps.clock.nowMs();
        streakFirst = attempt;
      }
      if (attempt - streakFirst + 1 >= policy.maxAttempts) throw err;
      const delayMs = backoffDelayMs(policy, attempt - streakFirst + 1, deps.random, err.retryAfterMs);
      if (deps.clock.nowMs() - start + delayMs > policy.deadlineMs) throw err;
      options.onRetry?.({ attempt, delayMs, error: err });
      await deps.sleep(delayMs, signal);
    }
  }
}

/** setTimeout as a promise that rejects with AbortedError when `signal` fires. */
export function sleepAbortable(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
