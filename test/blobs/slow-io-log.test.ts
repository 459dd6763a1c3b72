import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inlineReads, inlineWrites, SLOW_READ_MS, SLOW_WRITE_MS } from '../../src/blobs/inline-io.js';
import { createBlobCache } from '../../src/blobs/store.js';
import { createLogger } from '../../src/core/log.js';
import { openTestDb, tempDir } from './helpers.js';

// Its own file (its own process): it switches the process-wide policies to the pool.
describe('a slow cache disk is logged', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('slowio');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('once per switch to the pool, by an open cache only', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', sink: { write: (l) => lines.push(l) } });
    const db = openTestDb(dir);
    const cache = createBlobCache({ dir: join(dir, 'cache'), db, sdkCacheDir: null, log });
    try {
      inlineReads.took(SLOW_READ_MS + 7.4, performance.now());
      inlineWrites.took(SLOW_WRITE_MS + 1, performance.now());
      const slow = lines.filter((l) => l.includes('cache disk slow'));
      assert.equal(slow.length, 2, lines.join('\n'));
      assert.match(slow[0] ?? '', /a read of a cached blob took 12 ms; going through the thread pool/);
      assert.match(slow[1] ?? '', /a write to a download took 21 ms/);
    } finally {
      await cache.close();
      db.close();
    }
    inlineReads.took(SLOW_READ_MS + 1, performance.now());
    assert.equal(lines.filter((l) => l.includes('cache disk slow')).length, 2, 'a closed cache says nothing');
  });
});
