/**
 * Security: cache dir 0700, database 0600, blobs unreadable by other users; the mount is invisible to
 * other users unless --allow-other; the API key never appears in logs (debug level), the cache dir
 * (database, WAL, logs), status.json, error messages or the daemon's /proc/<pid>/cmdline; signed URLs
 * never appear in logs in full. Uses the real background daemon (`wandbfs mount` without -f) and
 * runs as root, testing the other user as `nobody` via runuser.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/package-root.js';
import { findMount } from '../../src/admin/mountinfo.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { run, waitFor } from '../helpers/mount.js';
import { Cleanup, detach, readFiles, startDaemon, tempDir } from './harness.js';

const MAIN = () => join(packageRoot(), 'dist/src/cli/main.js');
const asNobody = (cmd: string, args: string[]) => run('runuser', ['-u', 'nobody', '--', cmd, ...args]);

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

describe('security of the cache, the mount and the API key', () => {
  const cleanup = new Cleanup();
  let server: FakeWandb;
  let key: string;
  let base: string;
  let cacheDir: string;
  let dir: string;
  let pid = 0;
  let mountOut = '';
  const env = () => ({ ...process.env, WANDB_API_KEY: key, XDG_CACHE_HOME: join(base, 'xdg') });

  before(async () => {
    key = 'local-' + randomBytes(20).toString('hex');
    server = await startFakeWandb({ fixture: 'demo', apiKey: key });
    base = cleanup.dir(await tempDir('sec'));
    // Only the cache dir's own permissions may protect it: open up everything around it.
    await chmod(base, 0o755);
    cacheDir = join(base, 'cache'); // created by wandbfs
    dir = cleanup.dir(await tempDir('mnt'));
    await chmod(dir, 0o755);
    const m = await run(
      process.execPath,
      [MAIN(), 'mount', dir, '--cache-dir', cacheDir, '--base-url', server.url, '--log-level', 'debug'],
      { env: env(), timeoutMs: 60_000 },
    );
    mountOut = m.stdout + m.stderr;
    assert.equal(m.code, 0, mountOut);
    pid = Number(/pid (\d+)/.exec(m.stdout)?.[1] ?? 0);
    assert.ok(pid > 0, `no pid in: ${m.stdout}`);
    cleanup.add(async () => {
      await run(process.execPath, [MAIN(), 'unmount', dir], { env: env() });
      await waitFor(async () => (await findMount(dir)) === null, 5000);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await detach(dir);
    });
  });
  after(async () => {
    await cleanup.run();
    await server?.close();
  });

  it('reads work and leave a blob in the cache', async () => {
    const f = server.fixture
      .run('demo-user', 'mnist-classifier', 'a1b2c3d4')!
      .files.get('checkpoints/model.pt')!;
    const p = join(dir, 'demo-user/mnist-classifier/runs/a1b2c3d4/files/checkpoints/model.pt');
    assert.equal((await readFiles([p]))[p]!.md5, f.md5B64);
    // An error path too: a reference entry cannot be read (EACCES: its bytes live elsewhere).
    const ref = join(dir, 'demo-user/mnist-classifier/artifacts/mnist/v1/files/raw/mnist.tar.gz');
    assert.equal((await readFiles([ref]))[ref]!.errno, 13);
  });

  it('cache dir is 0700, database files 0600, blobs unreadable by others', async () => {
    assert.equal((await stat(cacheDir)).mode & 0o777, 0o700, 'cache dir mode');
    for (const n of ['wandbfs.db', 'wandbfs.db-wal', 'wandbfs.db-shm']) {
      const s = await stat(join(cacheDir, n)).catch(() => null);
      if (n === 'wandbfs.db') assert.ok(s, 'db exists');
      if (s) assert.equal(s.mode & 0o077, 0, `${n} mode ${(s.mode & 0o777).toString(8)}`);
    }
    const files = await filesUnder(cacheDir);
    const blobs = files.filter((f) => f.includes('/blobs/'));
    assert.ok(blobs.length > 0, 'no blob cached');
    for (const f of files) {
      const mode = (await stat(f)).mode & 0o777;
      assert.equal(mode & 0o004, 0, `${f} is world-readable (${mode.toString(8)})`);
    }
    const r = await asNobody('cat', [blobs[0]!]);
    assert.notEqual(r.code, 0, 'nobody can read a cached blob');
    const ls = await asNobody('ls', [cacheDir]);
    assert.notEqual(ls.code, 0, 'nobody can list the cache dir');
  });

  it('the mount is invisible to other users without --allow-other', async () => {
    const r = await asNobody('ls', [dir]);
    assert.notEqual(r.code, 0, `nobody listed the mount: ${r.stdout}`);
    assert.match(r.stderr, /Permission denied/);
  });

  it('with --allow-other another user can read it', async () => {
    const d2 = await tempDir('mnt');
    cleanup.dir(d2);
    await chmod(d2, 0o755);
    const c2 = cleanup.dir(await tempDir('cache'));
    const daemon = cleanup.daemon(
      await startDaemon({
        server: { url: server.url, apiKey: key },
        dir: d2,
        cacheDir: c2,
        args: ['--allow-other'],
      }),
    );
    const f = join(d2, 'demo-user/mnist-classifier/runs/a1b2c3d4/files/config.yaml');
    const r = await asNobody('md5sum', [f]);
    assert.equal(r.code, 0, r.stderr);
    await daemon.stop();
  });

  it('the API key is nowhere: logs, cache dir bytes, status.json, errors, cmdline', async () => {
    const status = await run('cat', [join(dir, '.wandbfs/status.json')]);
    assert.equal(status.code, 0, status.stderr);
    assert.ok(!status.stdout.includes(key), 'key in status.json');
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    assert.ok(!cmdline.includes(key), 'key in the daemon cmdline');
    assert.ok(!mountOut.includes(key), 'key in mount output');
    let logBytes = 0;
    for (const f of await filesUnder(cacheDir)) {
      const bytes = await readFile(f);
      assert.ok(!bytes.includes(Buffer.from(key)), `key in ${f}`);
      // mount-<id>.stderr.log holds only crash output (empty here); it is checked for the key above
      if (f.includes('/logs/') && !f.includes('.stderr.log')) {
        const text = bytes.toString('utf8');
        logBytes += bytes.length;
        assert.match(text, /DEBUG/, 'the log is at debug level');
        assert.doesNotMatch(text, /Signature=|Expires=/, 'a signed URL in the log');
      }
    }
    assert.ok(logBytes > 0, 'the daemon log was found and checked');
    // Error messages: a rejected key, a status and a doctor run.
    const wrong = 'local-' + randomBytes(20).toString('hex');
    const d3 = cleanup.dir(await tempDir('mnt'));
    const bad = await run(
      process.execPath,
      [
        MAIN(),
        'mount',
        d3,
        '--foreground',
        '--cache-dir',
        join(base, 'cache3'),
        '--base-url',
        server.url,
        '--log-level',
        'debug',
      ],
      { env: { ...env(), WANDB_API_KEY: wrong }, timeoutMs: 30_000 },
    );
    assert.notEqual(bad.code, 0, 'a wrong key must refuse to mount');
    assert.ok(!(bad.stdout + bad.stderr).includes(wrong), 'the wrong key in the error message');
    for (const args of [['status'], ['doctor', '--cache-dir', cacheDir, '--base-url', server.url]]) {
      const r = await run(process.execPath, [MAIN(), ...args], { env: env(), timeoutMs: 30_000 });
      assert.ok(!(r.stdout + r.stderr).includes(key), `key in \`wandbfs ${args[0]}\` output`);
    }
  });
});
