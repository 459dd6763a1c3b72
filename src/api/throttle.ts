import type { Clock } from '../core/clock.js';
import type { RateLimitInfo } from './rate-limit.js';

/** Below this many requests left in W&B's window, requests are spaced out over what is left of it. */
export const RATE_LIMIT_LOW_WATER = 50;

/**
 * The one throttle every GraphQL request passes. A 429's Retry-After (or RateLimit-Reset) holds for
 * every request, not only the one that got it: new attempts wait here instead of collecting more
 * 429s. Before any 429, `RateLimit-Remaining` running low spaces requests evenly over the rest of the
 * window (`RateLimit-Reset`), and 0 holds them until the window resets.
 */
export class ThrottleGate {
  private untilMs = 0;
  private spacingMs = 0;
  private spacingUntilMs = 0;
  private nextSlotMs = 0;

  constructor(
    private readonly clock: Clock,
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
    private readonly lowWater = RATE_LIMIT_LOW_WATER,
  ) {}

  holdFor(ms: number): void {
    this.untilMs = Math.max(this.untilMs, this.clock.nowMs() + ms);
  }

  /** Adapts to the rate-limit headers of any answer. Returns true when it slowed requests down. */
  observe(info: RateLimitInfo): boolean {
    const { remaining, resetMs } = info;
    if (remaining === undefined || resetMs === undefined) return false;
    const now = this.clock.nowMs();
    if (remaining <= 0) {
      this.holdFor(resetMs);
      return true;
    }
    if (remaining >= this.lowWater) {
      this.spacingMs = 0;
      return false;
    }
    this.spacingMs = resetMs / remaining;
    this.spacingUntilMs = now + resetMs;
    return true;
  }

  async wait(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.nowMs();
      const ms = this.untilMs - now;
      if (ms > 0) {
        await this.sleep(ms, signal);
        continue;
      }
      if (this.spacingMs <= 0 || now >= this.spacingUntilMs) return;
      // Each caller takes the next free slot, so N waiters spread out instead of leaving together.
      const slot = Math.max(now, this.nextSlotMs);
      this.nextSlotMs = slot + this.spacingMs;
      if (slot > now) await this.sleep(slot - now, signal);
      return;
    }
  }
}
