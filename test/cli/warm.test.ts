/**
 * `wandbfs warm`, pins and download progress through a real daemon mount over the fake server: the
 * CLI asks the daemon over its control socket, bytes go through the blob cache as reads would, and
 * the fake server counts each byte once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/package-root.js';
import { findMount } from '../../src/admin/mountinfo.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { forceCleanup, run, tempMountDir, waitFor, type RunResult } from '../helpers/mount.js';

const mainJs = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const MiB = 1024 * 1024;

describe('wandbfs warm and cache pin', () => {
  let server: FakeWandb;
  let home: string;
  let dir: string;
  let cacheDir: string;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[], timeoutMs = 120_000) =>
    run(process.execPath, [mainJs, ...args], { env, timeoutMs });
  const model = (v: string) => join(dir, 'demo-user', 'mnist-classifier', 'artifacts', 'mnist-cnn', v);
  /** Bytes of the blob files in the cache (what is stored, whatever the index says). */
  const blobBytes = async (): Promise<number> => {
    const r = await run('sh', ['-c', `find "${join(cacheDir, 'blobs')}" -type f -printf '%s\\n'`]);
    return r.stdout
      .split('\n')
      .filter(Boolean)
      .reduce((s, n) => s + Number(n), 0);
  };
  /** Sizes of the stored files under a version, from stat through the mount (downloads nothing). */
  const versionFiles = async (v: string): Promise<Map<string, number>> => {
    const r = await run('find', [join(model(v), 'files'), '-type', 'f', '-printf', '%P %s\n']);
    return new Map(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])]),
    );
  };

  before(async () => {
    server = await startFakeWandb({ fixture: 'demo' });
    home = await mkdtemp(join(tmpdir(), 'wandbfs-warm-home-'));
    dir = await tempMountDir('warm');
    cacheDir = join(home, 'cache-warm');
    env = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CACHE_HOME: join(home, 'xdg'),
      WANDB_API_KEY: server.apiKey,
      WANDB_BASE_URL: server.url,
      WANDB_CACHE_DIR: join(home, 'no-sdk-cache'),
    };
    // 5 MiB holds one version (2 MiB of weights) or two, but not the whole collection (6+ MiB).
    const r = await cli([
      'mount',
      dir,
      '--cache-dir',
      cacheDir,
      '--max-cache-size',
      '5M',
      '--min-free-space',
      '0',
    ]);
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    if (await findMount(dir)) await cli(['unmount', '--lazy', dir]);
    await forceCleanup(dir);
    await server?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('--dry-run reports what would be fetched and fetches nothing', async () => {
    const files = await versionFiles('v1');
    server.resetCounters();
    const r = await cli(['warm', '--dry-run', model('v1')]);
    assert.equal(r.code, 0, r.stderr);
    const total = [...files.values()].reduce((s, n) => s + n, 0);
    assert.match(
      r.stdout,
      new RegExp(
        `: ${files.size} file\\(s\\), .*already cached 0 file\\(s\\), 0 B; would fetch ${files.size} file\\(s\\)`,
      ),
    );
    assert.ok(total > 2 * MiB);
    assert.equal(server.counters.storageBytes, 0, 'a dry run downloads nothing');
  });

  it('fills a version with progress lines, each byte fetched once, and a second run fetches nothing', async () => {
    const files = await versionFiles('v1');
    const total = [...files.values()].reduce((s, n) => s + n, 0);
    server.resetCounters();
    server.faults.storage.bandwidthBytesPerSec = 768 * 1024; // ~3 s for the weights: progress shows
    let r: RunResult;
    try {
      r = await cli(['warm', '--jobs', '2', model('v1')]);
    } finally {
      server.faults.storage.bandwidthBytesPerSec = 0;
    }
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^warm: \d+\/2 files, .* of 2\.\d\d MiB, [\d.]+ (B|KiB|MiB)\/s, ETA (\d+:)?\d+:\d\d$/m,
      'one plain line per second',
    );
    assert.match(
      r.stderr,
      /^warm: 1\/2 files, [\d.]+ (KiB|MiB) of .*KiB\/s/m,
      'bytes count while the weights download, not only once they are verified',
    );
    assert.match(r.stdout, /fetched 2 file\(s\), 2\.0\d MiB/);
    assert.equal(server.counters.storageBytes, total, 'every byte of the version, once');
    assert.equal(await blobBytes(), total, 'all of it is in the cache');

    server.resetCounters();
    const again = await cli(['warm', model('v1')]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /fetched 0 file\(s\), 0 B .*2 file\(s\), 2\.0\d MiB were cached already/);
    const cat = await run('cat', [join(model('v1'), 'files', 'model.pt')]);
    assert.equal(cat.code, 0);
    assert.equal(server.counters.storageBytes, 0, 'warm blobs are served from the cache');
  });

  it('status shows a download in progress with percent, rate and ETA', async () => {
    server.faults.storage.bandwidthBytesPerSec = 256 * 1024;
    const warm = spawn(process.execPath, [mainJs, 'warm', model('v0')], { env, stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => warm.once('exit', (c) => res(c)));
    try {
      let shown = '';
      const seen = await waitFor(
        async () => {
          shown = (await cli(['status'])).stdout;
          return /downloading .*model\.pt +\d+\.\d% of 2\.\d\d MiB +[\d.]+ (B|KiB|MiB)\/s +ETA \d+:\d\d/.test(
            shown,
          );
        },
        20_000,
        300,
      );
      assert.ok(seen, `status never showed the download with rate and ETA:\n${shown}`);
    } finally {
      server.faults.storage.bandwidthBytesPerSec = 0;
    }
    const code = await Promise.race([exited, new Promise((res) => setTimeout(() => res('timeout'), 60_000))]);
    assert.equal(code, 0, 'the warm finished once the throttle was lifted');
  });

  it('refuses a warm-up bigger than --max-cache-size, saying so', async () => {
    const all = join(dir, 'demo-user', 'mnist-classifier', 'artifacts', 'mnist-cnn');
    server.resetCounters();
    const before = await blobBytes();
    const dry = await cli(['warm', '--dry-run', all]);
    assert.match(
      dry.stdout,
      /would be refused: warming needs 6\.\d\d MiB in the cache, more than the mount's --max-cache-size 5\.00 MiB/,
    );
    assert.equal(dry.code, 1);
    const r = await cli(['warm', all]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--max-cache-size 5\.00 MiB/);
    assert.match(r.stderr, /hint: warm fewer paths/);
    // listing v2 and v3 fetches their manifests (a few hundred bytes); no file content is fetched
    assert.ok(server.counters.storageBytes < 4096, `${server.counters.storageBytes} bytes fetched`);
    assert.equal(await blobBytes(), before, 'nothing new in the cache');
    const partials = await run('find', [join(cacheDir, 'partial'), '-type', 'f']);
    assert.equal(partials.stdout, '', 'no download was started');
  });

  it('pinned blobs survive `cache prune --max-size 0`; unpinned they go', async () => {
    const pin = await cli(['warm', '--pin', model('v2')]);
    assert.equal(pin.code, 0, pin.stderr);
    assert.match(pin.stdout, /pinned 3 blob\(s\)/);
    const v2 = await versionFiles('v2');
    const pinnedBytes = [...v2.values()].reduce((s, n) => s + n, 0);
    const stats = await cli(['cache', 'stats', '--cache-dir', cacheDir]);
    assert.match(stats.stdout, new RegExp(`pinned +3 blob\\(s\\), 3 of them cached \\(2\\.0\\d MiB\\)`));

    const prune = await cli(['cache', 'prune', '--max-size', '0', '--cache-dir', cacheDir]);
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, /3 pinned blob\(s\) kept/);
    assert.equal(await blobBytes(), pinnedBytes, 'only the pinned version is left');
    const weights = await stat(join(model('v2'), 'files', 'model.pt'));
    assert.equal(weights.size, v2.get('model.pt'));

    const unpin = await cli(['cache', 'unpin', model('v2')]);
    assert.equal(unpin.code, 0, unpin.stderr);
    assert.match(unpin.stdout, /3 unpinned now/);
    const prune2 = await cli(['cache', 'prune', '--max-size', '0', '--cache-dir', cacheDir]);
    assert.equal(prune2.code, 0, prune2.stderr);
    assert.equal(await blobBytes(), 0);
  });

  it('pin by path before download; the size limit evicts around it', async () => {
    const pin = await cli(['cache', 'pin', model('v2')]);
    assert.equal(pin.code, 0, pin.stderr);
    assert.match(pin.stdout, /3 pinned now/);
    // v2 (2 MiB) pinned but not cached; warming v2 then v0 and v1 (2 MiB each) under a 5 MiB limit
    // must evict v0's weights for v1's, never v2's.
    for (const v of ['v2', 'v0', 'v1']) assert.equal((await cli(['warm', model(v)])).code, 0, v);
    const stats = await cli(['cache', 'stats', '--cache-dir', cacheDir]);
    assert.match(stats.stdout, /pinned +3 blob\(s\), 3 of them cached/);
    const cleared = await cli(['cache', 'unpin', '--all', '--cache-dir', cacheDir]);
    assert.match(cleared.stdout, /unpinned 3 blob\(s\)/);
  });

  it('names a path outside any mount, or nothing in it, clearly', async () => {
    const outside = await cli(['warm', home]);
    assert.equal(outside.code, 1);
    assert.match(outside.stderr, /not inside a wandbfs mount/);
    const missing = await cli(['warm', join(dir, 'demo-user', 'no-such-project')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nothing at \/demo-user\/no-such-project/);
  });

  it('unmounts cleanly', async () => {
    const r = await cli(['unmount', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await waitFor(async () => (await findMount(dir)) === null, 10_000), 'mount gone');
  });
});
