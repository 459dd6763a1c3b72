/**
 * Hostile input: the `hostile` fixture ('..', '.', '', '/', NUL, 300-byte names, case and Unicode
 * normalisation twins, duplicate names, deep paths, manifest paths with '../' or a leading '/').
 * Every name is shown under a safe, deterministic name or skipped with a log line; no symlink resolves
 * outside the mount; nothing is written outside the cache dir; every write-type syscall fails with
 * EROFS and changes nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { slugFor } from '../../src/admin/registry.js';
import { packageRoot } from '../../src/core/package-root.js';
import { HOSTILE_ENTITY, HOSTILE_PROJECT } from '../fake-wandb/fixtures/hostile.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { run } from '../helpers/mount.js';
import { Cleanup, startDaemon, tempDir, walkTree, type Daemon } from './harness.js';

interface Inspection {
  paths: string[];
  bad: string[];
  escaping: { link: string; to: string }[];
  errors: { path: string; errno: number }[];
}

async function inspect(root: string): Promise<Inspection> {
  const r = await run('python3', [join(packageRoot(), 'test/reliability/inspect.py'), root, '.wandbfs'], {
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Inspection;
}

/** Every path under dir (find, as a separate process), relative to dir. */
async function listAll(dir: string): Promise<string[]> {
  const r = await run('find', [dir, '-mindepth', '1']);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((p) => relative(dir, p))
    .sort();
}

// What wandbfs may create under the cache dir: the db, content-addressed blobs, partials, its own
// temp files, the control socket/pid file and the daemon log. No name comes from the server.
const CACHE_LAYOUT =
  /^(wandbfs\.db(-wal|-shm|-journal)?|servers\.json|blobs(\/md5(\/[0-9a-f]{2}(\/[0-9a-f]{32})?)?)?|partial(\/md5-[0-9a-f]{32})?|tmp(\/[0-9]+-[0-9a-f-]+)?|run(\/mount-[0-9a-f]{12}\.(pid|sock))?|logs(\/mount-[0-9a-f]{12}\.log)?)$/;

