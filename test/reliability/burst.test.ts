/**
 * Fault 10: a burst of 64 concurrent readers of different files plus `find` over the `large` fixture.
 * No error, every byte exact, in-flight requests never above the API layer's limits (GraphQL 8,
 * storage 16), and the daemon's peak RSS (VmHWM) is reported and bounded.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { API_DEFAULTS } from '../../src/api/client.js';
import { LARGE_ENTITY, LARGE_PROJECT, largeRunName } from '../fake-wandb/fixtures/large.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { run } from '../helpers/mount.js';
import { Cleanup, MiB, memoryOf, readFiles, startDaemon, tempDir } from './harness.js';

const LARGE = process.env.WANDBFS_TEST_LARGE === '1';
// Large: more readers. `find` stays at depth 3: depth 4 lists every run's files, 10,000 sequential
// listings, which is the metadata benchmark's job (bench/), not a bounded test's.
const READERS = LARGE ? 128 : 64;

describe(`burst: ${READERS} concurrent readers plus find over the large fixture`, () => {
  const cleanup = new Cleanup();
  let server: FakeWandb;
  after(async () => {
    await cleanup.run();
    await server?.close();
  });

  it('no error, byte-exact, within the concurrency limits', { timeout: 300_000 }, async () => {
    server = await startFakeWandb({ fixture: 'large' });
    server.faults.graphql.latencyMs = 20;
    server.faults.storage.latencyMs = 20;
    const dir = cleanup.dir(await tempDir('mnt'));
    const cacheDir = cleanup.dir(await tempDir('cache'));
    const d = cleanup.daemon(await startDaemon({ server, dir, cacheDir }));
    const project = join(dir, LARGE_ENTITY, LARGE_PROJECT);
    const targets: { path: string; md5: string }[] = [];
    for (let i = 0; i < READERS; i++) {
      const runName = largeRunName(i * 37);
      const fx = server.fixture.run(LARGE_ENTITY, LARGE_PROJECT, runName)!;
      const f = fx.files.at((i * 7) % fx.files.length)!;
      targets.push({ path: join(project, 'runs', runName, 'files', f.name), md5: f.md5B64 });
    }
    server.resetCounters();
    const t0 = Date.now();
    // Deadlines are for hangs, not speed: on a loaded 2-core machine this burst alone takes minutes.
    const find = run('find', [project, '-maxdepth', '3'], { timeoutMs: 240_000 });
    const reads = readFiles(
      targets.map((t) => t.path),
      { threads: READERS, timeoutMs: 240_000 },
    );
    const [f, r] = await Promise.all([find, reads]);
    const took = Date.now() - t0;
    assert.equal(f.code, 0, `find: ${f.stderr.slice(0, 2000)}`);
    const found = f.stdout.trim().split('\n').length;
    assert.ok(found > 10_000, `find listed only ${found} entries`);
    for (const t of targets) {
      const got = r[t.path]!;
      assert.equal(got.errno, undefined, `${t.path}: errno ${got.errno}`);
      assert.equal(got.md5, t.md5, `${t.path} byte-exact`);
    }
    const max = server.counters.maxInFlight;
    assert.ok(max.graphql <= API_DEFAULTS.graphqlConcurrency, `GraphQL in flight peaked at ${max.graphql}`);
    assert.ok(max.storage <= API_DEFAULTS.downloadConcurrency, `storage in flight peaked at ${max.storage}`);
    const mem = await memoryOf(d.pid);
    assert.ok(d.alive());
    assert.ok(mem.hwm < 1024 * MiB, `peak RSS ${(mem.hwm / MiB).toFixed(0)} MiB`);
    process.stdout.write(
      `# burst: ${READERS} readers + find (${found} entries) in ${took} ms; in flight max graphql ` +
        `${max.graphql}, storage ${max.storage}; daemon VmHWM ${(mem.hwm / MiB).toFixed(0)} MiB, ` +
        `VmRSS ${(mem.rss / MiB).toFixed(0)} MiB\n`,
    );
  });
});
