import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { createWandbApi, type WandbApiClient } from '../../src/api/client.js';
import type { FileLocator } from '../../src/api/types.js';
import { IntegrityError } from '../../src/blobs/errors.js';
import { blobPath } from '../../src/blobs/path.js';
import { createBlobCache } from '../../src/blobs/store.js';
import type { Db } from '../../src/core/db.js';
import { md5FromHex } from '../../src/core/digest.js';
import { generateBytes } from '../fake-wandb/content.js';
import {
  HUGE_ENTITY,
  HUGE_FILE_NAME,
  HUGE_FILE_SEED,
  HUGE_FILE_SIZE,
  HUGE_PROJECT,
  HUGE_RUN,
} from '../fake-wandb/fixtures/huge-file.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { md5Of, openTestDb, readAll, tempDir } from './helpers.js';

describe('blob cache over the fake W&B server (real API RangeSource)', () => {
  let fake: FakeWandb;
  let api: WandbApiClient;
  let dir: string;
  let db: Db;
  const runFile = (name: string): FileLocator => ({
    kind: 'run-file',
    entity: HUGE_ENTITY,
    project: HUGE_PROJECT,
    run: HUGE_RUN,
    name,
  });

  before(async () => {
    fake = await startFakeWandb({ fixture: 'huge-file' });
    api = createWandbApi({ baseUrl: fake.url, apiKey: fake.apiKey });
    dir = await tempDir('fake');
    db = openTestDb(dir);
  });
  after(async () => {
    api.close();
    await fake.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads at offset 4 GiB+ of the huge-file fixture byte-exact', async () => {
    const cache = createBlobCache({
      dir,
      db,
      sdkCacheDir: null,
      maxCacheBytes: 64 * 1024 ** 3,
      minFreeBytes: 0,
      freeBytes: () => Promise.resolve(1e15),
      streams: 2,
    });
    try {
      const r = await cache.open({
        // The fill is cancelled long before the end, so the digest is never checked here.
        digest: md5FromHex('00112233445566778899aabbccddeeff')!,
        sizeBytes: HUGE_FILE_SIZE,
        source: () => api.rangeSource(runFile(HUGE_FILE_NAME), HUGE_FILE_NAME),
      });
      for (const off of [4 * 1024 ** 3 + 777_777, HUGE_FILE_SIZE - 100]) {
        const buf = Buffer.alloc(128 * 1024);
        const n = await r.read(buf, buf.length, off);
        assert.equal(n, Math.min(buf.length, HUGE_FILE_SIZE - off));
        assert.ok(buf.subarray(0, n).equals(generateBytes(HUGE_FILE_SEED, off, off + n)), `bytes at ${off}`);
      }
      await r.close();
    } finally {
      await cache.close();
    }
  });

  it('a corrupting server never gets its bytes cached; the next open succeeds', async () => {
    const text = Buffer.from('step 0\nstep 1\n');
    const digest = md5Of(text);
    const cache = createBlobCache({ dir, db, sdkCacheDir: null });
    const source = () => api.rangeSource(runFile('output.log'), 'output.log');
    try {
      fake.faults.storage.corrupt = true;
      const bad = await cache.open({ digest, sizeBytes: text.length, source });
      // Small files are verified before the first byte is served.
      await assert.rejects(readAll(bad, text.length), IntegrityError);
      await bad.close();
      await assert.rejects(readFile(blobPath(dir, digest)), { code: 'ENOENT' });
      fake.faults.storage.corrupt = false;
      const good = await cache.open({ digest, sizeBytes: text.length, source });
      assert.equal((await readAll(good, text.length)).toString(), text.toString());
      await good.close();
    } finally {
      fake.resetFaults();
      await cache.close();
    }
  });
});
