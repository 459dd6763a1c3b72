/**
 * Mount lifecycle on real mounts: mount point checks, SIGTERM, draining open files, kill -9 and the
 * stale mount it leaves, and an unmount done from outside. The daemon is a child process serving
 * in-memory test doubles (test/helpers/wandbfs-test-daemon.ts).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/core/log.js';
import { MountError } from '../../src/fs/errors.js';
import { prepareMountPoint } from '../../src/fs/mount.js';
import { findMount } from '../../src/admin/mountinfo.js';
import { MemBlobCache, MemTree } from '../helpers/doubles.js';
import {
  forceCleanup,
  mountInProcess,
  run,
  sh,
  tempMountDir,
  waitFor,
  waitForUnmount,
} from '../helpers/mount.js';

const daemonJs = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'wandbfs-test-daemon.js');
const children: ChildProcess[] = [];
const dirs: string[] = [];

interface Daemon {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: string | null }>;
  stderr: () => string;
}

async function startDaemon(dir: string, extra: string[] = []): Promise<Daemon> {
  const child = spawn(process.execPath, [daemonJs, dir, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  let timer: NodeJS.Timeout | undefined;
  const ready = await new Promise<boolean>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve(true);
    });
    void exited.then(() => resolve(false));
    timer = setTimeout(() => resolve(false), 15_000);
  });
  clearTimeout(timer);
  assert.ok(ready, `daemon did not become ready: ${err}`);
  return { child, exited, stderr: () => err };
}

async function newDir(): Promise<string> {
  const d = await tempMountDir('life');
  dirs.push(d);
  return d;
}

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) await forceCleanup(d);
});

describe('mount point checks', () => {
  it('rejects a missing, non-empty or non-directory mount point with a hint', async () => {
    const base = await mkdtemp(join(tmpdir(), 'wandbfs-mp-'));
    try {
      await assert.rejects(prepareMountPoint(join(base, 'missing'), silentLogger), (e: unknown) => {
        assert.ok(e instanceof MountError);
        assert.match(e.message, /does not exist/);
        assert.match(e.hint ?? '', /--mkdir/);
        return true;
      });
      await prepareMountPoint(join(base, 'made'), silentLogger, true);
      assert.ok((await stat(join(base, 'made'))).isDirectory());
      await mkdir(join(base, 'full'));
      await writeFile(join(base, 'full', 'x'), 'x');
      await assert.rejects(prepareMountPoint(join(base, 'full'), silentLogger), /not empty/);
      await assert.rejects(prepareMountPoint(join(base, 'full', 'x'), silentLogger), /not a directory/);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('refuses to mount over a healthy wandbfs mount', async () => {
    const m = await mountInProcess(new MemTree({}), new MemBlobCache());
    try {
      await assert.rejects(prepareMountPoint(m.dir, silentLogger), (e: unknown) => {
        assert.ok(e instanceof MountError);
        assert.match(e.message, /already a mount point/);
        assert.match(e.hint ?? '', /wandbfs unmount/);
        return true;
      });
      const mi = await findMount(m.dir);
      assert.equal(mi?.fsType, 'fuse.wandbfs');
      assert.equal(mi?.source, 'wandbfs');
    } finally {
      await m.cleanup();
    }
  });
});

describe('daemon lifecycle', () => {
  it('SIGTERM unmounts cleanly and exits 0', async () => {
    const dir = await newDir();
    const d = await startDaemon(dir);
    assert.equal((await run('cat', [`${dir}/a/file.txt`])).stdout, 'daemon content\n');
    const opts = (await run('findmnt', ['-n', '-o', 'OPTIONS', dir])).stdout;
    assert.match(opts, /^ro,/);
    d.child.kill('SIGTERM');
    const res = await d.exited;
    assert.equal(res.code, 0, d.stderr());
    assert.equal(await findMount(dir), null);
  });

  it('SIGTERM lets an open file finish before unmounting', async () => {
    const dir = await newDir();
    const d = await startDaemon(dir);
    // A reader holds the file open for 1.5 s, then reads it.
    const reader = sh(`exec 3< '${dir}/a/file.txt'; sleep 1.5; cat <&3`);
    await new Promise((r) => setTimeout(r, 400));
    d.child.kill('SIGTERM');
    const out = await reader;
    assert.equal(out.stdout, 'daemon content\n', out.stderr);
    assert.equal((await d.exited).code, 0, d.stderr());
    assert.equal(await findMount(dir), null);
  });

  it('an uncaught exception unmounts and exits 1', async () => {
    const dir = await newDir();
    const d = await startDaemon(dir, ['--crash-soon']);
    const res = await d.exited;
    assert.equal(res.code, 1, d.stderr());
    assert.match(d.stderr(), /uncaught exception.*simulated bug/);
    assert.equal(await findMount(dir), null);
  });

  it('after kill -9, mounting again at the same place succeeds', async () => {
    const dir = await newDir();
    const d = await startDaemon(dir);
    d.child.kill('SIGKILL');
    await d.exited;
    const d2 = await startDaemon(dir);
    assert.equal((await run('cat', [`${dir}/a/file.txt`])).stdout, 'daemon content\n');
    d2.child.kill('SIGTERM');
    assert.equal((await d2.exited).code, 0);
  });

  it('clears a stale mount ("Transport endpoint is not connected") at the next mount', async () => {
    const dir = await newDir();
    const d = await startDaemon(dir, ['--no-auto-unmount']);
    d.child.kill('SIGKILL');
    await d.exited;
    const st = await run('stat', [dir]);
    assert.match(st.stderr, /Transport endpoint is not connected/);
    const d2 = await startDaemon(dir);
    assert.match(d2.stderr(), /clearing stale mount/);
    assert.equal((await run('cat', [`${dir}/a/file.txt`])).stdout, 'daemon content\n');
    d2.child.kill('SIGTERM');
    assert.equal((await d2.exited).code, 0);
    assert.equal(await findMount(dir), null);
  });

  it('exits when unmounted from outside', async () => {
    const dir = await newDir();
    const d = await startDaemon(dir);
    assert.equal((await run('fusermount', ['-u', dir])).code, 0);
    const res = await Promise.race([
      d.exited,
      new Promise<null>((r) => setTimeout(() => r(null), 8000).unref()),
    ]);
    assert.ok(res, 'daemon kept running after an external unmount');
    assert.equal(res.code, 0);
    assert.ok(await waitForUnmount(dir, 1000));
    assert.ok(await waitFor(async () => d.stderr().includes('unmounted from outside'), 1000));
  });
});
