import { OfflineError } from '../api/connectivity.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { decide, type Ttls } from './freshness.js';
import { OfflineMissError } from './errors.js';
import type { MetaStore } from './store/index.js';

/** Fetches one listing: pages written with generation `gen`, vanished rows dropped at the end. */
export type Fetch = (gen: number, signal: AbortSignal) => Promise<void>;

/** A complete listing that arrived inside another one's pages: `write` stores it with generation `gen`. */
export interface InlineListing {
  key: string;
  write: (gen: number) => void;
}

/** Where fetchers hand listings that came complete inside another listing (Syncer.recordInline). */
export type InlineSink = (listings: InlineListing[]) => void;

/**
 * Stale-while-revalidate over listings. A listing never fetched is waited for; one fetched before
 * is answered from the store at once and, when its TTL has passed, refreshed in the background.
 * At most one fetch per listing is in flight (single-flight map); concurrent callers share it.
 */
export class Syncer {
  private readonly inflight = new Map<string, Promise<void>>();
  /** the typed error of the last failed fetch per listing, rethrown while nothing is stored */
  private readonly errors = new Map<string, unknown>();
  private readonly abort = new AbortController();
  /** listings whose fetch failed because W&B was unreachable: fetched again once it answers */
  private readonly afterReconnect = new Map<string, Fetch>();
  private lastErrorText: string | null = null;
  private closed = false;
  /** number of fetches started (for tests and status) */
  fetchesStarted = 0;

  constructor(
    private readonly store: MetaStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly ttls: Ttls,
  ) {}

  /**
   * Makes the listing usable before the caller reads the store. Throws only when the listing was
   * never completed and fetching it failed (or failed moments ago): then nothing can be answered.
   */
  async ensure(key: string, ttlMs: number, fetch: Fetch): Promise<void> {
    const state = this.store.listing(key);
    const decision = decide(state, ttlMs, this.clock.nowMs(), this.ttls);
    switch (decision) {
      case 'fresh':
        return;
      case 'revalidate':
        this.background(key, fetch);
        return;
      case 'failed-recently':
        // e.g. the refetch started on reconnect: its answer beats the error of minutes ago
        if (this.inflight.has(key)) return this.run(key, fetch);
        throw this.errors.get(key) ?? new OfflineMissError(key);
      case 'wait':
        await this.run(key, fetch);
        return;
    }
  }

  /** Starts (or joins) a fetch of `key` and waits for it. */
  run(key: string, fetch: Fetch): Promise<void> {
    const existing = this.inflight.get(key);
    if (existing) return existing;
    if (this.closed) return Promise.reject(new OfflineMissError(key));
    this.fetchesStarted++;
    const p = this.fetchOnce(key, fetch).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /**
   * Records listings whose complete contents arrived inside another fetch (a run's files and
   * artifacts on the runs page) exactly as if their own fetch had just completed: a new generation,
   * rows written with it, vanished rows dropped, fetched now. All in one transaction. A listing whose
   * own fetch is in flight is left to that fetch (its generation must stay the newest).
   */
  recordInline(listings: InlineListing[]): void {
    if (this.closed || listings.length === 0) return;
    const nowMs = this.clock.nowMs();
    const done: string[] = [];
    this.store.transaction(() => {
      for (const l of listings) {
        if (this.inflight.has(l.key)) continue;
        const gen = this.store.beginPass(l.key, nowMs);
        l.write(gen);
        this.store.completePass(l.key, nowMs);
        done.push(l.key);
      }
    });
    for (const key of done) this.errors.delete(key);
  }

  /** Starts (or joins) a fetch without waiting; failures are recorded, not thrown. */
  background(key: string, fetch: Fetch): void {
    this.run(key, fetch).catch(() => {
      // recorded in fetchOnce; the store keeps serving the previous rows
    });
  }

  private async fetchOnce(key: string, fetch: Fetch): Promise<void> {
    const gen = this.store.beginPass(key, this.clock.nowMs());
    try {
      await fetch(gen, this.abort.signal);
      if (this.closed) return;
      this.store.completePass(key, this.clock.nowMs());
      this.errors.delete(key);
    } catch (err) {
      if (this.closed) throw err;
      const text = errorMessage(err);
      this.store.failPass(key, this.clock.nowMs(), text);
      this.errors.set(key, err);
      this.lastErrorText = `${key}: ${text}`;
      if (err instanceof OfflineError) {
        // The connectivity layer logged going offline once; a line per listing would be noise.
        this.log.debug('listing not fetched: W&B unreachable', { key });
        this.refetchOnReconnect(key, fetch, err.reconnected);
      } else {
        this.log.warn('listing fetch failed; serving stored rows', { key, error: text });
      }
      throw err;
    }
  }

  /** Stale listings refresh on their own when W&B is back, without waiting for the next `ls`. */
  private refetchOnReconnect(key: string, fetch: Fetch, reconnected: Promise<void>): void {
    const waiting = this.afterReconnect.has(key);
    this.afterReconnect.set(key, fetch);
    if (waiting) return;
    void reconnected.then(() => {
      const latest = this.afterReconnect.get(key);
      this.afterReconnect.delete(key);
      if (latest && !this.closed) this.background(key, latest);
    });
  }

  inFlight(): number {
    return this.inflight.size;
  }

  lastError(): string | null {
    return this.lastErrorText ?? this.store.lastError();
  }

  /** Resolves when every fetch in flight has settled (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight.values()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    await Promise.allSettled([...this.inflight.values()]);
  }
}
