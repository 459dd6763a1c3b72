import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileUrls } from '../../src/api/fallback-url.js';
import { SignedUrlCache } from '../../src/api/signed-urls.js';

const u = (direct: string): FileUrls => ({ direct, fallback: null });
import { ThrottleGate } from '../../src/api/throttle.js';
import { ManualClock } from '../../src/core/clock.js';
import { AbortedError } from '../../src/core/errors.js';

describe('SignedUrlCache', () => {
  it('shares one lookup between concurrent callers and reuses it within the TTL', async () => {
    const clock = new ManualClock(0);
    const cache = new SignedUrlCache(clock, 1000);
    let lookups = 0;
    const resolve = async (): Promise<FileUrls> => u(`u${++lookups}`);
    const [a, b] = await Promise.all([cache.get('k', resolve), cache.get('k', resolve)]);
    assert.deepEqual([a.direct, b.direct, lookups], ['u1', 'u1', 1]);
    clock.advance(999);
    assert.equal((await cache.get('k', resolve)).direct, 'u1');
    clock.advance(2);
    assert.equal((await cache.get('k', resolve)).direct, 'u2');
  });

  it('invalidates only the URL that failed (a sibling may have refreshed it already)', async () => {
    const cache = new SignedUrlCache(new ManualClock(0), 60_000);
    let n = 0;
    const resolve = async (): Promise<FileUrls> => u(`u${++n}`);
    assert.equal((await cache.get('k', resolve)).direct, 'u1');
    await cache.invalidate('k', 'u1');
    assert.equal((await cache.get('k', resolve)).direct, 'u2');
    await cache.invalidate('k', 'u1'); // stale report: u2 stays
    assert.equal((await cache.get('k', resolve)).direct, 'u2');
  });

  it('a failed lookup is not cached; an aborted waiter does not fail the others', async () => {
    const cache = new SignedUrlCache(new ManualClock(0), 60_000);
    await assert.rejects(
      cache.get('k', async () => Promise.reject(new Error('nope'))),
      /nope/,
    );
    let release!: (v: FileUrls) => void;
    const slow = new Promise<FileUrls>((r) => (release = r));
    const ac = new AbortController();
    const a = cache.get('k', () => slow, ac.signal);
    const b = cache.get('k', () => slow);
    ac.abort();
    await assert.rejects(a, AbortedError);
    release(u('late'));
    assert.equal((await b).direct, 'late');
  });

  it('stays bounded', async () => {
    const cache = new SignedUrlCache(new ManualClock(0), 60_000, 3);
    let n = 0;
    for (const k of ['a', 'b', 'c', 'd']) await cache.get(k, async () => u(`${k}${++n}`));
    assert.equal((await cache.get('a', async () => u(`a${++n}`))).direct, 'a5'); // 'a' was evicted
    assert.equal((await cache.get('d', async () => u(`d${++n}`))).direct, 'd4');
  });
});

describe('ThrottleGate', () => {
  it('holds every waiter until the Retry-After time, then lets them through', async () => {
    const clock = new ManualClock(0);
    const slept: number[] = [];
    const gate = new ThrottleGate(clock, async (ms) => {
      slept.push(ms);
      clock.advance(ms);
    });
    await gate.wait();
    assert.deepEqual(slept, []);
    gate.holdFor(3000);
    gate.holdFor(1000); // a shorter hold never shortens a longer one
    await gate.wait();
    assert.deepEqual(slept, [3000]);
    await gate.wait();
    assert.deepEqual(slept, [3000]);
  });
});
