/**
 * Fault 7: `wandbfs cache prune --max-size 0` and `wandbfs cache clear` run while readers stream large
 * files through a mount on the same cache dir. The readers finish byte-exact; blobs open in the mount
 * are kept and reported as pinned; blobs nobody uses are removed.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { md5FromBase64 } from '../../src/core/digest.js';
import { packageRoot } from '../../src/core/package-root.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { run } from '../helpers/mount.js';
import { waitUntil } from '../helpers/wait.js';
import { Cleanup, DEMO_RUN_DIR, MiB, readFiles, startDaemon, tempDir } from './harness.js';

/** Opens argv[1], creates argv[2] to say so, waits for argv[3] to exist (60 s at most), then reads. */
const HOLD = `
import base64, hashlib, os, sys, time
f = open(sys.argv[1], "rb")
open(sys.argv[2], "w").close()
deadline = time.time() + 60
while not os.path.exists(sys.argv[3]) and time.time() < deadline:
    time.sleep(0.02)
print(base64.b64encode(hashlib.md5(f.read()).digest()).decode())
`;

describe('cache prune and clear while readers stream', () => {
  const cleanup = new Cleanup();
  let server: FakeWandb;
  after(async () => {
    await cleanup.run();
    await server?.close();
  });

  it('readers finish byte-exact; pinned blobs kept and reported', { timeout: 120_000 }, async () => {
    server = await startFakeWandb({ fixture: 'demo' });
    const add = (name: string, sizeBytes: number, seed: number) =>
      server.fixture.addRunFile('demo-user', 'mnist-classifier', 'i9j0k1l2', { name, sizeBytes, seed });
    const streamed = [add('prune/a.bin', 48 * MiB + 1, 9701), add('prune/b.bin', 48 * MiB + 2, 9702)];
    const held = add('prune/held.bin', 20 * MiB + 3, 9703);
    const idle = add('prune/idle.bin', 1 * MiB + 4, 9704);
    const md5 = async (f: { blobId: string }) => server.fixture.contentOf(f.blobId)!.md5B64Async();
    const dir = cleanup.dir(await tempDir('mnt'));
    const cacheDir = cleanup.dir(await tempDir('cache'));
    cleanup.daemon(await startDaemon({ server, dir, cacheDir }));
    const p = (name: string) => join(dir, DEMO_RUN_DIR, name);
    const blobFile = (b64: string) => {
      const hex = md5FromBase64(b64)!.hex;
      return join(cacheDir, 'blobs', 'md5', hex.slice(0, 2), hex);
    };

    // Cache two blobs; one will be held open during the prune, the other is idle.
    const warm = await readFiles([p('prune/held.bin'), p('prune/idle.bin')]);
    assert.equal(warm[p('prune/held.bin')]!.md5, await md5(held));
    assert.equal(warm[p('prune/idle.bin')]!.md5, await md5(idle));
    // The readers are served before the fills commit their blobs in the background.
    await waitUntil(
      'both warmed blobs to be committed',
      () => existsSync(blobFile(held.md5B64)) && existsSync(blobFile(idle.md5B64)),
    );

    server.faults.storage.bandwidthBytesPerSec = 2 * MiB; // ~3 s per 48 MiB file on 8 streams
    const opened = join(cacheDir, '..', `held-open-${process.pid}`);
    const release = join(cacheDir, '..', `held-release-${process.pid}`);
    cleanup.add(() => rm(opened, { force: true }));
    cleanup.add(() => rm(release, { force: true }));
    const holder = run('python3', ['-c', HOLD, p('prune/held.bin'), opened, release], { timeoutMs: 90_000 });
    const readers = readFiles([p('prune/a.bin'), p('prune/b.bin')], { threads: 2, timeoutMs: 90_000 });
    await waitUntil('the holder to have the pinned file open', () => existsSync(opened));
    await waitUntil(
      'the streaming readers to be downloading',
      () => (server.counters.inFlight.storage ?? 0) > 0,
    );
    const cli = (args: string[]) =>
      run(
        process.execPath,
        [join(packageRoot(), 'dist/src/cli/main.js'), 'cache', ...args, '--cache-dir', cacheDir],
        {
          timeoutMs: 30_000,
        },
      );
    const prune = await cli(['prune', '--max-size', '0']);
    assert.equal(prune.code, 0, prune.stderr);
    const clear = await cli(['clear']);
    await writeFile(release, '');
    assert.equal(clear.code, 0, clear.stderr);
    const heldHex = md5FromBase64(held.md5B64)!.hex;
    assert.match(prune.stdout, new RegExp(`skipped md5:${heldHex}`), `prune output:\n${prune.stdout}`);
    assert.match(prune.stdout, /pinned blob\(s\) kept/);
    assert.ok(existsSync(blobFile(held.md5B64)), 'the pinned blob is kept');
    assert.ok(!existsSync(blobFile(idle.md5B64)), 'the idle blob is pruned');

    const r = await readers;
    for (const [i, f] of streamed.entries()) {
      const got = r[p(`prune/${'ab'[i]}.bin`)]!;
      assert.equal(got.errno, undefined, `streamed reader ${i}: errno ${got.errno}`);
      assert.equal(got.md5, await md5(f), `streamed reader ${i} byte-exact`);
    }
    const h = await holder;
    assert.equal(h.code, 0, h.stderr);
    assert.equal(h.stdout.trim(), held.md5B64, 'the reader holding a pinned blob reads it byte-exact');
    // The pruned idle blob is simply downloaded again.
    server.faults.storage.bandwidthBytesPerSec = 0;
    assert.equal((await readFiles([p('prune/idle.bin')]))[p('prune/idle.bin')]!.md5, idle.md5B64);
    process.stdout.write(
      `# prune: ${prune.stdout.trim().split('\n').length} lines; clear: ${clear.stdout.trim().split('\n').at(-1)}\n`,
    );
  });
});
