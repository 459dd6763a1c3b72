/**
 * The `wandbfs` CLI as a user runs it: a background daemon mount over the fake server, status,
 * refresh, unmount, doctor, help, and the error messages with their hints.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/package-root.js';
import { findMount } from '../../src/admin/mountinfo.js';
import { isAlive } from '../../src/admin/registry.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { forceCleanup, run, tempMountDir } from '../helpers/mount.js';

const mainJs = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

describe('wandbfs CLI', () => {
  let server: FakeWandb;
  let home: string;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, [mainJs, ...args], { env: { ...env, ...extraEnv }, timeoutMs: 60_000 });

  before(async () => {
    server = await startFakeWandb({ fixture: 'demo' });
    home = await mkdtemp(join(tmpdir(), 'wandbfs-cli-home-'));
    dir = await tempMountDir('cli');
    env = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CACHE_HOME: join(home, 'cache'),
      WANDB_API_KEY: server.apiKey,
      WANDB_BASE_URL: server.url,
    };
  });

  after(async () => {
    if (await findMount(dir)) await cli(['unmount', '--lazy', dir]);
    await forceCleanup(dir);
    await server?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('mounts in the background and returns once the mount is ready', async () => {
    const r = await cli(['mount', dir, '--cache-dir', join(home, 'c1')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mounted .* \(pid \d+, log /);
    assert.equal((await findMount(dir))?.fsType, 'fuse.wandbfs');
    const ls = await run('ls', [join(dir, 'demo-user')]);
    assert.match(ls.stdout, /mnist-classifier/);
  });

  it('keeps the API key off the daemon command line and out of its log', async () => {
    const st = JSON.parse((await cli(['status', '--json'])).stdout) as {
      mountPoint: string;
      pid: number;
      logFile: string;
    }[];
    const me = st.find((s) => s.mountPoint === dir)!;
    const cmdline = await readFile(`/proc/${me.pid}/cmdline`, 'utf8');
    assert.ok(cmdline.includes('--daemon-child'));
    assert.ok(!cmdline.includes(server.apiKey));
    assert.ok(!(await readFile(me.logFile, 'utf8')).includes(server.apiKey));
  });

  it('status lists the mount with its pid, cache dir and live counters', async () => {
    const r = await cli(['status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const all = JSON.parse(r.stdout) as {
      mountPoint: string;
      state: string;
      pid: number;
      cacheDir: string;
      live: { openFiles: number } | null;
      apiKeySource: string;
    }[];
    const me = all.find((s) => s.mountPoint === dir);
    assert.ok(me, r.stdout);
    assert.equal(me.state, 'ok');
    assert.ok(isAlive(me.pid));
    assert.equal(me.cacheDir, join(home, 'c1'));
    assert.equal(me.live?.openFiles, 0);
    assert.equal(me.apiKeySource, 'env');
    const text = await cli(['status']);
    assert.match(text.stdout, new RegExp(`${dir}  \\[ok\\]`));
  });

  it('refresh re-lists a subtree through the daemon', async () => {
    const r = await cli(['refresh', join(dir, 'demo-user')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /refreshed \/demo-user/);
    const outside = await cli(['refresh', home]);
    assert.equal(outside.code, 1);
    assert.match(outside.stderr, /not inside a wandbfs mount/);
  });

  it('refuses to mount twice at the same place', async () => {
    const r = await cli(['mount', dir, '--cache-dir', join(home, 'c1')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already a mount point/);
    assert.match(r.stderr, /hint: unmount it first/);
  });

  it('unmount stops the daemon and leaves nothing mounted', async () => {
    const st = JSON.parse((await cli(['status', '--json'])).stdout) as { mountPoint: string; pid: number }[];
    const pid = st.find((s) => s.mountPoint === dir)!.pid;
    const r = await cli(['unmount', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await findMount(dir), null);
    assert.equal(isAlive(pid), false);
    const again = await cli(['unmount', dir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not mounted/);
  });

  it('explains bad mount points and a missing key, with the fix', async () => {
    const full = await mkdtemp(join(tmpdir(), 'wandbfs-cli-full-'));
    try {
      await writeFile(join(full, 'x'), 'x');
      const r = await cli(['mount', full]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /is not empty/);
      assert.match(r.stderr, /hint: /);
      const missing = await cli(['mount', join(full, 'nope', 'deeper')]);
      assert.match(missing.stderr, /does not exist[\s\S]*--mkdir/);
      await mkdir(join(full, 'empty'));
      const nokey = await cli(['mount', join(full, 'empty')], { WANDB_API_KEY: '' });
      assert.equal(nokey.code, 1);
      assert.match(nokey.stderr, /no W&B API key/);
      assert.match(nokey.stderr, /hint: set WANDB_API_KEY, or run `wandb login`/);
      assert.doesNotMatch(nokey.stderr, /at .*\.js:\d+/, 'no stack without --debug');
      const badKey = await cli(['mount', join(full, 'empty'), '--cache-dir', join(home, 'c2')], {
        WANDB_API_KEY: 'local-' + 'y'.repeat(40),
      });
      assert.equal(badKey.code, 1);
      assert.match(badKey.stderr, /rejected the API key[\s\S]*hint: check WANDB_API_KEY/);
      assert.equal(await findMount(join(full, 'empty')), null);
    } finally {
      await rm(full, { recursive: true, force: true });
    }
  });

  it('doctor checks the machine and the server without printing the key', async () => {
    const r = await cli(['doctor', '--cache-dir', join(home, 'c1')]);
    for (const name of [
      '/dev/fuse',
      'libfuse 2',
      'fusermount',
      'fuse-native',
      'API key',
      'server',
      'cache dir',
      'stale mounts',
    ]) {
      assert.match(r.stdout, new RegExp(`(ok|warn|FAIL) +${name.replace('/', '\\/')}`), name);
    }
    assert.match(r.stdout, /ok +API key: from WANDB_API_KEY/);
    assert.match(r.stdout, /ok +server .*logged in as demo-user/);
    assert.ok(!r.stdout.includes(server.apiKey));
    const bad = await cli(['doctor'], { WANDB_API_KEY: 'local-' + 'x'.repeat(40) });
    assert.match(bad.stdout, /FAIL +server .*rejected/);
    assert.match(bad.stdout, /fix: /);
    assert.equal(bad.code, 1);
  });

  it('--help of every command shows examples', async () => {
    const cache = ['prune', 'stats', 'verify', 'clear'].map((c) => ['cache', c]);
    for (const cmd of [
      [],
      ['mount'],
      ['unmount'],
      ['status'],
      ['refresh'],
      ['doctor'],
      ['cache'],
      ...cache,
    ]) {
      const r = await cli([...cmd, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Examples:/, `wandbfs ${cmd.join(' ')} --help`);
    }
    const bad = await cli(['frobnicate']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown argument|unknown/i);
  });
});

describe('npm run demo', () => {
  it('mounts the bundled fake server, and Ctrl+C unmounts and stops both', async () => {
    const { spawn } = await import('node:child_process');
    const base = await mkdtemp(join(tmpdir(), 'wandbfs-demo-test-'));
    const dir = join(base, 'wandb-demo');
    const child = spawn(process.execPath, [join(packageRoot(), 'dist', 'scripts', 'demo.js'), dir], {
      // TMPDIR puts the demo's throwaway cache in `base`, so the test can see it is removed.
      env: { ...process.env, TMPDIR: base },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      let outText = '';
      const ready = await new Promise<boolean>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          outText += d.toString();
          if (outText.includes('Ctrl+C unmounts')) resolve(true);
        });
        void exited.then(() => resolve(false));
      });
      assert.ok(ready, outText);
      assert.match(outText, /ls .*wandb-demo/);
      const ls = await run('ls', [join(dir, 'demo-user')]);
      assert.match(ls.stdout, /mnist-classifier/);
      child.kill('SIGINT');
      assert.equal(await exited, 0);
      assert.equal(await findMount(dir), null);
      const left = (await readdir(base)).filter((n) => n.startsWith('wandbfs-demo-cache-'));
      assert.deepEqual(left, [], 'the demo removes the cache dir it created');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await forceCleanup(dir);
      await rm(base, { recursive: true, force: true });
    }
  });
});
