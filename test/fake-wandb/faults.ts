/** Fault knobs, mutable at runtime by tests. Rates are probabilities in [0, 1] drawn from a seeded PRNG. */
import { Prng } from './prng.js';
import type { Quota, RateLimitHeaders } from './rate-limit.js';

export interface RouteFaults {
  /** added delay before every response */
  latencyMs: number;
  /** probability of 429 Too Many Requests (with Retry-After: retryAfterSec) */
  rate429: number;
  retryAfterSec: number;
  rate500: number;
  rate503: number;
  /** probability the connection is destroyed without any response */
  resetRate: number;
  /** what a 429 carries: Retry-After, RateLimit-Remaining/-Reset, or both */
  rateLimitHeaders: RateLimitHeaders;
  /** a request quota: every answer carries RateLimit-* headers, requests over it get 429; null = none */
  quota: Quota | null;
}

export interface StorageFaults extends RouteFaults {
  /** per-connection body rate cap; 0 = unlimited */
  bandwidthBytesPerSec: number;
  /** destroy the socket after this many body bytes; null = off (0 = right after the headers) */
  resetAfterBytes: number | null;
  /** flip the first body byte of every response so the digest mismatches */
  corrupt: boolean;
  /** send headers and up to stallAfterBytes body bytes, then never finish */
  stall: boolean;
  stallAfterBytes: number;
  /** every signed URL answers as expired (see expiryStyle); the authenticated fallbacks still serve */
  expireUrls: boolean;
  /**
   * How an expired signed URL answers: 'gcs' = HTTP 400 with `<Code>ExpiredToken</Code>` (Google
   * Cloud Storage, where W&B SaaS keeps files), 's3' = HTTP 403 AccessDenied.
   */
  expiryStyle: ExpiryStyle;
  /**
   * Once storage has sent this many body bytes (Counters.storageBytes), every URL signed so far
   * expires, as if the download outlived their lifetime; URLs signed afterwards work. One-shot:
   * it resets to null when it fires.
   */
  expireIssuedAtBytes: number | null;
  /** the authenticated fallback URLs (File.url, /artifactsV2/) answer this status; null = serve */
  fallbackStatus: number | null;
}

export type ExpiryStyle = 'gcs' | 's3';

export interface Faults {
  graphql: RouteFaults;
  storage: StorageFaults;
  /**
   * The reference entries' stand-in stores (external.ts): not W&B, so W&B's faults never reach them;
   * only their body faults (bandwidth, resets, stalls) are applied, set here on their own.
   */
  external: StorageFaults;
}

function routeDefaults(): RouteFaults {
  return {
    latencyMs: 0,
    rate429: 0,
    retryAfterSec: 1,
    rate500: 0,
    rate503: 0,
    resetRate: 0,
    rateLimitHeaders: 'retry-after',
    quota: null,
  };
}

export function defaultFaults(expiryStyle: ExpiryStyle = 's3'): Faults {
  return {
    graphql: routeDefaults(),
    storage: storageDefaults(expiryStyle),
    external: storageDefaults('s3'),
  };
}

function storageDefaults(expiryStyle: ExpiryStyle): StorageFaults {
  return {
    ...routeDefaults(),
    bandwidthBytesPerSec: 0,
    resetAfterBytes: null,
    corrupt: false,
    stall: false,
    stallAfterBytes: 64 * 1024,
    expireUrls: false,
    expiryStyle,
    expireIssuedAtBytes: null,
    fallbackStatus: null,
  };
}

export type FaultOutcome = 'ok' | 'reset' | 429 | 500 | 503;

export const FAULT_SEED = 0xfa017;

/** One draw per request, in request order: same requests => same faults. */
export function drawFault(prng: Prng, f: RouteFaults): FaultOutcome {
  if (f.resetRate <= 0 && f.rate429 <= 0 && f.rate500 <= 0 && f.rate503 <= 0) return 'ok';
  let x = prng.next();
  for (const [rate, outcome] of [
    [f.resetRate, 'reset'],
    [f.rate429, 429],
    [f.rate500, 500],
    [f.rate503, 503],
  ] as const) {
    if (x < rate) return outcome;
    x -= rate;
  }
  return 'ok';
}
