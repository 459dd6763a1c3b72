/**
 * W&B's rate-limit headers: `RateLimit-Remaining` / `RateLimit-Reset` slow the shared throttle down
 * before a 429 and set the wait after one, with or without `Retry-After`.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { rateLimitOf, retryDelayOf } from '../../src/api/rate-limit.js';
import { sleepAbortable } from '../../src/api/retry.js';
import { ThrottleGate } from '../../src/api/throttle.js';
import { ManualClock } from '../../src/core/clock.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { apiFor } from './helpers.js';

const headers =
  (h: Record<string, string>) =>
  (name: string): string | undefined =>
    h[name];

describe('rate-limit headers', () => {
  it('parse RateLimit-Remaining and fractional RateLimit-Reset; garbage is absent', () => {
    assert.deepEqual(rateLimitOf(headers({ 'ratelimit-remaining': '12', 'ratelimit-reset': '1.5' })), {
      remaining: 12,
      resetMs: 1500,
    });
    assert.deepEqual(rateLimitOf(headers({ 'ratelimit-remaining': '-1', 'ratelimit-reset': 'soon' })), {
      remaining: undefined,
      resetMs: undefined,
    });
  });

  it('a 429 waits Retry-After when given, else RateLimit-Reset; other answers only Retry-After', () => {
    assert.equal(retryDelayOf(headers({ 'retry-after': '2', 'ratelimit-reset': '9' }), 429, 0), 2000);
    assert.equal(retryDelayOf(headers({ 'ratelimit-remaining': '0', 'ratelimit-reset': '3' }), 429, 0), 3000);
    assert.equal(retryDelayOf(headers({ 'ratelimit-reset': '3' }), 503, 0), undefined);
  });

  it('the gate spaces requests over the window when few are left, and holds them all at 0', async () => {
    const clock = new ManualClock(0);
    const slept: number[] = [];
    const gate = new ThrottleGate(
      clock,
      async (ms) => {
        slept.push(ms);
        clock.advance(ms);
      },
      50,
    );
    assert.equal(gate.observe({ remaining: 900, resetMs: 1000 }), false);
    await gate.wait();
    assert.deepEqual(slept, []);
    assert.equal(gate.observe({ remaining: 10, resetMs: 1000 }), true);
    await Promise.all([gate.wait(), gate.wait(), gate.wait()]);
    assert.deepEqual(slept, [100, 100]);
    assert.equal(clock.nowMs(), 200, 'three waiters took the slots at 0, 100 and 200 ms');
    slept.length = 0;
    assert.equal(gate.observe({ remaining: 0, resetMs: 4000 }), true);
    await gate.wait();
    assert.equal(slept[0], 4000);
    clock.advance(10_000);
    slept.length = 0;
    await gate.wait();
    assert.deepEqual(slept, [], 'the spacing ends with its window');
  });
});

describe('rate limits against the fake server', () => {
  let fake: FakeWandb;
  before(async () => {
    fake = await startFakeWandb({ fixture: 'demo' });
  });
  after(async () => fake.close());
  beforeEach(() => {
    fake.resetFaults();
    fake.resetCounters();
  });

  it('a 429 with only RateLimit-Reset is retried after that reset', async () => {
    const slept: number[] = [];
    const api = apiFor(fake, {
      retryDeps: {
        sleep: async (ms, signal) => {
          slept.push(ms);
          fake.faults.graphql.rate429 = 0;
          await sleepAbortable(ms, signal);
        },
      },
    });
    fake.faults.graphql.rate429 = 1;
    fake.faults.graphql.rateLimitHeaders = 'ratelimit';
    fake.faults.graphql.retryAfterSec = 1;
    assert.equal((await api.viewer()).username, fake.fixture.viewer.username);
    assert.equal(fake.counters.statusCounts['429'], 1);
    assert.ok(slept[0]! >= 1000 && slept[0]! <= 1100, `waited the 1 s reset: ${JSON.stringify(slept)}`);
    api.close();
  });

  it('a quota of 20 requests per second: 60 concurrent requests slow down and (almost) never meet 429', async () => {
    fake.faults.graphql.quota = { limit: 20, windowMs: 1000 };
    fake.faults.graphql.rateLimitHeaders = 'ratelimit';
    const api = apiFor(fake, { graphqlConcurrency: 4 });
    const t0 = Date.now();
    const all = await Promise.all(Array.from({ length: 60 }, () => api.viewer()));
    const took = Date.now() - t0;
    assert.equal(all.length, 60);
    const tooMany = fake.counters.statusCounts['429'] ?? 0;
    assert.ok(tooMany <= 4, `429s: ${tooMany}`);
    assert.ok(took >= 1500, `spread over the windows: ${took} ms`);
    assert.ok(api.stats().rateLimited > 0, 'the slowdown is visible in stats');
    api.close();
  });
});
