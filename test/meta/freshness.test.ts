import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, DEFAULT_TTLS, IMMUTABLE, isTerminalRunState, runTtlMs } from '../../src/meta/freshness.js';

const T = DEFAULT_TTLS;

test('a listing never fetched is waited for', () => {
  assert.equal(decide(null, T.listingMs, 1000, T), 'wait');
  assert.equal(decide({ fetchedAtMs: null, stale: false, errorAtMs: null }, T.listingMs, 1000, T), 'wait');
});

test('a listing never fetched whose fetch just failed fails fast, then is retried after the backoff', () => {
  const s = { fetchedAtMs: null, stale: true, errorAtMs: 1000 };
  assert.equal(decide(s, T.listingMs, 1000 + T.errorBackoffMs - 1, T), 'failed-recently');
  assert.equal(decide(s, T.listingMs, 1000 + T.errorBackoffMs, T), 'wait');
});

test('fresh within TTL, revalidate after it', () => {
  const s = { fetchedAtMs: 1000, stale: false, errorAtMs: null };
  assert.equal(decide(s, 60_000, 60_999, T), 'fresh');
  assert.equal(decide(s, 60_000, 61_000, T), 'revalidate');
});

test('immutable listings stay fresh forever unless forced stale', () => {
  const s = { fetchedAtMs: 0, stale: false, errorAtMs: null };
  assert.equal(decide(s, IMMUTABLE, 10 ** 13, T), 'fresh');
  assert.equal(decide({ ...s, stale: true }, IMMUTABLE, 10 ** 13, T), 'revalidate');
});

test('after a failed refresh the stored rows are served without hammering W&B', () => {
  const s = { fetchedAtMs: 0, stale: true, errorAtMs: 100_000 };
  assert.equal(decide(s, 60_000, 100_000 + T.errorBackoffMs - 1, T), 'fresh');
  assert.equal(decide(s, 60_000, 100_000 + T.errorBackoffMs, T), 'revalidate');
});

test('run TTL follows the run state', () => {
  for (const st of ['finished', 'crashed', 'failed', 'killed', 'FINISHED']) {
    assert.ok(isTerminalRunState(st), st);
    assert.equal(runTtlMs(st, T), 10 * 60_000);
  }
  for (const st of ['running', 'pending', 'preempting', 'preempted', null]) {
    assert.equal(isTerminalRunState(st), false, String(st));
    assert.equal(runTtlMs(st, T), 30_000);
  }
  assert.equal(runTtlMs('running', { ...T, activeRunMs: 5 }), 5);
});
