import type { Clock } from '../core/clock.js';

/**
 * When W&B answers 429 with Retry-After, that instruction holds for every request, not only the one
 * that got it: new attempts wait at this gate instead of hammering the server (and collecting more
 * 429s) until the time has passed.
 */
export class ThrottleGate {
  private untilMs = 0;

  constructor(
    private readonly clock: Clock,
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
  ) {}

  holdFor(ms: number): void {
    this.untilMs = Math.max(this.untilMs, this.clock.nowMs() + ms);
  }

  async wait(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const ms = this.untilMs - this.clock.nowMs();
      if (ms <= 0) return;
      await this.sleep(ms, signal);
    }
  }
}
