/**
 * The long-lived mount and an unreachable W&B (issue 16): mounting against a server that refuses
 * connections is refused unless the cache holds its listings (or --offline is given); while offline
 * a miss fails in well under 2 s with ENETUNREACH and one log line, cached listings and bytes keep
 * being served; when the server is back, stale listings refresh without anyone listing them.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/package-root.js';
import { findMount } from '../../src/admin/mountinfo.js';
import type { FixtureBase } from '../fake-wandb/fixture-base.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { run, waitFor } from '../helpers/mount.js';
import { Cleanup, DEMO_RUN_DIR, MiB, readFiles, startDaemon, tempDir } from './harness.js';

const ENETUNREACH = 101;
const MAIN = join(packageRoot(), 'dist/src/cli/main.js');

/** Lists a directory in a separate process: the entries, or the errno and how long it took. */
async function listDir(path: string): Promise<{ names?: string[]; errno?: number; ms: number }> {
  const script =
    'import json,os,sys,time\n' +
    't=time.monotonic()\n' +
    'try: r={"names": sorted(os.listdir(sys.argv[1]))}\n' +
    'except OSError as e: r={"errno": e.errno}\n' +
    'r["ms"]=int((time.monotonic()-t)*1000)\n' +
    'print(json.dumps(r))\n';
  const r = await run('python3', ['-c', script, path], { timeoutMs: 150_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { names?: string[]; errno?: number; ms: number };
}

async function connectivityOf(dir: string): Promise<{ state: string; since: string; reason: string | null }> {
  const r = await run('cat', [join(dir, '.wandbfs/status.json')], { timeoutMs: 10_000 });
  assert.equal(r.code, 0, r.stderr);
  const c = (
    JSON.parse(r.stdout) as { connectivity?: { state: string; since: string; reason: string | null } }
  ).connectivity;
  assert.ok(c, `status.json has a connectivity block: ${r.stdout.slice(0, 500)}`);
  return c;
}

describe('unreachable W&B: at mount time, while mounted, and when it comes back', () => {
  const cleanup = new Cleanup();
  let server: FakeWandb;
  let base: string;
  after(async () => {
    await cleanup.run();
    await server?.close();
  });

  it('refuses to mount an unreachable server over an empty cache, naming the URL and --offline', async () => {
    server = await startFakeWandb({ fixture: 'demo' });
    base = cleanup.dir(await tempDir('offline'));
    const dir = cleanup.dir(await tempDir('mnt'));
    await server.stop();
    const env = {
      ...process.env,
      WANDB_API_KEY: server.apiKey,
      XDG_CACHE_HOME: join(base, 'xdg'),
    };
    for (const mode of [[], ['--foreground']]) {
      const t0 = Date.now();
      const r = await run(
        process.execPath,
        [MAIN, 'mount', dir, '--base-url', server.url, '--cache-dir', join(base, 'empty-cache'), ...mode],
        { env, timeoutMs: 60_000 },
      );
      assert.notEqual(r.code, 0, `mount ${mode.join(' ')} must fail: ${r.stdout}`);
      assert.match(r.stderr, /cannot reach W&B at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED/);
      assert.match(r.stderr, /--offline/);
      assert.ok(Date.now() - t0 < 30_000, `refusal took ${Date.now() - t0} ms`);
      assert.equal(await findMount(dir), null, 'nothing mounted');
    }
  });

  it('mounts with --offline over an empty cache; what is not cached fails fast with ENETUNREACH', async () => {
    const dir = cleanup.dir(await tempDir('mnt'));
    const d = cleanup.daemon(
      await startDaemon({
        server,
        dir,
        cacheDir: join(base, 'empty-cache'),
        args: ['--offline'],
        env: { XDG_CACHE_HOME: join(base, 'xdg') },
      }),
    );
    const c = await connectivityOf(dir);
    assert.equal(c.state, 'offline');
    assert.match(c.reason ?? '', /--offline/);
    const root = await listDir(dir);
    assert.equal(root.errno, ENETUNREACH, `root of an empty offline mount: ${JSON.stringify(root)}`);
    assert.ok(root.ms < 2000, `the miss took ${root.ms} ms`);
    await d.stop();
  });

  it(
    'serves cached listings and bytes offline, fails misses in < 2 s, refreshes on reconnect',
    {
      timeout: 180_000,
    },
    async () => {
      await server.start();
      const cacheDir = join(base, 'cache');
      const dir = cleanup.dir(await tempDir('mnt'));
      const xdg = { XDG_CACHE_HOME: join(base, 'xdg') };
      const uncached = server.fixture.addRunFile('demo-user', 'mnist-classifier', 'i9j0k1l2', {
        name: 'offline/uncached.bin',
        sizeBytes: 2 * MiB + 3,
        seed: 1616,
      });
      const args = ['--ttl-listing', '1s', '--log-level', 'info'];
      // Online: list the project's runs (their files come inline) and read one file.
      const online = await startDaemon({ server, dir, cacheDir, args, env: xdg });
      const runsDir = join(dir, 'demo-user/mnist-classifier/runs');
      const runsBefore = await listDir(runsDir);
      assert.ok(runsBefore.names && runsBefore.names.length > 0, JSON.stringify(runsBefore));
      const cachedFile = join(dir, DEMO_RUN_DIR, 'config.yaml');
      const first = (await readFiles([cachedFile]))[cachedFile]!;
      assert.equal(first.errno, undefined);
      await online.stop();

      await server.stop();
      const project = server.fixture.project('demo-user', 'mnist-classifier');
      assert.ok(project);
      // The Fixture interface has no addRun; the fake's fixture object is a FixtureBase.
      (server.fixture as FixtureBase).addRun(project, {
        name: 'newrun01',
        displayName: 'born-while-offline',
        state: 'finished',
        config: {},
        summary: {},
        tags: [],
        group: null,
        jobType: null,
        sweepName: null,
        createdAt: '2024-06-01T00:00:00Z',
        heartbeatAt: null,
        updatedAt: '2024-06-01T00:00:00Z',
      });
      // No --offline: the cache holds listings from this server, so the mount comes up offline.
      const d = cleanup.daemon(await startDaemon({ server, dir, cacheDir, args, env: xdg }));
      assert.match(d.log(), /serving cached data offline/);
      const c = await connectivityOf(dir);
      assert.equal(c.state, 'offline');
      assert.match(c.reason ?? '', /ECONNREFUSED/);
      const status = await run(process.execPath, [MAIN, 'status'], {
        env: { ...process.env, ...xdg },
        timeoutMs: 20_000,
      });
      assert.match(status.stdout, /W&B: OFFLINE since \S+ \(ECONNREFUSED/, status.stdout);

      // Cached listings and bytes are served.
      assert.deepEqual((await listDir(runsDir)).names, runsBefore.names);
      assert.equal((await readFiles([cachedFile]))[cachedFile]!.md5, first.md5);
      // A directory never listed and a file never read fail fast, with one log line each.
      const logBefore = d.log().length;
      const artifacts = await listDir(join(dir, 'demo-user/mnist-classifier/artifacts'));
      assert.equal(artifacts.errno, ENETUNREACH, JSON.stringify(artifacts));
      assert.ok(artifacts.ms < 2000, `uncached directory offline took ${artifacts.ms} ms`);
      const filePath = join(dir, DEMO_RUN_DIR, uncached.name);
      const miss = (await readFiles([filePath]))[filePath]!;
      assert.equal(miss.errno, ENETUNREACH, JSON.stringify(miss));
      assert.ok(miss.ms < 2000, `uncached file offline took ${miss.ms} ms`);
      const logged = d.log().slice(logBefore).split('\n');
      assert.equal(logged.filter((l) => /retrying/.test(l)).length, 0, 'no retries while offline');
      assert.equal(logged.filter((l) => /fuse op failed.*\/artifacts"/.test(l)).length, 1, logged.join('\n'));

      // The server comes back: the probe notices, and the stale runs listing (its refresh failed
      // offline) is fetched again with nobody listing it.
      const runsFetches = server.counters.graphqlOps['ProjectRuns'] ?? 0;
      await server.start();
      assert.ok(
        await waitFor(async () => (await connectivityOf(dir)).state === 'online', 40_000, 250),
        'status.json says online again within 40 s',
      );
      assert.ok(
        await waitFor(
          async () => (server.counters.graphqlOps['ProjectRuns'] ?? 0) > runsFetches,
          20_000,
          100,
        ),
        'the stale runs listing was refetched after the reconnect',
      );
      assert.ok(
        await waitFor(
          async () => ((await listDir(runsDir)).names ?? []).includes('born-while-offline'),
          10_000,
          200,
        ),
        'the run created while offline is listed',
      );
      assert.match(d.log(), /W&B is reachable again/);
      assert.equal(
        (await readFiles([filePath]))[filePath]!.md5,
        uncached.md5B64,
        'the miss reads once online',
      );
    },
  );
});