describe('hostile names from the server', () => {
  const cleanup = new Cleanup();
  let server: FakeWandb;
  let base: string;
  let cacheDir: string;
  let dir: string;
  let d: Daemon;
  let before0: string[];
  let first: Inspection;

  before(async () => {
    server = await startFakeWandb({ fixture: 'hostile' });
    base = cleanup.dir(await tempDir('hostile'));
    cacheDir = join(base, 'cache');
    await mkdir(cacheDir, { mode: 0o700 });
    before0 = await listAll(base);
    dir = cleanup.dir(await tempDir('mnt'));
    d = cleanup.daemon(
      await startDaemon({
        server,
        dir,
        cacheDir,
        args: ['--log-level', 'info'],
        // The mount registry lives under $XDG_CACHE_HOME/wandbfs/mounts: keep it inside `base` too.
        env: { XDG_CACHE_HOME: join(base, 'xdg') },
      }),
    );
  });
  after(async () => {
    await cleanup.run();
    await server?.close();
  });

  it('shows only safe names, no symlink leaves the mount, no listing fails', async () => {
    first = await inspect(dir);
    assert.deepEqual(first.bad, [], 'unsafe names shown');
    assert.deepEqual(first.escaping, [], 'symlinks resolving outside the mount');
    assert.deepEqual(first.errors, [], 'directories that failed to list');
    const runs = first.paths.filter((p) => /^hostile-user\/hostile\/runs\/[^/]+$/.test(p));
    const fxRuns = server.fixture.project(HOSTILE_ENTITY, HOSTILE_PROJECT)!.runs.length;
    assert.equal(runs.length, fxRuns, 'every run is shown (none dropped)');
    assert.ok(
      first.paths.some((p) => p.split('/').length > 80),
      'the 80-level path is reachable',
    );
  });

  it('skipped manifest paths are logged', () => {
    for (const p of ['../escape.txt', '/etc/passwd', 'dup//slash.txt'])
      assert.ok(
        d.log().includes(`"path":${JSON.stringify(p)}`),
        `no log line for the skipped manifest path ${p}`,
      );
  });

  it('every stored file reads back matching its digest', async () => {
    const walk = await walkTree(join(dir, HOSTILE_ENTITY), 90_000);
    let checked = 0;
    for (const [p, f] of Object.entries(walk.files)) {
      if (f.xattrs['user.wandb.digest_algo'] !== 'md5') continue;
      assert.equal(f.errno, undefined, `${p}: errno ${f.errno}`);
      assert.equal(f.md5, f.xattrs['user.wandb.digest'], `${p} byte-exact`);
      checked++;
    }
    assert.ok(checked > 10, `only ${checked} files checked`);
  });

  it('every write-type syscall fails with EROFS and changes nothing', async () => {
    const runDir = join(dir, 'hostile-user/hostile/runs/_');
    const f = join(runDir, 'files/output.log');
    const snapshot = async () => JSON.stringify(await walkTree(runDir));
    const beforeW = await snapshot();
    const attempts: [string, string[]][] = [
      ['touch', [f]],
      ['touch', [join(runDir, 'new-file')]],
      ['sh', ['-c', `echo x > '${f}'`]],
      ['sh', ['-c', `echo x >> '${f}'`]],
      ['truncate', ['-s', '0', f]],
      ['rm', ['-f', f]],
      ['mv', [f, join(runDir, 'moved')]],
      ['mkdir', [join(runDir, 'd')]],
      ['rmdir', [join(runDir, 'files')]],
      ['ln', ['-s', '/etc/passwd', join(runDir, 'l')]],
      ['ln', [f, join(runDir, 'h')]],
      ['chmod', ['777', f]],
      ['chown', ['nobody', f]],
      ['touch', ['-d', '2000-01-01', f]],
      ['setfattr', ['-n', 'user.x', '-v', '1', f]],
      ['setfattr', ['-x', 'user.wandb.id', f]],
      ['cp', ['/etc/hostname', join(runDir, 'files')]],
      ['python3', ['-c', 'import sys; open(sys.argv[1], "r+b")', f]],
      ['python3', ['-c', 'import os,sys; os.mknod(sys.argv[1])', join(runDir, 'node')]],
    ];
    for (const [cmd, args] of attempts) {
      const r = await run(cmd, args);
      assert.notEqual(r.code, 0, `${cmd} ${args.join(' ')} succeeded`);
      assert.match(r.stderr, /Read-only file system|Errno 30/, `${cmd} ${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal(await snapshot(), beforeW, 'the tree changed');
    assert.ok(d.alive());
  });

  it('names are deterministic: a second mount with a fresh cache shows the same tree', async () => {
    const dir2 = cleanup.dir(await tempDir('mnt'));
    const cache2 = cleanup.dir(await tempDir('cache'));
    cleanup.daemon(
      await startDaemon({ server, dir: dir2, cacheDir: cache2, env: { XDG_CACHE_HOME: join(base, 'xdg') } }),
    );
    const second = await inspect(dir2);
    assert.deepEqual(second.paths, first.paths);
  });

  it('nothing is written outside the cache dir, nothing named by the server inside it', async () => {
    await d.stop();
    const after0 = await listAll(base);
    const added = after0.filter((p) => !before0.includes(p));
    for (const p of added) {
      if (p === 'cache' || p.startsWith('cache/')) {
        assert.match(p.slice('cache/'.length), CACHE_LAYOUT, `unexpected file in the cache dir: ${p}`);
        continue;
      }
      // The registry `wandbfs status` reads (outside --cache-dir by design; removed at unmount).
      assert.match(
        p,
        /^xdg(\/wandbfs(\/mounts(\/[0-9a-f]{12}\.json)?)?)?$/,
        `written outside the cache dir: ${p}`,
      );
    }
    // The stopped mount removed its record (the second mount is still up and keeps its own).
    assert.ok(!added.includes(`xdg/wandbfs/mounts/${slugFor(dir)}.json`), 'mount record left behind');
  });
});
