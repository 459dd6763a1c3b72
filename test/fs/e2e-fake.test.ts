/**
 * End to end over the fake W&B server with the real layers (api, meta, blobs, fs) wired by
 * src/app.ts, on a real mount, checked with ordinary tools run as separate processes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/package-root.js';
import { findMount } from '../../src/admin/mountinfo.js';
import { DEMO_ORG_ENTITY, DEMO_RESTRICTED_REGISTRY } from '../fake-wandb/fixtures/demo-registry.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { generateBytes } from '../fake-wandb/content.js';
import {
  HUGE_ENTITY,
  HUGE_FILE_NAME,
  HUGE_FILE_SEED,
  HUGE_FILE_SIZE,
  HUGE_PROJECT,
} from '../fake-wandb/fixtures/huge-file.js';
import { mountApp, type AppMount } from '../helpers/app-mount.js';
import { run, sh } from '../helpers/mount.js';
import { waitUntil } from '../helpers/wait.js';

interface Walk {
  files: Record<
    string,
    {
      size: number;
      blocks: number;
      mode: string;
      xattrs: Record<string, string>;
      md5?: string;
      errno?: number;
    }
  >;
  links: Record<string, string>;
}

function mountFake(server: FakeWandb, config: { maxCacheBytes?: number } = {}): Promise<AppMount> {
  return mountApp(server, 'e2e', {}, { config });
}

describe('end to end over the fake server: demo fixture', () => {
  let server: FakeWandb;
  let m: Awaited<ReturnType<typeof mountFake>>;
  let walk: Walk;

  before(async () => {
    server = await startFakeWandb({ fixture: 'demo' });
    m = await mountFake(server);
  });
  after(async () => {
    await m?.cleanup();
    await server?.close();
  });

  it('lists the root and every file reads back matching its digest (cat | md5)', async () => {
    const ls = await run('ls', ['-la', m.dir]);
    assert.equal(ls.code, 0, ls.stderr);
    for (const name of ['demo-user', 'demo-team', '.wandbfs']) assert.ok(ls.stdout.includes(name), name);
    const r = await run('python3', [join(packageRoot(), 'test', 'helpers', 'walk.py'), m.dir, '.wandbfs'], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    walk = JSON.parse(r.stdout) as Walk;
    const files = Object.entries(walk.files);
    assert.ok(files.length > 20, `only ${files.length} files`);
    let checked = 0;
    for (const [path, f] of files) {
      assert.equal(f.mode, '0o100444', path);
      assert.equal(f.blocks, Math.ceil(f.size / 512), path);
      const algo = f.xattrs['user.wandb.digest_algo'];
      if (algo === 'reference') {
        assert.equal(f.errno, 13, `${path} is a reference entry and must fail with EACCES`);
        continue;
      }
      if (path.startsWith(`${DEMO_ORG_ENTITY}/${DEMO_RESTRICTED_REGISTRY}/`) && path.includes('/files/')) {
        assert.equal(f.errno, 13, `${path}: the registry role refuses downloads, so EACCES`);
        continue;
      }
      if (f.xattrs['user.wandb.digest'] === undefined) continue; // generated files (metadata.json)
      assert.equal(f.md5, f.xattrs['user.wandb.digest'], `content of ${path}`);
      checked++;
    }
    assert.ok(checked > 10, `only ${checked} files had digests`);
    // Every stored artifact entry of the fixture is somewhere in the mount, with its digest.
    const seen = new Set(files.map(([, f]) => f.xattrs['user.wandb.digest']));
    const fx = server.fixture as unknown as {
      allArtifacts(): Iterable<{ state: string; entries: { digest: string; ref: string | null }[] }>;
    };
    for (const a of fx.allArtifacts()) {
      if (a.state !== 'COMMITTED') continue;
      for (const e of a.entries)
        if (!e.ref) assert.ok(seen.has(e.digest), `manifest digest ${e.digest} missing from the mount`);
    }
  });

  it('du -s equals the sum of the file sizes', async () => {
    const project = 'demo-user/mnist-classifier';
    const du = await run('du', ['-s', '--apparent-size', '-B1', join(m.dir, project)]);
    const duFiles = Number(du.stdout.split('\t')[0]);
    const sum = Object.entries(walk.files)
      .filter(([p]) => p.startsWith(project + '/'))
      .reduce((s, [, f]) => s + f.size, 0);
    // du --apparent-size also counts directories (4096 each) and symlinks (target length).
    const dirs = await run('find', [join(m.dir, project), '-type', 'd']);
    const links = Object.entries(walk.links).filter(([p]) => p.startsWith(project + '/'));
    const expected =
      sum +
      dirs.stdout.trim().split('\n').length * 4096 +
      links.reduce((s, [, t]) => s + Buffer.byteLength(t), 0);
    assert.equal(duFiles, expected);
    const blocks = await run('du', ['-s', '-B512', join(m.dir, project, 'runs')]);
    assert.ok(Number(blocks.stdout.split('\t')[0]) > 0);
  });

  it('aliases are symlinks that resolve (readlink, cat through them)', async () => {
    const aliases = Object.entries(walk.links);
    assert.ok(aliases.length > 0, 'no symlinks in the demo tree');
    for (const [path, target] of aliases.slice(0, 10)) {
      const r = await run('readlink', [join(m.dir, path)]);
      assert.equal(r.stdout.trim(), target);
      const st = await run('stat', ['-L', '-c', '%F', join(m.dir, path)]);
      assert.equal(st.code, 0, `${path} -> ${target} does not resolve: ${st.stderr}`);
    }
  });

  it('getfattr -d shows W&B ids and urls, never a signed URL', async () => {
    const run1 = Object.keys(walk.files).find((p) => p.includes('/runs/') && p.endsWith('output.log'))!;
    const r = await run('getfattr', ['-d', join(m.dir, run1)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /user\.wandb\.id=/);
    assert.match(r.stdout, /user\.wandb\.url="http/);
    assert.doesNotMatch(r.stdout, /[?&](X-Amz|sig|signature|expires)=/i);
  });

  it('refuses writes with EROFS', async () => {
    const f = join(m.dir, Object.keys(walk.files)[0]!);
    for (const [cmd, args] of [
      ['touch', [f]],
      ['rm', ['-f', f]],
      ['mkdir', [join(m.dir, 'demo-user', 'x')]],
    ] as const) {
      const r = await run(cmd, [...args]);
      assert.match(r.stderr, /Read-only file system/, `${cmd}: ${r.stderr}`);
    }
  });

  it('status.json reports cache counters and holds no API key', async () => {
    const r = await run('cat', [join(m.dir, '.wandbfs', 'status.json')]);
    const doc = JSON.parse(r.stdout) as { cache: { misses: number }; api: { graphqlRequests: number } };
    assert.ok(doc.cache.misses > 0);
    assert.ok(doc.api.graphqlRequests > 0);
    assert.ok(!r.stdout.includes(server.apiKey));
  });
});

describe('end to end over the fake server: huge-file fixture', () => {
  let server: FakeWandb;
  let m: Awaited<ReturnType<typeof mountFake>>;
  const runDir = () => join(m.dir, HUGE_ENTITY, HUGE_PROJECT, 'runs');

  before(async () => {
    server = await startFakeWandb({ fixture: 'huge-file' });
    // Smaller than the file: the blob cache streams it instead of filling 5 GiB on disk.
    m = await mountFake(server, { maxCacheBytes: 256 * 1024 * 1024 });
  });
  after(async () => {
    await m?.cleanup();
    await server?.close();
  });

  it('reads the 5 GiB file at offsets past 4 GiB (dd skip=)', async () => {
    const found = await run('find', [join(m.dir, HUGE_ENTITY), '-name', 'model-5g.bin', '-path', '*runs*'], {
      timeoutMs: 120_000,
    });
    const file = found.stdout.trim().split('\n')[0]!;
    assert.ok(file.endsWith(HUGE_FILE_NAME), found.stdout + found.stderr);
    const st = await run('stat', ['-c', '%s', file]);
    assert.equal(Number(st.stdout), HUGE_FILE_SIZE);
    for (const off of [4 * 1024 ** 3 - 7, 4 * 1024 ** 3 + 4096, HUGE_FILE_SIZE - 100]) {
      const r = await sh(
        `dd if='${file}' iflag=skip_bytes,count_bytes skip=${off} count=64 status=none | od -An -tx1 -v`,
        60_000,
      );
      assert.equal(r.code, 0, r.stderr);
      const got = Buffer.from(r.stdout.replace(/\s+/g, ''), 'hex');
      const want = generateBytes(HUGE_FILE_SEED, off, Math.min(HUGE_FILE_SIZE, off + 64));
      assert.ok(got.equals(want), `bytes at ${off}`);
    }
  });

  it('ls and stat stay responsive while a big download is throttled', async () => {
    server.faults.storage.bandwidthBytesPerSec = 512 * 1024;
    const file = join(
      runDir(),
      (await run('ls', [runDir()])).stdout.trim().split('\n')[0]!,
      'files',
      HUGE_FILE_NAME,
    );
    let readerDone = false;
    const reader = run('dd', [`if=${file}`, 'of=/dev/null', 'bs=1M', 'count=24', 'skip=100'], {
      timeoutMs: 20_000,
    }).finally(() => (readerDone = true));
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    const ls = await run('ls', ['-laR', join(m.dir, HUGE_ENTITY, HUGE_PROJECT, 'artifacts')]);
    const st = await run('stat', [join(runDir())]);
    const took = Date.now() - t0;
    assert.equal(ls.code, 0, ls.stderr);
    assert.equal(st.code, 0, st.stderr);
    assert.ok(took < 3000, `ls/stat took ${took} ms during a throttled download`);
    assert.equal(readerDone, false, 'the throttled read was still in progress');
    server.faults.storage.bandwidthBytesPerSec = 0;
    await reader;
  });

  it('unmounts cleanly at the end', async () => {
    await m.app.stop();
    await waitUntil('the mount to be gone from mountinfo', async () => (await findMount(m.dir)) === null);
  });
});
