/**
 * Freshness policy: pure functions of stored fetch state, a TTL and the current time. No I/O, no
 * clock reads, so every rule is testable without sleeping. The table in docs/semantics.md mirrors it.
 */

export interface Ttls {
  /** lists of projects, runs, collections, versions (with their aliases), sweeps, sweep runs */
  listingMs: number;
  /** file list + metadata of a run in a terminal state */
  terminalRunMs: number;
  /** file list + metadata of a running (or any non-terminal) run */
  activeRunMs: number;
  /** how long a name W&B said does not exist stays "does not exist" without asking again */
  negativeMs: number;
  /** after a failed fetch, how long readers are served what is stored without waiting on a retry */
  errorBackoffMs: number;
}

export const DEFAULT_TTLS: Ttls = {
  listingMs: 60_000,
  terminalRunMs: 10 * 60_000,
  activeRunMs: 30_000,
  negativeMs: 5_000,
  errorBackoffMs: 5_000,
};

/** Cached forever: committed artifact versions, their manifests and metadata. */
export const IMMUTABLE = Number.POSITIVE_INFINITY;

const TERMINAL_RUN_STATES = new Set(['finished', 'crashed', 'failed', 'killed']);

export function isTerminalRunState(state: string | null | undefined): boolean {
  return state != null && TERMINAL_RUN_STATES.has(state.toLowerCase());
}

export function runTtlMs(state: string | null | undefined, ttls: Ttls): number {
  return isTerminalRunState(state) ? ttls.terminalRunMs : ttls.activeRunMs;
}

export function isCommittedVersion(state: string): boolean {
  return state.toUpperCase() === 'COMMITTED';
}

/** What the store knows about one listing. */
export interface ListingState {
  /** last complete successful fetch; null = never completed */
  fetchedAtMs: number | null;
  /** marked stale by refresh() or a failed fetch */
  stale: boolean;
  errorAtMs: number | null;
}

/**
 * - `wait`: never completed; the caller must fetch and wait for the pages before answering
 * - `failed-recently`: never completed and a fetch failed moments ago; fail again without asking W&B
 * - `fresh`: answer from the store
 * - `revalidate`: answer from the store at once and refresh in the background
 */
export type Decision = 'wait' | 'failed-recently' | 'fresh' | 'revalidate';

export function decide(state: ListingState | null, ttlMs: number, nowMs: number, ttls: Ttls): Decision {
  const recentError = state?.errorAtMs != null && nowMs - state.errorAtMs < ttls.errorBackoffMs;
  if (state === null || state.fetchedAtMs === null) return recentError ? 'failed-recently' : 'wait';
  if (state.stale) return recentError ? 'fresh' : 'revalidate';
  if (ttlMs === IMMUTABLE) return 'fresh';
  if (nowMs - state.fetchedAtMs < ttlMs) return 'fresh';
  return recentError ? 'fresh' : 'revalidate';
}

/** Negative lookups: a name W&B answered "null" for stays absent until this time. */
export function negativeUntilMs(nowMs: number, ttls: Ttls): number {
  return nowMs + ttls.negativeMs;
}

/**
 * Until when `decide` keeps answering 'fresh' for this state without anything being written, or
 * `nowMs` when it does not answer 'fresh' now. Caches built on a listing (meta/path-cache.ts) are
 * trusted until then, so revalidation after the TTL still starts on time.
 */
export function freshUntilMs(state: ListingState | null, ttlMs: number, nowMs: number, ttls: Ttls): number {
  if (state === null || decide(state, ttlMs, nowMs, ttls) !== 'fresh') return nowMs;
  const byTtl = state.stale || state.fetchedAtMs === null ? -Infinity : state.fetchedAtMs + ttlMs;
  const byError = state.errorAtMs === null ? -Infinity : state.errorAtMs + ttls.errorBackoffMs;
  return Math.max(byTtl, byError, nowMs);
}
