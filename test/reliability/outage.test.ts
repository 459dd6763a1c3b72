/**
 * Faults 4 and 9: W&B goes away (server stopped) and storage bodies that stall. Cached listings and
 * files keep being served; an uncached read fails (ENETUNREACH when W&B refuses connections, EIO for a
 * stall) within the configured timeout while other operations still answer; once the fault is gone,
 * uncached reads work again without a remount.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { run } from '../helpers/mount.js';
import {
  checkWalkAgainstFixture,
  Cleanup,
  DEMO_RUN_DIR,
  MiB,
  readFiles,
  sleep,
  startDaemon,
  tempDir,
  walkTree,
  type Daemon,
  type ReadResult,
} from './harness.js';

const EIO = 5;
const ENETUNREACH = 101;

/** Reads until it succeeds (the fault is gone but a fill may still sit in a backoff). */
async function readUntilOk(path: string, withinMs: number): Promise<{ r: ReadResult; tookMs: number }> {
  const t0 = Date.now();
  let r: ReadResult = { size: 0, ms: 0 };
  while (Date.now() - t0 < withinMs) {
    r = (await readFiles([path], { timeoutMs: withinMs }))[path]!;
    if (r.errno === undefined) break;
    await sleep(500);
  }
  return { r, tookMs: Date.now() - t0 };
}

/** Starts a read, and while it is pending checks that `ls` of a cached directory answers fast. */
async function readWhileListing(path: string, lsDir: string): Promise<{ r: ReadResult; lsMs: number[] }> {
  const pending = readFiles([path], { timeoutMs: 60_000 });
  const lsMs: number[] = [];
  await sleep(300);
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    const ls = await run('ls', ['-la', lsDir], { timeoutMs: 10_000 });
    assert.equal(ls.code, 0, `ls ${lsDir} while a read is blocked: ${ls.stderr}`);
    lsMs.push(Date.now() - t0);
    await sleep(200);
  }
  return { r: (await pending)[path]!, lsMs };
}

describe('server stopped: offline service and recovery', () => {
  const cleanup = new Cleanup();
  let server: FakeWandb;
  after(async () => {
    await cleanup.run();
    await server?.close();
  });

  it(
    'serves what is cached, fails uncached reads with EIO in time, recovers',
    { timeout: 150_000 },
    async () => {
      server = await startFakeWandb({ fixture: 'demo' });
      const f = server.fixture.addRunFile('demo-user', 'mnist-classifier', 'i9j0k1l2', {
        name: 'offline/uncached.bin',
        sizeBytes: 2 * MiB + 1,
        seed: 9303,
      });
      const dir = cleanup.dir(await tempDir('mnt'));
      const cacheDir = cleanup.dir(await tempDir('cache'));
      const d: Daemon = cleanup.daemon(
        await startDaemon({ server, dir, cacheDir, args: ['--read-timeout', '3s', '--log-level', 'info'] }),
      );
      const project = join(dir, 'demo-user/mnist-classifier');
      const uncachedDir = join(dir, DEMO_RUN_DIR, 'offline');
      const uncached = join(uncachedDir, 'uncached.bin');
      // Online: list the uncached file's directory (not its bytes), read everything else of the project.
      assert.equal((await run('ls', [uncachedDir])).code, 0);
      const online = await walkTree(join(project, 'artifacts'));
      const onlineRuns = await walkTree(join(project, 'runs', 'a1b2c3d4'));
      assert.ok(checkWalkAgainstFixture(server, onlineRuns, []) > 5);

      await server.stop();
      // Offline: the same trees, the same bytes.
      const offline = await walkTree(join(project, 'artifacts'));
      assert.deepEqual(offline, online, 'cached artifact tree and bytes served offline');
      assert.deepEqual(await walkTree(join(project, 'runs', 'a1b2c3d4')), onlineRuns);
      // An uncached read fails with ENETUNREACH (W&B refuses connections: offline) within the read
      // timeout; ls elsewhere keeps answering.
      const { r, lsMs } = await readWhileListing(uncached, join(project, 'artifacts'));
      assert.equal(r.errno, ENETUNREACH, `uncached read offline: ${JSON.stringify(r)}`);
      assert.ok(r.ms < 3000 + 5000, `EIO took ${r.ms} ms with a 3 s read timeout`);
      assert.ok(Math.max(...lsMs) < 2000, `ls took ${lsMs.join('/')} ms during the blocked read`);

      await server.start();
      const back = await readUntilOk(uncached, 60_000);
      assert.equal(back.r.errno, undefined, 'uncached read after the server came back');
      assert.equal(back.r.md5, f.md5B64);
      assert.ok(d.alive());
      process.stdout.write(
        `# outage: ENETUNREACH after ${r.ms} ms, ls ${lsMs.join('/')} ms meanwhile; read ok ${back.tookMs} ms after restart\n`,
      );
    },
  );
});

describe('stalled storage body', () => {
  const cleanup = new Cleanup();
  let server: FakeWandb;
  after(async () => {
    await cleanup.run();
    await server?.close();
  });

  const variants = [
    { name: 'CLI --read-timeout 3s', args: ['--read-timeout', '3s'], limitMs: 3000 },
    // The blob watchdog fails waiting reads at 3 s; the storage client drops the silent connection
    // at 1.5 s, so the read after the stall clears does not wait on the dead one.
    { name: 'CLI --stall-timeout 3s', args: ['--stall-timeout', '3s', '--log-level', 'info'], limitMs: 3000 },
  ];
  let seed = 9400;
  for (const v of variants) {
    it(
      `fails the reader with EIO after the stall timeout (${v.name}), then recovers`,
      { timeout: 90_000 },
      async () => {
        server ??= await startFakeWandb({ fixture: 'demo' });
        server.resetFaults();
        const name = `stall/file-${seed}.bin`;
        const f = server.fixture.addRunFile('demo-user', 'mnist-classifier', 'i9j0k1l2', {
          name,
          sizeBytes: 3 * MiB + 7,
          seed: seed++,
        });
        const dir = cleanup.dir(await tempDir('mnt'));
        const cacheDir = cleanup.dir(await tempDir('cache'));
        const d = cleanup.daemon(
          await startDaemon({
            server,
            dir,
            cacheDir,
            args: v.args,
          }),
        );
        const path = join(dir, DEMO_RUN_DIR, name);
        const project = join(dir, 'demo-user/mnist-classifier');
        assert.equal((await run('ls', [join(project, 'runs')])).code, 0);
        server.faults.storage.stall = true;
        const { r, lsMs } = await readWhileListing(path, join(project, 'runs'));
        assert.equal(r.errno, EIO, `stalled read: ${JSON.stringify(r)}`);
        assert.ok(r.ms >= v.limitMs - 500, `EIO came before the stall timeout (${r.ms} ms)`);
        assert.ok(r.ms < v.limitMs + 8000, `EIO took ${r.ms} ms`);
        assert.ok(Math.max(...lsMs) < 2000, `ls took ${lsMs.join('/')} ms during the stall`);
        assert.ok(d.alive());
        server.faults.storage.stall = false;
        const back = await readUntilOk(path, 60_000);
        assert.equal(back.r.md5, f.md5B64, 'read after the stall cleared');
        process.stdout.write(`# stall (${v.name}): EIO after ${r.ms} ms; ok again after ${back.tookMs} ms\n`);
      },
    );
  }
});
