import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Db } from '../../src/core/db.js';
import { digestKey } from '../../src/core/digest.js';
import { BlobIndex } from '../../src/blobs/blob-index.js';
import { blobPath, partialPath } from '../../src/blobs/path.js';
import { createBlobCache } from '../../src/blobs/store.js';
import { generate, md5Of, openTestDb, readAll, tempDir, TestSource } from './helpers.js';

const MiB = 1024 * 1024;

describe('kill -9 mid-download', () => {
  let dir: string;
  let db: Db;
  before(async () => {
    dir = await tempDir('resume');
    db = openTestDb(dir);
  });
  after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('resumes without refetching completed chunks and ends with a verified blob', async () => {
    const size = 24 * MiB + 999;
    const data = generate(0, size);
    const digest = md5Of(data);
    const key = digestKey(digest);
    const index = new BlobIndex(db);
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('./fill-child.js', import.meta.url)), dir, digest.hex, String(size)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(child, 'exit');
    try {
      const deadline = Date.now() + 20_000;
      while (index.chunkCount(key) < 4) {
        assert.ok(Date.now() < deadline, 'child made no progress');
        assert.equal(child.exitCode, null, 'child ended early');
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    // The blob never counts as present after a kill.
    assert.equal(index.get(key), undefined);
    await assert.rejects(readFile(blobPath(dir, digest)), { code: 'ENOENT' });
    const done = (
      db.prepare('SELECT chunk_index FROM blob_partial_chunk WHERE key = ?').all(key) as {
        chunk_index: number;
      }[]
    ).map((r) => r.chunk_index);
    assert.ok(done.length >= 4 && done.length < 25, `done chunks: ${done.length}`);
    // Every chunk marked done really is on disk.
    const partial = await readFile(partialPath(dir, digest));
    for (const i of done) {
      const s = i * MiB;
      const e = Math.min(size, s + MiB);
      assert.ok(partial.subarray(s, e).equals(data.subarray(s, e)), `chunk ${i} on disk`);
    }

    const src = new TestSource(size);
    const cache = createBlobCache({ dir, db, sdkCacheDir: null, chunkBytes: MiB, streams: 3 });
    try {
      const r = await cache.open({ digest, sizeBytes: size, source: () => src });
      assert.ok((await readAll(r, size)).equals(data));
      await r.close();
      for (const [s, e] of src.ranges) {
        for (const i of done) {
          const cs = i * MiB;
          assert.ok(e <= cs || s >= cs + MiB, `chunk ${i} fetched again (${s}-${e})`);
        }
      }
      assert.equal(src.bytesSent, size - done.reduce((n, i) => n + Math.min(MiB, size - i * MiB), 0));
      const deadline = Date.now() + 10_000;
      while (!index.get(key)) {
        assert.ok(Date.now() < deadline, 'blob not committed');
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok((await readFile(blobPath(dir, digest))).equals(data));
      assert.equal(index.getPartial(key), undefined);
    } finally {
      await cache.close();
    }
  });
});
