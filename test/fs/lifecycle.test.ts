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
import { waitUntil } from '../helpers/wait.js';
import { forceCleanup, mountInProcess, run, sh, tempMountDir } from '../helpers/mount.js';

const daemonJs = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'wandbfs-test-daemon.js');
const children: ChildProcess[] = [];
const dirs: string[] = [];
const scratch: string[] = [];

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
    timer = setTimeout(() => resolve(false), 30_000);
  });
  clearTimeout(timer);
  assert.ok(ready, `daemon did not become ready: ${err}`);
  return { child, exited, stderr: () => err };
}

/** Daemon exit and the kernel's unmount are separate events (auto_unmount runs in a helper). */
async function unmounted(dir: string): Promise<void> {
  await waitUntil(`${dir} to be unmounted`, async () => (await findMount(dir)) === null);
}

async function newScratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'wandbfs-life-scratch-'));
  scratch.push(d);
  return d;
}

async function newDir(): Promise<string> {
  const d = await tempMountDir('life');
  dirs.push(d);
  return d;
}

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) await forceCleanup(d);
  for (const d of scratch) await rm(d, { recursive: true, force: true });
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
    await unmounted(dir);
  });

  it('SIGTERM lets an open file finish before unmounting', async () => {
    const dir = await newDir();
    const d = await startDaemon(dir);
    // A reader opens the file, says so, holds it open for 1.5 s, then reads it.
    const opened = join(await newScratch(), 'opened');
    const reader = sh(`exec 3< '${dir}/a/file.txt'; : > '${opened}'; sleep 1.5; cat <&3`);
    await waitUntil('the reader to hold the file open', () =>
      stat(opened).then(
        () => true,
        () => false,
      ),
    );
    d.child.kill('SIGTERM');
    const out = await reader;
    assert.equal(out.stdout, 'daemon content\n', out.stderr);
    assert.equal((await d.exited).code, 0, d.stderr());
    await unmounted(dir);
  });

  it('an uncaught exception unmounts and exits 1', async () => {
    const dir = await newDir();
    const d = await startDaemon(dir, ['--crash-soon']);
    const res = await d.exited;
    assert.equal(res.code, 1, d.stderr());
    assert.match(d.stderr(), /uncaught exception.*simulated bug/);
    await unmounted(dir);
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
    // stderr and stdout ("ready") are separate pipes: the line may arrive after "ready" does.
    await waitUntil('the new daemon to say it cleared the stale mount', () =>
      /clearing stale mount/.test(d2.stderr()),
    );
    assert.equal((await run('cat', [`${dir}/a/file.txt`])).stdout, 'daemon content\n');
    d2.child.kill('SIGTERM');
    assert.equal((await d2.exited).code, 0);
    await unmounted(dir);
  });

  it('exits when unmounted from outside', async () => {
    const dir = await newDir();
    const d = await startDaemon(dir);
    assert.equal((await run('fusermount', ['-u', dir])).code, 0);
    const res = await Promise.race([
      d.exited,
      new Promise<null>((r) => setTimeout(() => r(null), 30_000).unref()),
    ]);
    assert.ok(res, 'daemon kept running 30 s after an external unmount');
    assert.equal(res.code, 0);
    await unmounted(dir);
    await waitUntil('the daemon to log that it was unmounted from outside', () =>
      d.stderr().includes('unmounted from outside'),
    );
  });
});
