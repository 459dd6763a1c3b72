import type { Clock } from '../core/clock.js';
import type { ApiStats } from './client-interface.js';

/** Counters behind WandbApi.stats(); one instance per client, shared by GraphQL and storage paths. */
export class StatsRecorder {
  private s: ApiStats = {
    graphqlRequests: 0,
    storageRequests: 0,
    retries: 0,
    rateLimited: 0,
    lastThrottleAtMs: null,
  };

  constructor(private readonly clock: Clock) {}

  graphqlRequest(): void {
    this.s.graphqlRequests++;
  }
  storageRequest(): void {
    this.s.storageRequests++;
  }
  retry(): void {
    this.s.retries++;
  }
  /** a 429 (or a Retry-After on another status) was seen */
  throttled(): void {
    this.s.rateLimited++;
    this.s.lastThrottleAtMs = this.clock.nowMs();
  }
  snapshot(): ApiStats {
    return { ...this.s };
  }
}
