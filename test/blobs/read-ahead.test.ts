import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import type { Db } from '../../src/core/db.js';
import { blobPath } from '../../src/blobs/path.js';
import { createBlobCache, type BlobCacheOptions } from '../../src/blobs/store.js';
import type { RangeSource } from '../../src/blobs/types.js';
import { generate, md5Of, openTestDb, readAll, tempDir, TestSource } from './helpers.js';
import { waitUntil } from '../helpers/wait.js';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('read-ahead gate', () => {
  let dir: string;
  let db: Db;
  const opts = (): BlobCacheOptions => ({
    dir,
    db,
    sdkCacheDir: null,
    chunkBytes: 1 * MiB,
    streams: 2,
    readAheadBytes: 4 * MiB,
    verifyBeforeServeBytes: 0,
  });

  before(async () => {
    dir = await tempDir('readahead');
    db = openTestDb(dir);
  });
  after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the fill just ahead of a sequential reader, then finishes the blob once it closes', async () => {
    const size = 64 * MiB;
    const data = generate(0, size);
    // A frozen clock keeps the reader "active" however slowly this machine runs the test: with real
    // time a loaded machine could let the reader go idle (500 ms) and rightly free the fill.
    const cache = createBlobCache({ ...opts(), clock: new ManualClock(1_000) });
    const src = new TestSource(size, { delayMs: 1 });
    try {
      const r = await cache.open({ digest: md5Of(data), sizeBytes: size, source: () => src });
      const head = await readAll(r, 8 * MiB);
      assert.ok(head.equals(data.subarray(0, 8 * MiB)));
      // Still "active" (under the idle threshold): the fill must wait near the reader.
      await sleep(200);
      const window = 8 * MiB + 4 * MiB + 2 * MiB + 1 * MiB;
      assert.ok(src.bytesSent <= window, `fetched ${src.bytesSent} bytes, window ${window}`);
      await r.close();
      const deadline = Date.now() + 20_000;
      while (src.bytesSent < size && Date.now() < deadline) await sleep(20);
      assert.equal(src.bytesSent, size, 'the rest of the blob is fetched once the reader closes');
      const again = await cache.open({ digest: md5Of(data), sizeBytes: size, source: () => src });
      assert.ok((await readAll(again, size)).equals(data));
      await again.close();
    } finally {
      await cache.close();
    }
  });

  it('a random reader that went quiet does not hold the fill back', async () => {
    const size = 48 * MiB + 7;
    const data = generate(0, size);
    const cache = createBlobCache(opts());
    const src = new TestSource(size, { delayMs: 1 });
    try {
      const r = await cache.open({ digest: md5Of(data), sizeBytes: size, source: () => src });
      const buf = Buffer.alloc(4096);
      for (const pos of [40 * MiB, 3 * MiB, 27 * MiB]) {
        assert.equal(await r.read(buf, buf.length, pos), buf.length);
        assert.ok(buf.equals(data.subarray(pos, pos + buf.length)));
      }
      // While it reads, its misses are urgent ranges and the fill waits; once it is quiet
      // (READER_IDLE_MS) the fill goes on. The urgent ranges' bytes come on top of the blob's.
      await waitUntil('the blob committed while the random reader holds it open', () =>
        existsSync(blobPath(dir, md5Of(data))),
      );
      assert.ok(src.bytesSent >= size);
      await r.close();
    } finally {
      await cache.close();
    }
  });

  it('starts the chunk a reader waits for at once, even while every worker is busy', async () => {
    const size = 64 * MiB + 1234; // distinct from the blobs cached by the tests above
    const data = generate(0, size);
    // Ranges below 16 MiB hang until released: the background workers get stuck there.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const fetched: number[] = [];
    const source: RangeSource = {
      describe: () => 'test/hanging-head.bin',
      async fetchRange(start, end, sink, signal) {
        fetched.push(start);
        if (start < 16 * MiB) {
          await Promise.race([
            released,
            new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true })),
          ]);
        }
        for (let p = start; p < end; p += MiB) await sink(generate(p, Math.min(end, p + MiB)));
      },
    };
    const cache = createBlobCache({ ...opts(), stallTimeoutMs: 60_000 });
    try {
      const r = await cache.open({ digest: md5Of(data), sizeBytes: size, source: () => source });
      await waitUntil(
        'both workers to be parked inside the hanging head chunks',
        () => fetched.filter((start) => start < 16 * MiB).length >= 2,
      );
      const buf = Buffer.alloc(4096);
      const pos = 40 * MiB + 5;
      const read = r.read(buf, buf.length, pos);
      const outcome = await Promise.race([read.then(() => 'read'), sleep(15_000).then(() => 'blocked')]);
      assert.equal(outcome, 'read', `fetched so far: ${fetched.map((f) => f / MiB).join(',')} MiB`);
      assert.ok(buf.equals(data.subarray(pos, pos + buf.length)));
      release();
      await r.close();
    } finally {
      release();
      await cache.close();
    }
  });
});
