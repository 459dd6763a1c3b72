import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import type { Db } from '../../src/core/db.js';
import { md5FromHex } from '../../src/core/digest.js';
import { IntegrityError, StallError } from '../../src/blobs/errors.js';
import { blobPath } from '../../src/blobs/path.js';
import { createBlobCache, type BlobCacheOptions } from '../../src/blobs/store.js';
import { sdkBlobPath } from '../../src/blobs/sdk-cache.js';
import { generate, md5Of, openTestDb, readAll, tempDir, TestSource } from './helpers.js';

const MiB = 1024 * 1024;

describe('blob store', () => {
  let dir: string;
  let db: Db;
  const base = (): BlobCacheOptions => ({
    dir,
    db,
    sdkCacheDir: null,
    chunkBytes: 1 * MiB,
    streams: 3,
    verifyBeforeServeBytes: 0,
  });

  before(async () => {
    dir = await tempDir('store');
    db = openTestDb(dir);
  });
  after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('deduplicates: two paths with one digest share one download and one blob', async () => {
    const size = 5 * MiB + 123;
    const data = generate(0, size);
    const digest = md5Of(data);
    const cache = createBlobCache(base());
    const src = new TestSource(size, { delayMs: 1 });
    let built = 0;
    const source = (): TestSource => (built++, src);
    try {
      const [a, b] = await Promise.all([
        cache.open({ digest, sizeBytes: size, source }),
        cache.open({ digest, sizeBytes: size, source }),
      ]);
      const [ra, rb] = await Promise.all([readAll(a, size), readAll(b, size, 100_000)]);
      assert.ok(ra.equals(data));
      assert.ok(rb.equals(data));
      await Promise.all([a.close(), b.close()]);
      assert.equal(built, 1);
      assert.equal(src.bytesSent, size);
      // the blob file lands before the job settles (index row, state): a warm open waits for both
      await waitFor(
        async () =>
          cache.inFlight().length === 0 && (await readFile(blobPath(dir, digest)).catch(() => null)) !== null,
      );
      const c = cache.counters();
      assert.equal(c.bytesDownloaded, size);
      // Warm: no source built, served from the blob file.
      const warm = await cache.open({ digest, sizeBytes: size, source });
      assert.ok((await readAll(warm, size)).equals(data));
      await warm.close();
      assert.equal(built, 1);
      assert.equal(cache.counters().hits, 1);
      assert.equal((await readdir(join(dir, 'blobs', 'md5', digest.hex.slice(0, 2)))).length, 1);
    } finally {
      await cache.close();
    }
  });

  it('answers a cached blob from memory synchronously, and never a reader of a running fill', async () => {
    const size = 5 * MiB + 77;
    const data = generate(0, size);
    const digest = md5Of(data);
    const cache = createBlobCache(base());
    const source = (): TestSource => new TestSource(size, { delayMs: 1 });
    const req = 128 * 1024;
    try {
      const cold = await cache.open({ digest, sizeBytes: size, source });
      assert.equal(cold.readSync?.(Buffer.alloc(req), req, 0) ?? null, null, 'a fill answered synchronously');
      assert.ok((await readAll(cold, size)).equals(data));
      await cold.close();
      await waitFor(async () => cache.inFlight().length === 0 && (await exists(blobPath(dir, digest))));
      const warm = await cache.open({ digest, sizeBytes: size, source });
      const out = Buffer.alloc(size);
      let sync = 0;
      for (let pos = 0; pos < size; pos += req) {
        const len = Math.min(req, size - pos);
        const target = out.subarray(pos, pos + len);
        const n = warm.readSync?.(target, len, pos) ?? null;
        if (n === null) assert.equal(await warm.read(target, len, pos), len);
        else sync++;
      }
      await warm.close();
      assert.ok(out.equals(data), 'bytes differ');
      assert.ok(sync >= 30, `only ${sync} of ${Math.ceil(size / req)} requests answered from memory`);
    } finally {
      await cache.close();
    }
  });

  it('serves a small blob only after verification: corrupt bytes never reach a reader', async () => {
    const size = 300_000;
    const data = generate(0, size);
    const digest = md5Of(data);
    const cache = createBlobCache({ ...base(), verifyBeforeServeBytes: 1 * MiB });
    try {
      const bad = await cache.open({
        digest,
        sizeBytes: size,
        source: () => new TestSource(size, { corruptAt: 5 }),
      });
      await assert.rejects(bad.read(Buffer.alloc(10), 10, 0), IntegrityError);
      await bad.close();
      const good = await cache.open({ digest, sizeBytes: size, source: () => new TestSource(size) });
      assert.ok((await readAll(good, size)).equals(data));
      await good.close();
    } finally {
      await cache.close();
    }
  });

  it('answers reads at arbitrary offsets byte-exact while the fill is still running', async () => {
    const size = 24 * MiB + 7;
    const data = generate(0, size);
    const digest = md5Of(data);
    const cache = createBlobCache({ ...base(), streams: 2 });
    const src = new TestSource(size, { delayMs: 3, pieceBytes: 64 * 1024 });
    try {
      const r = await cache.open({ digest, sizeBytes: size, source: () => src });
      const offsets = [size - 5, 9 * MiB + 17, 3, 4 * MiB - 1, 16 * MiB + 500_000];
      for (const off of offsets) {
        const buf = Buffer.alloc(70_000);
        const n = await r.read(buf, buf.length, off);
        const want = Math.min(buf.length, size - off);
        assert.equal(n, want);
        assert.ok(buf.subarray(0, n).equals(data.subarray(off, off + n)), `bytes at ${off}`);
      }
      // Answered before the whole file was fetched.
      assert.ok(src.bytesSent < size, `sent ${src.bytesSent} of ${size}`);
      assert.equal(await r.read(Buffer.alloc(10), 10, size), 0);
      await r.close();
    } finally {
      await cache.close();
    }
  });

  it('reads at offset 4 GiB+ of a 5 GiB source without filling the whole file', async () => {
    const size = 5 * 1024 * MiB + 12345;
    const cache = createBlobCache({
      ...base(),
      chunkBytes: 8 * MiB,
      streams: 2,
      maxCacheBytes: 64 * 1024 * MiB,
      minFreeBytes: 0,
      freeBytes: () => Promise.resolve(1e15),
    });
    const src = new TestSource(size, { delayMs: 2 });
    const digest = md5FromHex('0123456789abcdef0123456789abcdef')!;
    try {
      const r = await cache.open({ digest, sizeBytes: size, source: () => src });
      for (const off of [4 * 1024 * MiB + (987_654_321 % MiB), size - 1000]) {
        const buf = Buffer.alloc(128 * 1024);
        const n = await r.read(buf, buf.length, off);
        assert.equal(n, Math.min(buf.length, size - off));
        assert.ok(buf.subarray(0, n).equals(generate(off, off + n)));
      }
      assert.ok(src.bytesSent < 200 * MiB, `only nearby chunks fetched (${src.bytesSent})`);
      await r.close();
    } finally {
      await cache.close();
    }
  });

  it('never caches corrupted bytes; the read fails with IntegrityError and the next open retries', async () => {
    const size = 3 * MiB + 11;
    const data = generate(0, size);
    const digest = md5Of(data);
    const cache = createBlobCache(base());
    try {
      const bad = await cache.open({
        digest,
        sizeBytes: size,
        source: () => new TestSource(size, { corruptAt: 2 * MiB + 5 }),
      });
      // The corrupted byte is served while downloading would be wrong too: the read of the whole
      // file waits for verification of the last chunk only at the end, so read the tail last.
      await assert.rejects(async () => {
        await readAll(bad, size);
        // If every range came back before verification, wait for the verdict, then re-read.
        await waitFor(() => Promise.resolve(cache.counters().integrityFailures === 1));
        await bad.read(Buffer.alloc(1), 1, 0);
      }, IntegrityError);
      await bad.close();
      await assert.rejects(readFile(blobPath(dir, digest)), { code: 'ENOENT' });
      await waitFor(() => Promise.resolve(cache.counters().integrityFailures === 1));
      await waitFor(async () => !(await readdir(join(dir, 'partial'))).includes(`md5-${digest.hex}`));
      const good = await cache.open({ digest, sizeBytes: size, source: () => new TestSource(size) });
      assert.ok((await readAll(good, size)).equals(data));
      await good.close();
      await waitFor(
        async () => (await readFile(blobPath(dir, digest)).catch(() => null))?.equals(data) === true,
      );
    } finally {
      await cache.close();
    }
  });

  it('a reader that reads a large corrupt blob to its end gets IntegrityError, never the whole file', async () => {
    const size = 3 * MiB + 29; // served while it downloads (verifyBeforeServeBytes is 0 here)
    const data = generate(0, size); // a size, so a digest, no other test of this suite has cached
    const cache = createBlobCache(base());
    try {
      const bad = await cache.open({
        digest: md5Of(data),
        sizeBytes: size,
        source: () => new TestSource(size, { corruptAt: 1 * MiB + 7 }),
      });
      // the read reaching EOF waits for the digest check instead of completing the corrupt file
      await assert.rejects(readAll(bad, size), IntegrityError);
      await bad.close();
    } finally {
      await cache.close();
    }
  });

  it('fails a waiting read with StallError instead of hanging', async () => {
    const size = 2 * MiB;
    const digest = md5Of(generate(0, size));
    const cache = createBlobCache({ ...base(), stallTimeoutMs: 300 });
    try {
      const r = await cache.open({
        digest,
        sizeBytes: size,
        source: () => new TestSource(size, { hangAt: 0 }),
      });
      await assert.rejects(r.read(Buffer.alloc(10), 10, 0), StallError);
      // The next read starts a new fill (that source also hangs, so again a clean error).
      await assert.rejects(r.read(Buffer.alloc(10), 10, 0), StallError);
      await r.close();
    } finally {
      await cache.close();
    }
  });

  it('takes a blob from the W&B SDK cache with zero bytes downloaded', async () => {
    const sdk = join(dir, 'sdk-cache');
    const size = 1 * MiB + 3;
    const data = generate(0, size).reverse();
    const digest = md5Of(data);
    const p = sdkBlobPath(sdk, digest);
    await mkdir(join(p, '..'), { recursive: true });
    await writeFile(p, data);
    // A second SDK file whose content does not match its name is ignored.
    const lying = md5Of(Buffer.from('something else'));
    await mkdir(join(sdkBlobPath(sdk, lying), '..'), { recursive: true });
    await writeFile(sdkBlobPath(sdk, lying), Buffer.alloc(14));
    const cache = createBlobCache({ ...base(), sdkCacheDir: sdk });
    let built = 0;
    try {
      const r = await cache.open({ digest, sizeBytes: size, source: () => (built++, new TestSource(size)) });
      assert.ok((await readAll(r, size)).equals(data));
      await r.close();
      assert.equal(built, 0);
      assert.equal(cache.counters().bytesDownloaded, 0);
      assert.equal(cache.counters().sdkReuses, 1);
      assert.ok((await readFile(p)).equals(data), 'SDK file untouched');
      const liar = await cache.open({
        digest: lying,
        sizeBytes: 14,
        source: () => (built++, new TestSource(14, {}, Buffer.from('something else'))),
      });
      assert.equal((await readAll(liar, 14)).toString(), 'something else');
      await liar.close();
      assert.equal(built, 1);
      assert.equal((await readFile(sdkBlobPath(sdk, lying))).length, 14);
    } finally {
      await cache.close();
    }
  });

  it('streams a file larger than the cache limit without caching it', async () => {
    const size = 3 * MiB;
    const data = generate(0, size);
    const digest = md5Of(Buffer.concat([data, Buffer.from('x')]));
    const cache = createBlobCache({ ...base(), maxCacheBytes: 2 * MiB, streamWindowBytes: 512 * 1024 });
    try {
      const r = await cache.open({ digest, sizeBytes: size, source: () => new TestSource(size) });
      assert.ok((await readAll(r, size)).equals(data));
      await r.close();
      assert.equal(cache.counters().streamOpens, 1);
      await assert.rejects(readFile(blobPath(dir, digest)), { code: 'ENOENT' });
    } finally {
      await cache.close();
    }
  });

  it('claims space by evicting least recently used unpinned blobs; no room at all means streaming', async () => {
    const sub = await tempDir('evict');
    const subDb = openTestDb(sub);
    const clock = new ManualClock(1000);
    const cache = createBlobCache({
      dir: sub,
      db: subDb,
      clock,
      sdkCacheDir: null,
      chunkBytes: MiB,
      maxCacheBytes: 2.5 * MiB,
      minFreeBytes: 0,
    });
    const mk = (seed: number) => {
      const data = generate(seed * MiB, seed * MiB + MiB);
      return { data, digest: md5Of(data) };
    };
    const [a, b, c, d] = [mk(1), mk(2), mk(3), mk(4)];
    const fill = async (x: typeof a, keepOpen = false) => {
      clock.advance(1000);
      const r = await cache.open({
        digest: x.digest,
        sizeBytes: MiB,
        source: () => new TestSource(MiB, {}, x.data),
      });
      assert.ok((await readAll(r, MiB)).equals(x.data));
      await waitFor(async () => (await readFile(blobPath(sub, x.digest)).catch(() => null)) !== null);
      if (!keepOpen) await r.close();
      return r;
    };
    try {
      const ra = await fill(a, true); // oldest, but open: pinned
      await fill(b);
      await fill(c); // needs room: b (LRU unpinned) goes, a stays
      assert.ok(await exists(blobPath(sub, a.digest)));
      assert.ok(!(await exists(blobPath(sub, b.digest))));
      assert.ok(await exists(blobPath(sub, c.digest)));
      assert.equal(cache.counters().evictions, 1);
      await ra.close();
      // A full disk: nothing can be claimed, reads stream correctly and nothing is cached.
      const full = createBlobCache({
        dir: sub,
        db: subDb,
        sdkCacheDir: null,
        minFreeBytes: 10 * MiB,
        freeBytes: () => Promise.resolve(0),
      });
      const r = await full.open({
        digest: d.digest,
        sizeBytes: MiB,
        source: () => new TestSource(MiB, {}, d.data),
      });
      assert.ok((await readAll(r, MiB)).equals(d.data));
      await r.close();
      await full.close();
      assert.equal(full.counters().streamOpens, 1);
      assert.ok(!(await exists(blobPath(sub, d.digest))));
    } finally {
      await cache.close();
      subDb.close();
      await rm(sub, { recursive: true, force: true });
    }
  });

  it("two caches sharing a dir: the second reads through the first one's download", async () => {
    const size = 3 * MiB;
    const data = generate(11, 11 + size);
    const digest = md5Of(data);
    const db2 = openTestDb(dir);
    const a = createBlobCache({ ...base(), streams: 1 });
    const b = createBlobCache({ ...base(), db: db2 });
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    // A sends its first MiB, then waits until B has read what is already on disk.
    const srcA = new TestSource(size, { holdFrom: MiB, hold }, data);
    const srcB = new TestSource(size, {}, data);
    try {
      const ra = await a.open({ digest, sizeBytes: size, source: () => srcA });
      await ra.read(Buffer.alloc(1), 1, 0);
      const rb = await b.open({ digest, sizeBytes: size, source: () => srcB });
      assert.equal(b.counters().followOpens, 1);
      const buf = Buffer.alloc(4096);
      assert.equal(await rb.read(buf, 4096, 4096), 4096, 'chunk 0 is on disk: served at once');
      assert.ok(buf.equals(data.subarray(4096, 8192)));
      const later = Buffer.alloc(4096);
      const pending = rb.read(later, 4096, 2 * MiB);
      release();
      assert.equal(await pending, 4096, 'a read past the fill waits for it');
      assert.ok(later.equals(data.subarray(2 * MiB, 2 * MiB + 4096)));
      assert.ok((await readAll(ra, size)).equals(data));
      assert.ok((await readAll(rb, size)).equals(data));
      await waitFor(async () => exists(blobPath(dir, digest)));
      assert.ok((await readAll(rb, size)).equals(data), 'and moves on to the committed blob');
      assert.equal(srcB.bytesSent, 0, 'b never downloaded a byte');
      assert.equal(srcA.bytesSent, size, 'a downloaded the blob once');
      await Promise.all([ra.close(), rb.close()]);
    } finally {
      await Promise.all([a.close(), b.close()]);
      db2.close();
    }
  });

  it('two caches sharing a dir: when the first one stops, the second resumes its download', async () => {
    const size = 4 * MiB;
    const data = generate(23, 23 + size);
    const digest = md5Of(data);
    const db2 = openTestDb(dir);
    // No urgent ranges: this counts chunk hand-over only. (Their bytes are fetched twice by design,
    // and while a random reader is served from them the owner's fill would wait.)
    const a = createBlobCache({ ...base(), streams: 1, urgentRangeBytes: 0 });
    const b = createBlobCache({ ...base(), db: db2, urgentRangeBytes: 0 });
    const srcA = new TestSource(size, { hangAt: 2 * MiB }, data);
    const srcB = new TestSource(size, {}, data);
    try {
      const ra = await a.open({ digest, sizeBytes: size, source: () => srcA });
      // Reading from 0 starts a's fill at 0 (a fill starts where its first read is).
      await ra.read(Buffer.alloc(1), 1, 0);
      await ra.read(Buffer.alloc(1), 1, MiB);
      const rb = await b.open({ digest, sizeBytes: size, source: () => srcB });
      assert.equal(b.counters().followOpens, 1);
      // Two reads wait at once (as kernel readahead sends them); both must survive the hand-over.
      const [b1, b2] = [Buffer.alloc(4096), Buffer.alloc(4096)];
      const waiting = Promise.all([rb.read(b1, 4096, 3 * MiB), rb.read(b2, 4096, 3 * MiB + 4096)]);
      const pending = readAll(rb, size);
      await a.close(); // the owner goes away mid-download: its claim is released
      assert.deepEqual(await waiting, [4096, 4096]);
      assert.ok(b1.equals(data.subarray(3 * MiB, 3 * MiB + 4096)));
      assert.ok(b2.equals(data.subarray(3 * MiB + 4096, 3 * MiB + 8192)));
      assert.ok((await pending).equals(data));
      assert.ok(srcB.bytesSent <= size - 2 * MiB, `b fetched only what a had not: ${srcB.bytesSent}`);
      await rb.close();
    } finally {
      await Promise.all([a.close(), b.close()]);
      db2.close();
    }
  });

  it('cleans leftovers in the background at start and indexes blobs found on disk', async () => {
    const sub = await tempDir('leftovers');
    const subDb = openTestDb(sub);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const data = generate(0, 1000);
    const digest = md5Of(data);
    await mkdir(join(sub, 'partial'), { recursive: true });
    await writeFile(join(sub, 'partial', 'md5-' + md5Of(Buffer.from('orphan')).hex), 'x');
    await mkdir(join(sub, 'tmp'), { recursive: true });
    await writeFile(join(sub, 'tmp', `${dead}-stale`), 'x');
    await writeFile(join(sub, 'tmp', `${process.pid}-live`), 'x');
    await mkdir(join(blobPath(sub, digest), '..'), { recursive: true });
    await writeFile(blobPath(sub, digest), data);
    const cache = createBlobCache({ dir: sub, db: subDb, sdkCacheDir: null });
    try {
      await cache.idle();
      assert.deepEqual(await readdir(join(sub, 'partial')), []);
      assert.deepEqual(await readdir(join(sub, 'tmp')), [`${process.pid}-live`]);
      const row = subDb.prepare('SELECT size_bytes FROM blob WHERE key = ?').get(`md5:${digest.hex}`) as
        { size_bytes: number } | undefined;
      assert.equal(row?.size_bytes, 1000);
      const r = await cache.open({
        digest,
        sizeBytes: 1000,
        source: () => {
          throw new Error('must not download');
        },
      });
      assert.ok((await readAll(r, 1000)).equals(data));
      await r.close();
    } finally {
      await cache.close();
      subDb.close();
      await rm(sub, { recursive: true, force: true });
    }
  });

  it('reports progress of fills in flight', async () => {
    const size = 4 * MiB;
    const digest = md5Of(generate(0, size));
    const cache = createBlobCache({ ...base(), streams: 1 });
    try {
      let release!: () => void;
      const hold = new Promise<void>((res) => (release = res));
      const src = new TestSource(size, { holdFrom: 2 * MiB, hold });
      const r = await cache.open({ digest, sizeBytes: size, source: () => src });
      await r.read(Buffer.alloc(10), 10, 0);
      const [p] = cache.inFlight();
      assert.ok(p);
      assert.equal(p.sizeBytes, size);
      assert.equal(p.label, 'test/source.bin');
      assert.ok(p.bytesDone > 0 && p.bytesDone < size);
      release();
      await r.close();
    } finally {
      await cache.close();
    }
  });
});

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
