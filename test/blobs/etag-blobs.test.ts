/**
 * Reference entries' blobs (blobs/etag/): filled through the cache like stored files (the open
 * returns at the first byte, reads are served while the rest downloads), then warm; a source that
 * fails the ETag check mid-download fails the fill and leaves nothing behind. Their name is no hash
 * of the content, so `cache verify` checks their size only and never calls them misnamed, start-up
 * indexes them, and eviction removes their files.
 */
import assert from 'node:assert/strict';
import { access, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlobIndex } from '../../src/blobs/blob-index.js';
import { reconcileBlobs } from '../../src/blobs/leftovers.js';
import { blobPath, partialPath } from '../../src/blobs/path.js';
import { pruneCache } from '../../src/blobs/prune.js';
import { createBlobCache } from '../../src/blobs/store.js';
import { verifyCache } from '../../src/blobs/verify.js';
import type { RangeSource } from '../../src/blobs/types.js';
import type { Db } from '../../src/core/db.js';
import { digestKey, etagDigest, parseDigestKey } from '../../src/core/digest.js';
import { RefUnreadableError } from '../../src/core/errors.js';
import { waitUntil } from '../helpers/wait.js';
import { generate, openTestDb, readAll, tempDir, TestSource } from './helpers.js';

const MiB = 1024 * 1024;
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** A store whose object is replaced once `changeAt` bytes were sent: later responses fail the ETag check. */
class ChangingSource implements RangeSource {
  sent = 0;
  constructor(
    private readonly data: Buffer,
    private readonly changeAt: number,
  ) {}
  describe(): string {
    return 's3://bucket/changing.bin';
  }
  async fetchRange(start: number, end: number, sink: (c: Buffer) => Promise<void>): Promise<void> {
    if (this.sent >= this.changeAt) throw new RefUnreadableError('s3://bucket/changing.bin changed (ETag)');
    const piece = 64 * 1024;
    for (let pos = start; pos < end; pos += piece) {
      const chunk = this.data.subarray(pos, Math.min(end, pos + piece));
      this.sent += chunk.length;
      await sink(Buffer.from(chunk));
    }
  }
}

describe('etag blobs (reference entries)', () => {
  let dir: string;
  let db: Db;

  before(async () => {
    dir = await tempDir('etag');
    db = openTestDb(dir);
  });
  after(async () => {
    db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('downloads a reference once, then serves it warm', async () => {
    const cache = createBlobCache({ dir, db, sdkCacheDir: null, backgroundCleanup: false });
    const data = generate(5, 5 + 70_000);
    const digest = etagDigest('s3://bucket/a.bin', 'abc123');
    assert.deepEqual(parseDigestKey(digestKey(digest)), digest);
    let sources = 0;
    const source = () => {
      sources++;
      return new TestSource(data.length, {}, data);
    };
    const first = await cache.open({ digest, sizeBytes: data.length, source });
    assert.ok((await readAll(first, data.length)).equals(data));
    await first.close();
    await waitUntil('the reference blob to be committed', () => exists(blobPath(dir, digest)));
    const second = await cache.open({ digest, sizeBytes: data.length, source });
    assert.ok((await readAll(second, data.length)).equals(data));
    await second.close();
    assert.equal(sources, 1, 'the second open is warm');
    assert.equal((await stat(blobPath(dir, digest))).size, data.length);
    await cache.close();
  });

  it('opens a large reference at its first byte and serves reads while the rest downloads', async () => {
    const cache = createBlobCache({
      dir,
      db,
      sdkCacheDir: null,
      backgroundCleanup: false,
      chunkBytes: 1 * MiB,
      streams: 2,
    });
    const data = generate(7, 7 + 24 * MiB);
    const digest = etagDigest('https://example.com/big.bin', '"big"');
    let letGo: () => void = () => undefined;
    const hold = new Promise<void>((r) => (letGo = r));
    const src = new TestSource(data.length, { hold, holdFrom: 2 * MiB }, data);
    const r = await cache.open({ digest, sizeBytes: data.length, source: () => src });
    assert.ok(src.bytesSent < data.length, 'the open did not wait for the whole download');
    const head = Buffer.alloc(64 * 1024);
    assert.equal(await r.read(head, head.length, 0), head.length);
    assert.ok(head.equals(data.subarray(0, head.length)), 'bytes served while the fill runs');
    assert.equal(await exists(blobPath(dir, digest)), false, 'not present before it is whole');
    letGo();
    assert.ok((await readAll(r, data.length)).equals(data));
    await r.close();
    await waitUntil('the large reference blob to be committed', () => exists(blobPath(dir, digest)));
    await cache.close();
  });

  it('a reference whose object changes mid-download fails the read and caches nothing', async () => {
    const cache = createBlobCache({
      dir,
      db,
      sdkCacheDir: null,
      backgroundCleanup: false,
      chunkBytes: 1 * MiB,
      streams: 1,
    });
    const data = generate(9, 9 + 8 * MiB);
    const digest = etagDigest('s3://bucket/changing.bin', 'v1');
    const src = new ChangingSource(data, 3 * MiB);
    const r = await cache.open({ digest, sizeBytes: data.length, source: () => src });
    await assert.rejects(readAll(r, data.length), RefUnreadableError);
    await r.close();
    const index = new BlobIndex(db);
    await waitUntil(
      'the failed fill to drop its partial',
      async () =>
        index.getPartial(digestKey(digest)) === undefined && !(await exists(partialPath(dir, digest))),
    );
    assert.equal(await exists(blobPath(dir, digest)), false, 'no blob');
    assert.equal(index.get(digestKey(digest)), undefined, 'no index row');
    await cache.close();
  });

  it('verify checks sizes only, start-up indexes unknown ones, prune removes their files', async () => {
    const index = new BlobIndex(db);
    const orphan = etagDigest('gs://bucket/b.bin', 'CJiLEAE=');
    const path = blobPath(dir, orphan);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, generate(0, 1234));
    assert.equal(await reconcileBlobs(dir, index), 1, 'the unindexed etag blob is indexed');
    const ok = await verifyCache({ dir, db });
    assert.deepEqual(ok.problems, [], 'etag blobs are not misnamed and not re-hashed');
    await writeFile(path, generate(0, 99));
    const bad = await verifyCache({ dir, db });
    assert.equal(bad.problems.length, 1);
    assert.match(bad.problems[0]?.reason ?? '', /index says 1234 bytes, file has 99/);
    const pruned = await pruneCache({ dir, db, all: true });
    assert.ok(
      pruned.removed.some((c) => c.key === digestKey(orphan)),
      'pruned',
    );
    await assert.rejects(stat(path), /ENOENT/);
  });
});
