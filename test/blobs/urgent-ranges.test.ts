import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { BlobIndex } from '../../src/blobs/blob-index.js';
import { createBlobCache, type BlobCacheOptions } from '../../src/blobs/store.js';
import type { Db } from '../../src/core/db.js';
import { digestKey } from '../../src/core/digest.js';
import { waitUntil } from '../helpers/wait.js';
import { generate, md5Of, openTestDb, readAll, tempDir, TestSource } from './helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('urgent ranges for random reads on a cold blob', () => {
  let dir: string;
  let db: Db;
  const size = 48 * MiB;
  const data = generate(0, size);
  const digest = md5Of(data);
  const opts = (): BlobCacheOptions => ({
    dir,
    db,
    sdkCacheDir: null,
    chunkBytes: 8 * MiB,
    streams: 2,
    verifyBeforeServeBytes: 0,
    urgentRangeBytes: 256 * KiB,
  });

  before(async () => {
    dir = await tempDir('urgent');
    db = openTestDb(dir);
  });
  after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a 4 KiB miss from a small range before its chunk is on disk, then completes the blob', async () => {
    const cache = createBlobCache(opts());
    // 64 KiB pieces every 20 ms: a whole 8 MiB chunk takes over 2.5 s, a 256 KiB range ~80 ms.
    const src = new TestSource(size, { pieceBytes: 64 * KiB, delayMs: 20 });
    const index = new BlobIndex(db);
    try {
      const r = await cache.open({ digest, sizeBytes: size, source: () => src });
      const pos = 40 * MiB + 300 * KiB + 17;
      const buf = Buffer.alloc(4 * KiB);
      assert.equal(await r.read(buf, buf.length, pos), buf.length);
      assert.ok(buf.equals(data.subarray(pos, pos + buf.length)), 'the urgent bytes are the right ones');
      const done = index.fillProgress(digestKey(digest))?.doneChunks ?? [];
      assert.ok(
        !done.includes(5),
        `chunk 5 must not count as done from an urgent range (done: ${done.join()})`,
      );
      const small = src.ranges.filter(([s, e]) => e - s <= 512 * KiB && s <= pos && pos + 4 * KiB <= e);
      assert.equal(small.length, 1, `one small ranged fetch served the miss: ${JSON.stringify(src.ranges)}`);
      // A neighbouring read is served from the same range, without another request.
      assert.equal(await r.read(buf, buf.length, pos + 8 * KiB), buf.length);
      assert.ok(buf.equals(data.subarray(pos + 8 * KiB, pos + 12 * KiB)));
      assert.equal(src.ranges.filter(([s, e]) => e - s <= 512 * KiB).length, 1);
      await r.close();
      await waitUntil('the background fill to commit the blob', () => cache.inFlight().length === 0, {
        timeoutMs: 60_000,
      });
      assert.equal(index.get(digestKey(digest))?.sizeBytes, size, 'the blob is present and verified');
      const again = await cache.open({ digest, sizeBytes: size, source: () => src });
      assert.ok((await readAll(again, size, MiB)).equals(data));
      await again.close();
    } finally {
      await cache.close();
    }
  });

  it('leaves a sequential reader on whole chunks', async () => {
    await rm(dir, { recursive: true, force: true });
    dir = await tempDir('urgent-seq');
    db.close();
    db = openTestDb(dir);
    const cache = createBlobCache(opts());
    const src = new TestSource(size, { pieceBytes: 256 * KiB });
    try {
      const r = await cache.open({ digest, sizeBytes: size, source: () => src });
      assert.ok((await readAll(r, 16 * MiB)).equals(data.subarray(0, 16 * MiB)));
      await r.close();
      assert.deepEqual(
        src.ranges.filter(([s, e]) => e - s < 8 * MiB),
        [],
        'no urgent ranges for reads from the start onwards',
      );
    } finally {
      await cache.close();
    }
  });

  it("uses the source's one-shot small fetch when it has one, and a failed one leaves the read to its chunk", async () => {
    await rm(dir, { recursive: true, force: true });
    dir = await tempDir('urgent-small');
    db.close();
    db = openTestDb(dir);
    const cache = createBlobCache(opts());
    const small: [number, number][] = [];
    let failSmall = false;
    // Whole chunks take ~2.5 s here, so an urgent answer well before that came from fetchSmall.
    const src = Object.assign(new TestSource(size, { pieceBytes: 64 * KiB, delayMs: 20 }), {
      fetchSmall(start: number, end: number, buf: Buffer): Promise<void> | null {
        small.push([start, end]);
        if (failSmall) return Promise.reject(new Error('storage said no'));
        data.copy(buf, 0, start, end);
        return Promise.resolve();
      },
    });
    try {
      const r = await cache.open({ digest, sizeBytes: size, source: () => src });
      const buf = Buffer.alloc(4 * KiB);
      const pos = 33 * MiB + 5;
      assert.equal(await r.read(buf, buf.length, pos), buf.length);
      assert.ok(buf.equals(data.subarray(pos, pos + buf.length)));
      assert.equal(small.length, 1, 'one small fetch served the miss');
      const [s0, e0] = small[0]!;
      assert.ok(s0 <= pos && pos + buf.length <= e0 && e0 - s0 <= 512 * KiB, `range ${s0}-${e0}`);
      assert.deepEqual(
        src.ranges.filter(([s, e]) => e - s <= 512 * KiB),
        [],
        'and no small range went through fetchRange',
      );
      failSmall = true;
      const pos2 = 12 * MiB + 99;
      assert.equal(await r.read(buf, buf.length, pos2), buf.length);
      assert.ok(buf.equals(data.subarray(pos2, pos2 + buf.length)), 'answered from its chunk instead');
      assert.equal(small.length, 2);
      assert.ok(
        src.ranges.some(([s, e]) => s <= pos2 && pos2 < e && e - s === 8 * MiB),
        `the chunk under it was fetched: ${JSON.stringify(src.ranges)}`,
      );
      await r.close();
    } finally {
      await cache.close();
    }
  });
});
