/**
 * FsCore with no FUSE mount: its methods called directly over the test doubles (an in-memory
 * MetaTree and BlobCache from test/helpers/doubles.ts, and once the real metadata tree over
 * test/meta/memory-api.ts). Errors are checked by the errno they map to, which is what the kernel
 * sees. The same behaviour through a real mount is in translation.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock.js';
import { openDb } from '../../src/core/db.js';
import { md5FromBase64 } from '../../src/core/digest.js';
import { silentLogger } from '../../src/core/log.js';
import { FsCore } from '../../src/fs/core.js';
import { errnoName, type ErrnoName } from '../../src/fs/errno.js';
import { UNOPENED_REUSE_MS } from '../../src/fs/status-file.js';
import { createMetaTree } from '../../src/meta/tree.js';
import type { DirEntry, MetaTree, Node } from '../../src/meta/types.js';
import { md5Digest, MemBlobCache, MemTree, T0, type Spec } from '../helpers/doubles.js';
import { b64md5, MemoryApi, runRecord } from '../meta/memory-api.js';

const owner = { uid: 1234, gid: 5678 };
const hello = Buffer.from('hello wandbfs\n');
const generated = Buffer.from('{"lr": 0.001}\n');
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_TRUNC = 0o1000;

async function rejectsWith(p: Promise<unknown>, errno: ErrnoName, what: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.equal(errnoName(err), errno, `${what}: ${String(err)}`);
    return true;
  });
}

function blob(bytes: Buffer) {
  const digest = md5Digest(bytes);
  return {
    digest,
    content: {
      type: 'blob' as const,
      digest,
      locator: { kind: 'artifact-file' as const, artifactId: 'a1', path: 'p' },
    },
  };
}

function makeCore(extra: Record<string, Spec> = {}, meta?: (tree: MemTree) => MetaTree) {
  const blobs = new MemBlobCache();
  const h = blob(hello);
  blobs.set(h.digest, { kind: 'bytes', bytes: hello });
  const broken = blob(Buffer.from('broken'));
  blobs.set(broken.digest, { kind: 'fail' });
  const short = blob(Buffer.from('short'));
  blobs.set(short.digest, { kind: 'bytes', bytes: Buffer.from('short') });
  const tree = new MemTree({
    '/proj/run/files/hello.txt': {
      kind: 'file',
      size: hello.length,
      content: h.content,
      xattrs: { 'user.wandb.digest': h.digest.hex, 'user.wandb.id': 'r1' },
    },
    '/proj/run/metadata.json': {
      kind: 'file',
      size: generated.length,
      content: { type: 'generated', bytes: generated },
    },
    '/proj/run/files/broken.bin': { kind: 'file', size: 6, content: broken.content },
    // The listing promises 100 bytes; the blob has 5.
    '/proj/run/files/short.bin': { kind: 'file', size: 100, content: short.content },
    '/proj/run/files/ref.bin': { kind: 'file', size: 9, content: { type: 'reference', ref: 's3://b/k' } },
    '/proj/art/v0/model.pt': { kind: 'file', size: hello.length, content: h.content },
    '/proj/art/latest': { kind: 'symlink', target: 'v0' },
    ...extra,
  });
  const clock = new ManualClock(T0 + 60_000);
  const core = new FsCore({
    meta: meta ? meta(tree) : tree,
    blobs,
    sourceFor: () => ({ fetchRange: async () => undefined, describe: () => 'test source' }),
    owner,
    log: silentLogger,
    version: 'core-test',
    mountPoint: '/mnt/test',
    clock,
    statusExtra: () => ({ api: { graphqlRequests: 7 } }),
  });
  return { core, blobs, clock };
}

async function readAll(core: FsCore, path: string): Promise<Buffer> {
  const fh = await core.open(path, O_RDONLY);
  try {
    const chunks: Buffer[] = [];
    for (let pos = 0; ;) {
      const buf = Buffer.alloc(4096);
      const n = await core.read(fh, buf, buf.length, pos);
      if (n === 0) return Buffer.concat(chunks);
      chunks.push(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    await core.release(fh);
  }
}

describe('FsCore without a mount: the metadata tree', () => {
  it('getattr gives read-only modes, the owner, exact sizes, blocks and the node times', async () => {
    const { core } = makeCore();
    const f = await core.getattr('/proj/run/files/hello.txt');
    assert.deepEqual(
      [f.mode, f.uid, f.gid, f.size, f.blocks, f.nlink, f.mtime, f.ctime],
      [0o100444, 1234, 5678, hello.length, 1, 1, T0, T0 + 1000],
    );
    const d = await core.getattr('/proj/run');
    assert.deepEqual([d.mode, d.nlink, d.size], [0o40555, 2, 4096]);
    const l = await core.getattr('/proj/art/latest');
    assert.deepEqual([l.mode, l.size], [0o120777, 2]);
    await rejectsWith(core.getattr('/proj/nope'), 'ENOENT', 'missing path');
  });

  it('readdir lists . and .. with typed entries, and refuses files and missing paths', async () => {
    const { core } = makeCore();
    const l = await core.readdir('/proj/art');
    assert.deepEqual(l.names, ['.', '..', 'v0', 'latest']);
    assert.deepEqual(
      l.stats.map((s) => s.mode),
      [0o40555, 0o40555, 0o40555, 0o120777],
    );
    await rejectsWith(core.readdir('/proj/run/metadata.json'), 'ENOTDIR', 'readdir of a file');
    await rejectsWith(core.readdir('/nope'), 'ENOENT', 'readdir of a missing dir');
    assert.equal(await core.opendir('/proj'), 0);
    await rejectsWith(core.opendir('/proj/art/v0/model.pt'), 'ENOTDIR', 'opendir of a file');
  });

  it('readdir skips names the kernel could not take instead of passing them on', async () => {
    const { core } = makeCore({}, (tree) => ({
      lookup: (p) => tree.lookup(p),
      refresh: (p) => tree.refresh(p),
      status: () => tree.status(),
      close: () => tree.close(),
      readdir: async (p): Promise<DirEntry[] | null> =>
        p === '/proj'
          ? [
              { name: 'ok', kind: 'dir' },
              { name: '', kind: 'file' },
              { name: '..', kind: 'dir' },
              { name: 'a/b', kind: 'file' },
              { name: 'nul\0', kind: 'file' },
            ]
          : tree.readdir(p),
    }));
    assert.deepEqual((await core.readdir('/proj')).names, ['.', '..', 'ok']);
  });

  it('open + read return the bytes of stored and generated files, and 0 at EOF', async () => {
    const { core, blobs } = makeCore();
    assert.deepEqual(await readAll(core, '/proj/run/files/hello.txt'), hello);
    assert.deepEqual(await readAll(core, '/proj/run/metadata.json'), generated);
    const fh = await core.open('/proj/art/v0/model.pt', O_RDONLY);
    const buf = Buffer.alloc(64);
    assert.equal(await core.read(fh, buf, 5, 6), 5);
    assert.equal(buf.subarray(0, 5).toString(), 'wandb');
    assert.equal(await core.read(fh, buf, 64, hello.length), 0);
    assert.equal(core.openHandles, 1);
    await core.release(fh);
    assert.equal(core.openHandles, 0);
    assert.equal(blobs.closes, blobs.opens, 'every blob reader opened was closed');
  });

  it('refuses writes with EROFS and other bad opens with their errno', async () => {
    const { core } = makeCore();
    const f = '/proj/run/files/hello.txt';
    await rejectsWith(core.open(f, O_WRONLY), 'EROFS', 'O_WRONLY');
    await rejectsWith(core.open(f, O_RDWR), 'EROFS', 'O_RDWR');
    await rejectsWith(core.open(f, O_RDONLY | O_TRUNC), 'EROFS', 'O_TRUNC');
    await rejectsWith(core.open('/proj/run', O_RDONLY), 'EISDIR', 'open of a dir');
    await rejectsWith(core.open('/proj/nope', O_RDONLY), 'ENOENT', 'open of a missing file');
    await rejectsWith(
      core.open('/proj/run/files/ref.bin', O_RDONLY),
      'EACCES',
      'reference entry (cannot be read from here)',
    );
    await rejectsWith(core.read(999, Buffer.alloc(8), 8, 0), 'EBADF', 'read of an unknown fh');
    assert.equal(core.openHandles, 0);
  });

  it('a blob that ends early is EIO, never a silent short read', async () => {
    const { core } = makeCore();
    await rejectsWith(readAll(core, '/proj/run/files/short.bin'), 'EIO', 'short blob');
  });

  it('a failed digest check is EIO and moves the mtime of that file so cached pages are dropped', async () => {
    const { core } = makeCore();
    const p = '/proj/run/files/broken.bin';
    const before = (await core.getattr(p)).mtime;
    await rejectsWith(readAll(core, p), 'EIO', 'integrity failure');
    assert.equal((await core.getattr(p)).mtime, before + 1);
  });

  it('readlink answers symlinks only', async () => {
    const { core } = makeCore();
    assert.equal(await core.readlink('/proj/art/latest'), 'v0');
    await rejectsWith(core.readlink('/proj/art/v0'), 'EINVAL', 'readlink of a dir');
    await rejectsWith(core.readlink('/proj/art/gone'), 'ENOENT', 'readlink of a missing path');
  });

  it('xattrs: user.* only, ENODATA for the rest, ENOENT for missing paths', async () => {
    const { core } = makeCore();
    const f = '/proj/run/files/hello.txt';
    assert.deepEqual((await core.listxattr(f)).sort(), ['user.wandb.digest', 'user.wandb.id']);
    assert.equal((await core.getxattr(f, 'user.wandb.id')).toString(), 'r1');
    await rejectsWith(core.getxattr(f, 'user.nope'), 'ENODATA', 'missing xattr');
    await rejectsWith(core.getxattr(f, 'security.selinux'), 'ENODATA', 'security.* xattr');
    await rejectsWith(core.listxattr('/proj/nope'), 'ENOENT', 'listxattr of a missing path');
  });

  it('the memory-only answers match the async ones for a path the tree holds, and decline otherwise', async () => {
    const held = new Map<string, Node>();
    let inner: MemTree | null = null;
    const { core } = makeCore({}, (tree) => {
      inner = tree;
      return Object.assign(Object.create(tree) as MemTree, { lookupCached: (p: string) => held.get(p) });
    });
    const f = '/proj/run/files/hello.txt';
    assert.equal(core.getattrCached(f), null, 'not held: the async path answers');
    assert.equal(core.getxattrCached(f, 'user.wandb.id'), null);
    assert.equal(core.listxattrCached(f), null);
    const node = await (inner as MemTree | null)?.lookup(f);
    assert.ok(node);
    held.set(f, node);
    assert.deepEqual(core.getattrCached(f), await core.getattr(f));
    assert.equal(core.getxattrCached(f, 'user.wandb.id')?.toString(), 'r1');
    assert.equal(core.getxattrCached(f, 'user.nope'), null, 'a missing name goes on to ENODATA');
    assert.deepEqual(core.listxattrCached(f)?.sort(), (await core.listxattr(f)).sort());
    held.set('/.wandbfs/status.json', node);
    assert.equal(
      core.getattrCached('/.wandbfs/status.json'),
      null,
      'status paths are never answered from memory',
    );
  });

  it('statfs says read-only; after drain() new opens fail and open handles still read', async () => {
    const { core } = makeCore();
    assert.equal((await core.statfs()).flag & 1, 1);
    const fh = await core.open('/proj/run/files/hello.txt', O_RDONLY);
    core.drain();
    await rejectsWith(core.open('/proj/run/metadata.json', O_RDONLY), 'EIO', 'open while draining');
    const buf = Buffer.alloc(64);
    assert.equal(await core.read(fh, buf, 64, 0), hello.length);
    await core.closeAll();
    await core.release(fh);
  });
});

describe('FsCore without a mount: the /.wandbfs status overlay', () => {
  const LINK = '/.wandbfs/status.json';

  it('adds .wandbfs to the root listing once and lists status.json and snapshots/', async () => {
    const { core } = makeCore();
    assert.deepEqual((await core.readdir('/')).names, ['.', '..', 'proj', '.wandbfs']);
    const shadowed = makeCore({ '/.wandbfs/real.txt': { kind: 'dir' } }).core;
    assert.deepEqual((await shadowed.readdir('/')).names, ['.', '..', 'proj', '.wandbfs']);
    await rejectsWith(
      shadowed.getattr('/.wandbfs/real.txt'),
      'ENOENT',
      'paths under /.wandbfs are the overlay',
    );
    const l = await core.readdir('/.wandbfs');
    assert.deepEqual(l.names, ['.', '..', 'status.json', 'snapshots']);
    assert.deepEqual(
      l.stats.slice(2).map((s) => s.mode),
      [0o120777, 0o40555],
    );
    assert.deepEqual((await core.readdir('/.wandbfs/snapshots')).names, ['.', '..']);
    assert.equal((await core.getattr('/.wandbfs')).mode, 0o40555);
  });

  it('status.json names one snapshot until it is opened; its size, bytes and JSON agree', async () => {
    const { core } = makeCore();
    const target = await core.readlink(LINK);
    assert.match(target, /^snapshots\/\d{12}\.json$/);
    assert.equal((await core.getattr(LINK)).size, target.length);
    const snap = '/.wandbfs/' + target;
    const st = await core.getattr(snap);
    assert.equal(st.mode, 0o100444);
    // cp: stat, then open, both through the link: the same file both times.
    assert.equal(await core.readlink(LINK), target);
    const bytes = await readAll(core, snap);
    assert.equal(bytes.length, st.size);
    const doc = JSON.parse(bytes.toString()) as Record<string, unknown>;
    assert.equal(doc.version, 'core-test');
    assert.deepEqual(doc.api, { graphqlRequests: 7 });
    assert.deepEqual(doc.cache, { hits: 3, misses: 1, bytesDownloaded: 42, integrityFailures: 0 });
    // Opened: the next resolution names a new snapshot; the old one keeps its bytes.
    const next = await core.readlink(LINK);
    assert.notEqual(next, target);
    assert.deepEqual(await readAll(core, snap), bytes);
  });

  it('every new open shows current numbers', async () => {
    const { core } = makeCore();
    const read = async () => {
      const t = await core.readlink(LINK);
      await core.getattr('/.wandbfs/' + t);
      return JSON.parse((await readAll(core, '/.wandbfs/' + t)).toString()) as { openFiles: number };
    };
    // Rendered at lookup, before its own open: only other open files count.
    assert.equal((await read()).openFiles, 0);
    const fh = await core.open('/proj/run/files/hello.txt', O_RDONLY);
    assert.equal((await read()).openFiles, 1);
    await core.release(fh);
    assert.equal((await read()).openFiles, 0);
  });

  it('a snapshot looked up but never opened is replaced once it is older than the reuse window', async () => {
    const { core, clock } = makeCore();
    const first = await core.readlink(LINK);
    await core.getattr('/.wandbfs/' + first);
    clock.advance(UNOPENED_REUSE_MS / 2);
    assert.equal(await core.readlink(LINK), first);
    clock.advance(UNOPENED_REUSE_MS);
    assert.notEqual(await core.readlink(LINK), first);
  });

  it('unknown and evicted snapshot names are ENOENT, never re-rendered', async () => {
    const { core } = makeCore();
    await rejectsWith(core.getattr('/.wandbfs/snapshots/000000000999.json'), 'ENOENT', 'never handed out');
    await rejectsWith(core.getattr('/.wandbfs/snapshots/x.json'), 'ENOENT', 'not a snapshot name');
    await rejectsWith(core.getattr('/.wandbfs/other'), 'ENOENT', 'unknown status path');
    const first = await core.readlink(LINK);
    await readAll(core, '/.wandbfs/' + first);
    for (let i = 0; i < 40; i++) await readAll(core, '/.wandbfs/' + (await core.readlink(LINK)));
    await rejectsWith(core.getattr('/.wandbfs/' + first), 'ENOENT', 'evicted snapshot');
  });

  it('status nodes answer like any node: EROFS, EISDIR, ENOTDIR, EINVAL, no xattrs', async () => {
    const { core } = makeCore();
    const snap = '/.wandbfs/' + (await core.readlink(LINK));
    await rejectsWith(core.open(snap, O_WRONLY), 'EROFS', 'write-open of a snapshot');
    await rejectsWith(core.open('/.wandbfs', O_RDONLY), 'EISDIR', 'open of the status dir');
    await rejectsWith(core.readdir(snap), 'ENOTDIR', 'readdir of a snapshot');
    await rejectsWith(core.opendir(LINK), 'ENOTDIR', 'opendir of the link');
    await rejectsWith(core.readlink('/.wandbfs'), 'EINVAL', 'readlink of the status dir');
    assert.deepEqual(await core.listxattr(snap), []);
    await rejectsWith(core.getxattr(LINK, 'user.wandb.id'), 'ENODATA', 'xattr of the link');
    await rejectsWith(core.listxattr('/.wandbfs/nope'), 'ENOENT', 'listxattr of a missing status path');
  });
});

describe('FsCore without a mount: over the real metadata tree', () => {
  it('lists, stats and reads a run file of an in-memory W&B API', async () => {
    const api = new MemoryApi();
    const p = api.addProject('alice', 'proj');
    p.runs.push(runRecord('r1', 'train'));
    const md5 = await b64md5(hello.toString());
    p.files.set('r1', [
      { name: 'notes.txt', sizeBytes: hello.length, md5, updatedAt: '2026-02-03T00:00:00Z' },
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'wandbfs-core-'));
    const db = openDb({ dir });
    const meta = createMetaTree({ db, api, clock: new ManualClock(T0) });
    try {
      const { core, blobs } = makeCore({}, () => meta);
      blobs.set(md5FromBase64(md5)!, { kind: 'bytes', bytes: hello });
      assert.deepEqual((await core.readdir('/')).names, ['.', '..', 'alice', 'team-a', '.wandbfs']);
      const f = '/alice/proj/runs/train/files/notes.txt';
      assert.equal((await core.getattr(f)).size, hello.length);
      assert.equal((await core.getxattr(f, 'user.wandb.id')).toString().length > 0, true);
      assert.deepEqual(await readAll(core, f), hello);
      await rejectsWith(core.getattr('/alice/proj/runs/train/files/missing'), 'ENOENT', 'missing run file');
    } finally {
      await meta.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('FsCore without a mount: files whose bytes do not match their listing', () => {
  const PATH = '/proj/live/files/output.log';
  const listed = blob(Buffer.from('old'));
  const grown = Buffer.from('old, and grown since it was listed\n');
  const now = blob(grown);

  /** A tree whose file at PATH is `after` once its directory was re-listed. */
  function relisting(after: 'grown' | 'unchanged') {
    let refreshes = 0;
    const made = makeCore({ [PATH]: { kind: 'file', size: 3, content: listed.content } }, (tree) => ({
      lookup: async (p) => {
        const n = await tree.lookup(p);
        if (p !== PATH || n?.kind !== 'file' || refreshes === 0 || after === 'unchanged') return n;
        return { ...n, sizeBytes: grown.length, content: now.content, live: true };
      },
      readdir: (p) => tree.readdir(p),
      refresh: async (p) => {
        refreshes++;
        await tree.refresh(p);
      },
      status: () => tree.status(),
      close: () => tree.close(),
    }));
    made.blobs.set(listed.digest, { kind: 'fail' });
    made.blobs.set(now.digest, { kind: 'bytes', bytes: grown });
    return { ...made, refreshes: () => refreshes };
  }

  it('reads failing together re-list once and continue on the version W&B lists now', async () => {
    const { core, refreshes } = relisting('grown');
    const fh = await core.open(PATH, O_RDONLY);
    const a = Buffer.alloc(64);
    const b = Buffer.alloc(64);
    const [na, nb] = await Promise.all([core.read(fh, a, 64, 0), core.read(fh, b, 64, 1)]);
    assert.equal(refreshes(), 1);
    assert.ok(a.subarray(0, na).equals(grown), 'the whole new version, past the listed size');
    assert.ok(b.subarray(0, nb).equals(grown.subarray(1)));
    await core.release(fh);
  });

  it('a listing that did not change after the re-list is EIO, and later reads do not re-list again', async () => {
    const { core, refreshes } = relisting('unchanged');
    const fh = await core.open(PATH, O_RDONLY);
    await rejectsWith(core.read(fh, Buffer.alloc(8), 8, 0), 'EIO', 'first read');
    await rejectsWith(core.read(fh, Buffer.alloc(8), 8, 0), 'EIO', 'second read');
    assert.equal(refreshes(), 1, 'one re-list per open');
    await core.release(fh);
  });
});
