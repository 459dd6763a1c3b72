/**
 * Fault 1: kill -9 of the mount daemon in the middle of a throttled multi-hundred-MiB download, then
 * `wandbfs mount` again at the same place. The stale mount is cleared, the download resumes without
 * fetching completed chunks again, and the file reads back byte-exact.
 * WANDBFS_TEST_LARGE=1 uses a 1 GiB file instead of 192 MiB.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { findMount } from '../../src/admin/mountinfo.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { run, waitFor } from '../helpers/mount.js';
import {
  childrenOf,
  Cleanup,
  DEMO_RUN_DIR,
  MiB,
  readFiles,
  startDaemon,
  startReader,
  tempDir,
  type Daemon,
} from './harness.js';

const LARGE = process.env.WANDBFS_TEST_LARGE === '1';
const SIZE = LARGE ? 1024 * MiB + 5 : 192 * MiB + 5;
const CHUNK = 8 * MiB; // BLOB_CACHE_DEFAULTS.chunkBytes, what the CLI uses

function chunksDone(cacheDir: string): number {
  const db = new Database(join(cacheDir, 'wandbfs.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT count(*) AS n FROM blob_partial_chunk').get() as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

describe('kill -9 mid-download, mount again: resume', () => {
  const cleanup = new Cleanup();
  let server: FakeWandb;
  after(async () => {
    await cleanup.run();
    await server?.close();
  });

  it('clears the stale mount, fetches only missing chunks, verifies', { timeout: 180_000 }, async () => {
    server = await startFakeWandb({ fixture: 'demo' });
    const f = server.fixture.addRunFile('demo-user', 'mnist-classifier', 'i9j0k1l2', {
      name: 'big/resume.bin',
      sizeBytes: SIZE,
      seed: 9101,
    });
    const expected = await server.fixture.contentOf(f.blobId)!.md5B64Async();
    const dir = cleanup.dir(await tempDir('mnt'));
    const cacheDir = cleanup.dir(await tempDir('cache'));
    const path = join(dir, DEMO_RUN_DIR, 'big/resume.bin');
    // 8 streams x 4 MiB/s: a few seconds of download before the kill.
    server.faults.storage.bandwidthBytesPerSec = (LARGE ? 12 : 4) * MiB;

    const first: Daemon = cleanup.daemon(await startDaemon({ server, dir, cacheDir }));
    const reader = startReader([path]);
    const enough = Math.floor(SIZE / CHUNK / 3);
    assert.ok(
      await waitFor(async () => chunksDone(cacheDir) >= enough, 120_000, 100),
      `fewer than ${enough} chunks done`,
    );
    // Kill the daemon's children too (the fusermount auto_unmount helper), as an OOM kill of the
    // cgroup or `systemctl kill` would: that leaves a stale mount ("Transport endpoint is not
    // connected") which the next `wandbfs mount` has to clear.
    const helpers = await childrenOf(first.pid);
    for (const c of helpers) process.kill(c, 'SIGKILL');
    await first.kill9();
    const interrupted = (await reader.done)[path]!;
    assert.ok(interrupted.errno !== undefined, 'the reader of the killed daemon gets an error');
    const done = chunksDone(cacheDir);
    assert.ok(done < Math.ceil(SIZE / CHUNK), 'killed before the download finished');
    const firstBytes = server.counters.storageBytes;
    const stale = (await findMount(dir)) !== null;
    assert.ok(stale, 'a stale mount is left behind');
    const probe = await run('stat', [dir]);
    assert.match(probe.stderr, /Transport endpoint is not connected/, 'the stale mount is dead');

    server.resetCounters();
    server.faults.storage.bandwidthBytesPerSec = 0;
    const second = cleanup.daemon(await startDaemon({ server, dir, cacheDir }));
    await second.waitForLog(/clearing stale mount/, 'that the new mount cleared the stale one');
    const r = (await readFiles([path], { timeoutMs: 120_000 }))[path]!;
    assert.equal(r.errno, undefined, `read after remount failed: errno ${r.errno}`);
    assert.equal(r.size, SIZE);
    assert.equal(r.md5, expected, 'resumed file is byte-exact');
    // storageBytes: body bytes sent; only this file is read here (storageByBlob counts requests).
    const secondBytes = server.counters.storageBytes;
    const missing = SIZE - done * CHUNK;
    assert.ok(secondBytes > 0, 'the remaining chunks were fetched');
    assert.ok(
      secondBytes <= missing,
      `after resume fetched ${secondBytes} bytes; only ${missing} were missing (${done} chunks done)`,
    );
    process.stdout.write(
      `# resume: ${done} of ${Math.ceil(SIZE / CHUNK)} chunks done at kill; first daemon fetched ` +
        `${(firstBytes / MiB).toFixed(1)} MiB, second ${(secondBytes / MiB).toFixed(1)} MiB of ` +
        `${(SIZE / MiB).toFixed(1)} MiB; stale mount cleared (${helpers.length} helper(s) killed)\n`,
    );
  });
});
