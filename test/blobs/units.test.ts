import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkMap } from '../../src/blobs/chunk-map.js';
import { planEviction } from '../../src/blobs/evict-policy.js';
import { ProgressWatch, STALL_PROGRESS_BYTES } from '../../src/blobs/progress-watch.js';
import { defaultCacheDir, defaultSdkCacheDir } from '../../src/core/cache-dir.js';
import { ConfigError } from '../../src/core/errors.js';
import { formatBytes, parseDuration, parseSize } from '../../src/core/units.js';

describe('units', () => {
  it('parses sizes in binary units', () => {
    assert.equal(parseSize('50G'), 50 * 1024 ** 3);
    assert.equal(parseSize('512MiB'), 512 * 1024 ** 2);
    assert.equal(parseSize('1.5k'), 1536);
    assert.equal(parseSize('1t'), 1024 ** 4);
    assert.equal(parseSize('123'), 123);
    for (const bad of ['', 'G', '5X', '-1G', '1 2']) assert.throws(() => parseSize(bad), ConfigError, bad);
  });
  it('parses durations', () => {
    assert.equal(parseDuration('30d'), 30 * 86_400_000);
    assert.equal(parseDuration('1h30m'), 90 * 60_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2w'), 14 * 86_400_000);
    assert.equal(parseDuration('90'), 90_000);
    for (const bad of ['', 'd', '3x', '1h 2m', 'h1'])
      assert.throws(() => parseDuration(bad), ConfigError, bad);
  });
  it('formats bytes', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1536), '1.50 KiB');
    assert.equal(formatBytes(50 * 1024 ** 3), '50.0 GiB');
  });
  it('resolves cache dirs from the environment', () => {
    assert.equal(defaultCacheDir({}, '/home/u'), '/home/u/.cache/wandbfs');
    assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x' }, '/home/u'), '/x/wandbfs');
    assert.equal(defaultSdkCacheDir({}, '/home/u'), '/home/u/.cache/wandb');
    assert.equal(defaultSdkCacheDir({ WANDB_CACHE_DIR: '/w' }, '/home/u'), '/w');
    assert.equal(defaultSdkCacheDir({ XDG_CACHE_HOME: '/x' }, '/home/u'), '/x/wandb', 'as the SDK finds it');
    assert.equal(defaultSdkCacheDir({ XDG_CACHE_HOME: '/x', WANDB_CACHE_DIR: '/w' }, '/home/u'), '/w');
  });
});

describe('evict policy', () => {
  const c = (key: string, sizeBytes: number, accessedAtMs: number, pinned = false) => ({
    key,
    sizeBytes,
    accessedAtMs,
    pinned,
  });
  it('removes least recently used first until under the size goal, skipping pinned', () => {
    const plan = planEviction(
      [c('new', 10, 300), c('old', 10, 100), c('pinned', 10, 50, true), c('mid', 10, 200)],
      {
        maxTotalBytes: 20,
      },
    );
    assert.deepEqual(
      plan.evict.map((x) => x.key),
      ['old', 'mid'],
    );
    assert.deepEqual(
      plan.skippedPinned.map((x) => x.key),
      ['pinned'],
    );
    assert.equal(plan.remainingBytes, 20);
    assert.equal(plan.satisfied, true);
  });
  it('frees needed bytes and reports when pins make that impossible', () => {
    const plan = planEviction([c('a', 5, 1, true), c('b', 5, 2)], { needBytes: 8 });
    assert.deepEqual(
      plan.evict.map((x) => x.key),
      ['b'],
    );
    assert.equal(plan.satisfied, false);
  });
  it('removes by age regardless of size', () => {
    const plan = planEviction([c('a', 5, 1), c('b', 5, 2), c('c', 5, 3)], { accessedBeforeMs: 3 });
    assert.deepEqual(
      plan.evict.map((x) => x.key),
      ['a', 'b'],
    );
  });
});

describe('chunk map', () => {
  it('maps byte ranges to chunks, last chunk short', () => {
    const m = new ChunkMap(25, 10);
    assert.equal(m.count, 3);
    assert.deepEqual([...m.chunksIn(9, 21)], [0, 1, 2]);
    assert.deepEqual([...m.chunksIn(10, 10)], []);
    assert.equal(m.end(2), 25);
    m.setDone(2);
    m.setDone(2);
    assert.equal(m.doneBytes(), 5);
    assert.equal(m.allDone(), false);
    m.setDone(0);
    m.setDone(1);
    assert.equal(m.allDone(), true);
  });
});

describe('progress watch', () => {
  it('restarts the stall clock on a finished chunk or a MiB more, not on a trickle', () => {
    const w = new ProgressWatch(0, 0);
    w.written(64 * 1024, 1000, false);
    w.written(128 * 1024, 2000, false);
    assert.equal(w.idleMs(3000), 3000, 'a trickle of 64 KiB per second is no progress');
    w.written(STALL_PROGRESS_BYTES, 3000, false);
    assert.equal(w.idleMs(3500), 500, 'a MiB since the last mark is');
    w.written(STALL_PROGRESS_BYTES + 10, 4000, true);
    assert.equal(w.idleMs(4000), 0, 'so is a finished chunk, however small');
    w.touch(5000);
    assert.equal(w.idleMs(5000), 0, 'and waiting for the reader');
    w.written(0, 6000, false);
    w.written(STALL_PROGRESS_BYTES, 7000, false);
    assert.equal(w.idleMs(7000), 0, 'after the fill started over, a MiB counts from its new start');
  });
});
