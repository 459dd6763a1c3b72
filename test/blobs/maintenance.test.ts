import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import type { Db } from '../../src/core/db.js';
import { digestKey, type Digest } from '../../src/core/digest.js';
import { BlobIndex } from '../../src/blobs/blob-index.js';
import { blobPath } from '../../src/blobs/path.js';
import { pruneCache } from '../../src/blobs/prune.js';
import { cacheStats } from '../../src/blobs/stats.js';
import { createBlobCache } from '../../src/blobs/store.js';
import { verifyCache } from '../../src/blobs/verify.js';
import { generate, md5Of, openTestDb, readAll, tempDir, TestSource } from './helpers.js';

const KiB = 1024;
const DAY = 86_400_000;

describe('cache maintenance', () => {
  let dir: string;
  let db: Db;
  const clock = new ManualClock(100 * DAY);
  const blobs: { digest: Digest; size: number }[] = [];

  /** Five blobs accessed on days 100..104 (blob i on day 100+i), sizes 100..500 KiB. */
  before(async () => {
    dir = await tempDir('maint');
    db = openTestDb(dir);
    const cache = createBlobCache({ dir, db, clock, sdkCacheDir: null, chunkBytes: 64 * KiB });
    const index = new BlobIndex(db);
    for (let i = 0; i < 5; i++) {
      clock.set((100 + i) * DAY);
      const size = (i + 1) * 100 * KiB;
      const data = generate(i * 7, i * 7 + size);
      const digest = md5Of(data);
      const r = await cache.open({ digest, sizeBytes: size, source: () => new TestSource(size, {}, data) });
      assert.ok((await readAll(r, size)).equals(data));
      await r.close();
      blobs.push({ digest, size });
      // Commit records the access time too: wait for it before the clock moves on.
      const deadline = Date.now() + 10_000;
      while (!index.get(digestKey(digest))) {
        assert.ok(Date.now() < deadline, 'fill did not commit');
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    await cache.close();
    clock.set(110 * DAY);
  });
  after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const exists = (d: Digest): Promise<boolean> =>
    stat(blobPath(dir, d)).then(
      () => true,
      () => false,
    );

  it('prunes by age and by size in LRU order, keeping pinned blobs; dry run removes nothing', async () => {
    const [b0, b1, b2, b3, b4] = blobs as [
      (typeof blobs)[0],
      (typeof blobs)[0],
      (typeof blobs)[0],
      (typeof blobs)[0],
      (typeof blobs)[0],
    ];
    const dry = await pruneCache({ dir, db, clock, olderThanMs: 8 * DAY, dryRun: true });
    assert.deepEqual(
      dry.removed.map((c) => c.key),
      [digestKey(b0.digest), digestKey(b1.digest)],
    );
    assert.ok(await exists(b0.digest));

    // b0 is open in a live mount (this process), and a dead process left a pin on b1.
    const live = createBlobCache({ dir, db, clock, sdkCacheDir: null, backgroundCleanup: false });
    const r0 = await live.open({
      digest: b0.digest,
      sizeBytes: b0.size,
      source: () => new TestSource(b0.size),
    });
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    assert.ok(dead);
    new BlobIndex(db).pin(digestKey(b1.digest), dead);
    try {
      // LRU order is b0 (pinned), b1, b2, ...; the live open refreshed nothing yet (flush is batched).
      const bySize = await pruneCache({ dir, db, clock, maxSizeBytes: 1000 * KiB });
      assert.deepEqual(
        bySize.skippedPinned.map((c) => c.key),
        [digestKey(b0.digest)],
      );
      assert.deepEqual(
        bySize.removed.map((c) => c.key),
        [digestKey(b1.digest), digestKey(b2.digest)],
      );
      assert.equal(bySize.freedBytes, 500 * KiB);
      assert.equal(bySize.remainingBytes, 1000 * KiB);
      assert.ok(await exists(b0.digest));
      assert.ok(!(await exists(b1.digest)));
      assert.ok(!(await exists(b2.digest)));
      assert.ok(await exists(b3.digest));
      // The pinned blob is still readable.
      const buf = Buffer.alloc(10);
      assert.equal(await r0.read(buf, 10, 0), 10);

      const byAge = await pruneCache({ dir, db, clock, olderThanMs: 6.5 * DAY });
      assert.deepEqual(
        byAge.removed.map((c) => c.key),
        [digestKey(b3.digest)],
      );
      assert.deepEqual(
        byAge.skippedPinned.map((c) => c.key),
        [digestKey(b0.digest)],
      );
      assert.ok(await exists(b4.digest));
    } finally {
      await r0.close();
      await live.close();
    }
  });

  it('verify finds a flipped byte and --repair removes that blob only', async () => {
    const last = blobs[4]!;
    const first = blobs[0]!;
    const path = blobPath(dir, last.digest);
    const before = await verifyCache({ dir, db });
    assert.deepEqual(before.problems, []);
    const fh = await open(path, 'r+');
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, 12345);
    b[0] = (b[0] ?? 0) ^ 0x01;
    await fh.write(b, 0, 1, 12345);
    await fh.close();
    const progress: number[] = [];
    const report = await verifyCache({ dir, db, onProgress: (p) => progress.push(p.filesDone) });
    assert.equal(report.checked, 2);
    assert.deepEqual(
      report.problems.map((p) => [p.key, p.action]),
      [[digestKey(last.digest), 'reported']],
    );
    assert.ok(progress.length >= 2);
    const repaired = await verifyCache({ dir, db, repair: true });
    assert.deepEqual(
      repaired.problems.map((p) => p.action),
      ['removed'],
    );
    await assert.rejects(readFile(path), { code: 'ENOENT' });
    assert.ok(await exists(first.digest));
    assert.deepEqual((await verifyCache({ dir, db })).problems, []);
  });

  it('stats and clear', async () => {
    const s = await cacheStats({ dir, db });
    assert.equal(s.blobCount, 1);
    assert.equal(s.blobBytes, 100 * KiB);
    assert.equal(s.counters['misses'], 5);
    assert.ok((s.counters['bytesDownloaded'] ?? 0) >= 1500 * KiB);
    const cleared = await pruneCache({ dir, db, clock, all: true });
    assert.equal(cleared.removed.length, 1);
    assert.equal((await cacheStats({ dir, db })).blobCount, 0);
  });
});
