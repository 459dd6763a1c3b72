import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError, NotFoundError, RateLimitedError, TransientError } from '../../src/api/errors.js';
import type { RetryDeps, RetryPolicy } from '../../src/api/retry.js';
import { backoffDelayMs, parseRetryAfter, withRetry } from '../../src/api/retry.js';
import { ManualClock } from '../../src/core/clock.js';
import { AbortedError } from '../../src/core/errors.js';

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, deadlineMs: 10_000 };

function fakeDeps(random = 0.5): { deps: RetryDeps; clock: ManualClock; sleeps: number[] } {
  const clock = new ManualClock(1_000_000);
  const sleeps: number[] = [];
  const deps: RetryDeps = {
    clock,
    random: () => random,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
  };
  return { deps, clock, sleeps };
}

describe('retry policy', () => {
  it('parses Retry-After as seconds or HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter('1.5', now), 1500);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:07 GMT', now), 7000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(parseRetryAfter('-1', now), undefined);
  });

  it('backs off exponentially with jitter, capped, and honours Retry-After exactly (+<=10%)', () => {
    assert.equal(
      backoffDelayMs(policy, 1, () => 0),
      50,
    );
    assert.equal(
      backoffDelayMs(policy, 1, () => 0.999),
      99,
    );
    assert.equal(
      backoffDelayMs(policy, 3, () => 0),
      200,
    );
    assert.equal(
      backoffDelayMs(policy, 30, () => 0.999),
      999,
    );
    assert.equal(
      backoffDelayMs(policy, 1, () => 0, 5000),
      5000,
    );
    assert.equal(
      backoffDelayMs(policy, 1, () => 0.999, 5000),
      5499,
    );
  });

  it('retries transient and rate-limit errors, then succeeds', async () => {
    const { deps, sleeps } = fakeDeps();
    let calls = 0;
    const out = await withRetry(
      async () => {
        calls++;
        if (calls === 1) throw new TransientError('503');
        if (calls === 2) throw new RateLimitedError('429', 2000);
        return 'ok';
      },
      { policy, deps },
    );
    assert.equal(out, 'ok');
    assert.equal(calls, 3);
    assert.equal(sleeps.length, 2);
    assert.ok(sleeps[1]! >= 2000, 'Retry-After honoured');
  });

  for (const err of [new AuthError(), new NotFoundError('x'), new Error('bug')]) {
    it(`never retries ${err.constructor.name}`, async () => {
      const { deps, sleeps } = fakeDeps();
      let calls = 0;
      await assert.rejects(
        withRetry(
          async () => {
            calls++;
            throw err;
          },
          { policy, deps },
        ),
        (e) => e === err,
      );
      assert.equal(calls, 1);
      assert.equal(sleeps.length, 0);
    });
  }

  it('gives up after maxAttempts with the last typed error', async () => {
    const { deps } = fakeDeps();
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw new RateLimitedError(`429 #${calls}`);
        },
        { policy, deps },
      ),
      (e) => e instanceof RateLimitedError && e.message === '429 #5',
    );
    assert.equal(calls, 5);
  });

  it('stops before a sleep that would cross the deadline', async () => {
    const { deps, clock } = fakeDeps();
    const start = clock.nowMs();
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw new RateLimitedError('429', 4000);
        },
        { policy: { ...policy, maxAttempts: 100 }, deps },
      ),
      RateLimitedError,
    );
    assert.ok(clock.nowMs() - start <= policy.deadlineMs);
    assert.equal(calls, 3); // sleeps of ~4.2 s: the third would end past 10 s
  });

  it('restarts the budget when the failed attempt made progress', async () => {
    const { deps } = fakeDeps();
    let calls = 0;
    let progress = 0;
    let seen = 0;
    const out = await withRetry(
      async () => {
        calls++;
        if (calls < 12) {
          progress++;
          throw new TransientError('reset mid-body');
        }
        return calls;
      },
      {
        policy,
        deps,
        madeProgress: () => {
          const moved = progress > seen;
          seen = progress;
          return moved;
        },
      },
    );
    assert.equal(out, 12);
  });

  it('aborts promptly when the signal fires', async () => {
    const ac = new AbortController();
    const { deps } = fakeDeps();
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          ac.abort();
          throw new TransientError('503');
        },
        { policy, deps, signal: ac.signal },
      ),
      AbortedError,
    );
    assert.equal(calls, 1);
  });
});
