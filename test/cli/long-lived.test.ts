/**
 * A mount that lives for weeks (issue 16): the API key reaches no process but the daemon's memory
 * (its environment and every child's — the fusermount auto_unmount helper included — hold no key),
 * and the daemon log rotates, so its total size stays under --log-max-size × --log-files.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/package-root.js';
import { rotatingFileSink } from '../../src/core/log-file.js';
import { findMount } from '../../src/admin/mountinfo.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { forceCleanup, run, tempMountDir, waitFor } from '../helpers/mount.js';
import { Cleanup, startDaemon } from '../reliability/harness.js';
import { DAEMON_NODE_FLAGS } from '../../src/cli/node-flags.js';

const mainJs = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

/** Every process whose parent chain leads to `root`, root included (from /proc/<pid>/stat). */
async function processTree(root: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const text = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isFinite(ppid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

describe('rotatingFileSink', () => {
  it('keeps at most files × maxBytes, the newest lines in the live file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wandbfs-logrot-'));
    try {
      const path = join(dir, 'x.log');
      const sink = rotatingFileSink(path, { maxBytes: 4096, files: 3 });
      for (let i = 0; i < 1000; i++) sink.write(`line ${String(i).padStart(4, '0')} ${'x'.repeat(90)}\n`);
      sink.close();
      const names = (await readdir(dir)).sort();
      assert.deepEqual(names, ['x.log', 'x.log.1', 'x.log.2']);
      let total = 0;
      for (const n of names) {
        const size = (await stat(join(dir, n))).size;
        assert.ok(size <= 4096, `${n} is ${size} bytes`);
        total += size;
      }
      assert.ok(total <= 3 * 4096 && total > 2 * 4096, `total ${total}`);
      assert.match(await readFile(path, 'utf8'), /line 0999 x+\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('background daemon: key scrubbed from every process, log rotated', () => {
  let server: FakeWandb;
  let home: string;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[]) => run(process.execPath, [mainJs, ...args], { env, timeoutMs: 60_000 });

  before(async () => {
    server = await startFakeWandb({ fixture: 'demo' });
    home = await mkdtemp(join(tmpdir(), 'wandbfs-longlived-home-'));
    dir = await tempMountDir('longlived');
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

  it('no process of the daemon tree has WANDB_API_KEY in /proc/<pid>/environ', async () => {
    const cacheDir = join(home, 'c');
    const r = await cli([
      'mount',
      dir,
      '--cache-dir',
      cacheDir,
      '--log-max-size',
      '2K',
      '--log-files',
      '3',
      '--log-level',
      'debug',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const pid = Number(/\(pid (\d+),/.exec(r.stdout)?.[1]);
    assert.ok(pid > 0, r.stdout);
    assert.equal((await run('ls', [join(dir, 'demo-user/mnist-classifier/runs')])).code, 0);
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    for (const flag of DAEMON_NODE_FLAGS)
      assert.ok(argv.includes(flag), `daemon argv lacks ${flag}: ${argv.join(' ')}`);
    const tree = await processTree(pid);
    assert.ok(tree.length >= 2, `the daemon has a child (the fusermount helper): ${tree.join(',')}`);
    for (const p of tree) {
      const environ = await readFile(`/proc/${p}/environ`, 'utf8');
      const comm = (await readFile(`/proc/${p}/comm`, 'utf8')).trim();
      assert.ok(environ.includes('HOME='), `environ of ${p} (${comm}) was readable`);
      assert.ok(!environ.includes(server.apiKey), `${p} (${comm}) holds the key in its environment`);
      assert.ok(!environ.includes('WANDB_API_KEY='), `${p} (${comm}) has WANDB_API_KEY set`);
    }
  });

  it('mount -f with the key in its environment: no child of it inherits the key', async () => {
    const cleanup = new Cleanup();
    try {
      const fgDir = cleanup.dir(await tempMountDir('longlived-fg'));
      const d = cleanup.daemon(
        await startDaemon({
          server,
          dir: fgDir,
          cacheDir: join(home, 'fg-cache'),
          env: { XDG_CACHE_HOME: join(home, 'cache') },
        }),
      );
      // The foreground process was started with the key (its initial environ keeps it; that is the
      // caller's environment): what matters is that delete process.env really unsetenv()s, so the
      // fusermount helper libfuse forks from C does not inherit it.
      const children = (await processTree(d.pid)).filter((p) => p !== d.pid);
      assert.ok(children.length >= 1, 'the foreground daemon has the fusermount helper as a child');
      for (const p of children) {
        const environ = await readFile(`/proc/${p}/environ`, 'utf8');
        assert.ok(environ.includes('HOME='), `environ of ${p} was readable`);
        assert.ok(!environ.includes(server.apiKey), `child ${p} of mount -f inherited the key`);
      }
    } finally {
      await cleanup.run();
    }
  });

  it('the daemon log rotates at --log-max-size and keeps --log-files files, none with the key', async () => {
    const logs = join(home, 'c', 'logs');
    const project = join(dir, 'demo-user/mnist-classifier');
    // Each listing and each read writes a few log lines; walk until three generations exist.
    const rotated = await waitFor(
      async () => {
        await run('sh', [
          '-c',
          `find '${project}' >/dev/null 2>&1; cat '${project}'/runs/*/metadata.json >/dev/null`,
        ]);
        await cli(['refresh', project]);
        return (await readdir(logs)).some((n) => n.endsWith('.log.2'));
      },
      60_000,
      100,
    );
    assert.ok(rotated, `three log generations within 60 s: ${(await readdir(logs)).join(', ')}`);
    const names = (await readdir(logs)).filter((n) => /^mount-[0-9a-f]+\.log(\.\d+)?$/.test(n));
    assert.ok(!names.some((n) => n.endsWith('.log.3')), `at most 3 files: ${names.join(', ')}`);
    let total = 0;
    for (const n of names) {
      const text = await readFile(join(logs, n), 'utf8');
      assert.ok(text.length <= 2048, `${n} is ${text.length} bytes`);
      assert.ok(!text.includes(server.apiKey), `${n} holds the key`);
      total += text.length;
    }
    assert.ok(total <= 3 * 2048, `total ${total}`);
    const status = await cli(['status']);
    assert.match(status.stdout, new RegExp(`log: ${logs}/mount-[0-9a-f]+\\.log`), status.stdout);
    assert.match(status.stdout, /W&B: online since /);
    const doctor = await cli(['doctor', '--cache-dir', join(home, 'c')]);
    assert.match(doctor.stdout, new RegExp(`logs: ${dir} → ${logs}/mount-[0-9a-f]+\\.log`), doctor.stdout);
    assert.equal((await cli(['unmount', dir])).code, 0);
  });
});
