/**
 * Fault 8: two mounts (two daemons) share one cache dir and read the same files at the same time.
 * No database lock error reaches a reader or the logs; every byte is exact; and each digest is
 * downloaded once: the mount that did not claim a blob reads through the other one's partial file
 * (src/blobs/follow-backend.ts) instead of fetching it again.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { Cleanup, DEMO_RUN_DIR, MiB, readFiles, startDaemon, tempDir, type Daemon } from './harness.js';

describe('two mounts sharing one cache dir', () => {
  const cleanup = new Cleanup();
  let server: FakeWandb;
  after(async () => {
    await cleanup.run();
    await server?.close();
  });

  it('read the same files concurrently without lock errors', { timeout: 120_000 }, async () => {
    server = await startFakeWandb({ fixture: 'demo' });
    const files = [0, 1, 2, 3].map((k) =>
      server.fixture.addRunFile('demo-user', 'mnist-classifier', 'i9j0k1l2', {
        name: `shared/f${k}.bin`,
        sizeBytes: (k < 2 ? 24 * MiB : 2 * MiB) + k,
        seed: 9800 + k,
      }),
    );
    const expected = await Promise.all(files.map((f) => server.fixture.contentOf(f.blobId)!.md5B64Async()));
    const total = files.reduce((s, f) => s + f.sizeBytes, 0);
    const cacheDir = cleanup.dir(await tempDir('cache'));
    const dirs = [cleanup.dir(await tempDir('mnt')), cleanup.dir(await tempDir('mnt'))];
    const daemons: Daemon[] = [];
    for (const dir of dirs) daemons.push(cleanup.daemon(await startDaemon({ server, dir, cacheDir })));
    server.resetCounters();
    server.faults.storage.bandwidthBytesPerSec = 4 * MiB;
    const paths = (dir: string) => files.map((_, k) => join(dir, DEMO_RUN_DIR, `shared/f${k}.bin`));
    const results = await Promise.all(
      dirs.map((d) => readFiles(paths(d), { threads: 4, timeoutMs: 90_000 })),
    );
    for (const [m, r] of results.entries()) {
      for (const [k, path] of paths(dirs[m]!).entries()) {
        const warn = () =>
          daemons[m]!.log()
            .split('\n')
            .filter((l) => /WARN|ERROR/.test(l))
            .join('\n');
        assert.equal(r[path]!.errno, undefined, `mount ${m} file ${k}: errno ${r[path]!.errno}\n${warn()}`);
        assert.equal(r[path]!.md5, expected[k], `mount ${m} file ${k} byte-exact`);
      }
    }
    for (const d of daemons) {
      assert.ok(d.alive());
      assert.doesNotMatch(d.log(), /database is locked|SQLITE_BUSY|unhandled rejection/i);
    }
    const fetched = server.counters.storageBytes;
    const factor = fetched / total;
    assert.ok(fetched >= total, 'every byte was fetched at least once');
    // Exactly once, give or take a few retried bytes: a stream is never started for a followed blob.
    assert.ok(factor <= 1.02, `downloaded ${factor.toFixed(2)}x the content (bound: once per digest)`);

    // Afterwards both mounts serve from the one cached copy: no new downloads.
    server.resetCounters();
    const again = await Promise.all(dirs.map((d) => readFiles(paths(d), { threads: 4 })));
    for (const [m, r] of again.entries())
      for (const [k, path] of paths(dirs[m]!).entries()) assert.equal(r[path]!.md5, expected[k]);
    const refetched = server.counters.storageBytes;
    process.stdout.write(
      `# shared cache: first pass downloaded ${factor.toFixed(2)}x the content of ${files.length} files; ` +
        `second pass ${(refetched / MiB).toFixed(1)} MiB\n`,
    );
    assert.equal(refetched, 0, `second pass re-downloaded ${refetched} bytes`);
  });
});
