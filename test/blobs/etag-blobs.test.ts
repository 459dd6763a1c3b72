/**
 * Reference entries' blobs (blobs/etag/): opened through the cache, downloaded whole once, then
 * warm; their name is no hash of the content, so `cache verify` checks their size only and never
 * calls them misnamed, start-up indexes them, and eviction removes their files.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlobIndex } from '../../src/blobs/blob-index.js';
import { reconcileBlobs } from '../../src/blobs/leftovers.js';
import { blobPath } from '../../src/blobs/path.js';
import { pruneCache } from '../../src/blobs/prune.js';
import { createBlobCache } from '../../src/blobs/store.js';
import { verifyCache } from '../../src/blobs/verify.js';
import type { Db } from '../../src/core/db.js';
import { digestKey, etagDigest, parseDigestKey } from '../../src/core/digest.js';
import { generate, openTestDb, readAll, tempDir, TestSource } from './helpers.js';

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
    for (let i = 0; i < 2; i++) {
      const r = await cache.open({ digest, sizeBytes: data.length, source });
      assert.ok((await readAll(r, data.length)).equals(data));
      await r.close();
    }
    assert.equal(sources, 1, 'the second open is warm');
    assert.equal((await stat(blobPath(dir, digest))).size, data.length);
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
