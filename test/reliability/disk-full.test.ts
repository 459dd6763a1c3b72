/**
 * Fault 6: the cache dir is a 64 MiB tmpfs and the file is larger. Reads are either served correctly
 * (streamed through a bounded window) or fail cleanly with EIO; nothing partial counts as present; the
 * mount stays up and keeps serving other files. Runs as root (mount -t tmpfs).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { open, readdir, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { md5FromBase64 } from '../../src/core/digest.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { run } from '../helpers/mount.js';
import { waitUntil } from '../helpers/wait.js';
import { answers, Cleanup, DEMO_RUN_DIR, MiB, readFiles, startDaemon, tempDir } from './harness.js';

const EIO = 5;

async function blobFiles(cacheDir: string): Promise<string[]> {
  const root = join(cacheDir, 'blobs');
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(e.name);
    }
  };
  await walk(root);
  return out;
}

describe('disk full in the cache dir (64 MiB tmpfs)', () => {
  const cleanup = new Cleanup();
  let server: FakeWandb;
  after(async () => {
    await cleanup.run();
    await server?.close();
  });

  const variants: { name: string; args?: string[] }[] = [
    // The CLI keeps 5 GiB free by default: on a 64 MiB disk every fill streams uncached.
    { name: 'CLI defaults' },
    // No free-space reserve: the fill claims its space and then hits ENOSPC mid-download.
    { name: '--min-free-space 0', args: ['--min-free-space', '0', '--log-level', 'info'] },
  ];
  /** A mount point, and a cache dir on a fresh 64 MiB tmpfs; both undone by cleanup. */
  const mountAndSmallDisk = async (): Promise<{ dir: string; cacheDir: string }> => {
    const dir = cleanup.dir(await tempDir('mnt'));
    const cacheDir = cleanup.dir(await tempDir('cache'));
    const m = await run('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0700', 'tmpfs', cacheDir]);
    assert.equal(m.code, 0, `mount tmpfs: ${m.stderr}`);
    cleanup.add(() => run('umount', ['-l', cacheDir]));
    return { dir, cacheDir };
  };
  let seed = 9600;
  for (const v of variants) {
    it(`big file on a small disk (${v.name})`, { timeout: 120_000 }, async () => {
      server ??= await startFakeWandb({ fixture: 'demo' });
      // Two 40 MiB files read at once: each fits when claimed, together they do not.
      const files = [0, 1].map((k) => {
        const name = `full/big-${seed}-${k}.bin`;
        const f = server.fixture.addRunFile('demo-user', 'mnist-classifier', 'i9j0k1l2', {
          name,
          sizeBytes: 40 * MiB + 9 + k,
          seed: seed * 10 + k,
        });
        return { name, f };
      });
      seed++;
      const expected = await Promise.all(
        files.map(({ f }) => server.fixture.contentOf(f.blobId)!.md5B64Async()),
      );
      const { dir, cacheDir } = await mountAndSmallDisk();
      const d = cleanup.daemon(
        await startDaemon({ server, dir, cacheDir, ...(v.args ? { args: v.args } : {}) }),
      );
      const paths = files.map(({ name }) => join(dir, DEMO_RUN_DIR, name));
      const results = await readFiles(paths, { timeoutMs: 90_000, threads: 2 });
      const outcomes: string[] = [];
      const db = new Database(join(cacheDir, 'wandbfs.db'), { readonly: true });
      const hexes = expected.map((md5) => md5FromBase64(md5)!.hex);
      const indexed = (hex: string): boolean =>
        (db.prepare('SELECT count(*) AS n FROM blob WHERE key = ?').get(`md5:${hex}`) as { n: number }).n > 0;
      // A blob that made it is verified and indexed (blobs/ holds only verified files); one that did
      // not is in neither. A fill renames and indexes its blob after the reader is served, so wait for
      // the two records to agree rather than catching a commit midway; they must, within the deadline.
      let present: string[] = [];
      try {
        await waitUntil('the blob index and blobs/ to agree on every file read', async () => {
          present = await blobFiles(cacheDir);
          return hexes.every((hex) => indexed(hex) === present.includes(hex));
        });
      } finally {
        db.close();
      }
      for (const [i, path] of paths.entries()) {
        const r = results[path]!;
        if (r.errno === undefined) assert.equal(r.md5, expected[i], 'served: byte-exact');
        else assert.equal(r.errno, EIO, 'failed cleanly');
        outcomes.push(r.errno === undefined ? 'byte-exact' : 'EIO');
      }
      if (v.args) await d.waitForLog(/disk full/, 'the fill fell back to streaming');
      assert.doesNotMatch(d.log(), /unhandled rejection/, 'no error escaped the blob cache');
      // The mount stays up: listings answer and a small file still reads byte-exact.
      assert.ok(d.alive(), 'daemon alive');
      assert.ok(await answers(join(dir, 'demo-user/mnist-classifier/runs')));
      const small = join(dir, 'demo-user/mnist-classifier/runs/a1b2c3d4/files/checkpoints/model.pt');
      const s = (await readFiles([small]))[small]!;
      const smallMd5 = server.fixture
        .run('demo-user', 'mnist-classifier', 'a1b2c3d4')!
        .files.get('checkpoints/model.pt')!.md5B64;
      assert.equal(s.md5, smallMd5, 'a small file is still served');
      const df = await run('df', ['-B1', '--output=used,size', cacheDir]);
      process.stdout.write(
        `# disk full (${v.name}): reads ${outcomes.join(', ')}; cached ${present.length} blob(s); ` +
          `tmpfs ${df.stdout.trim().split('\n')[1] ?? '?'} used/size\n`,
      );
    });
  }
  // Deterministic mid-download ENOSPC: the claim fits, then something else fills the disk while the
  // fill is running. The reader must keep getting the right bytes (streamed), nothing half-written
  // may count as present, and once there is room again the same file is cached normally.
  it('the disk fills up in the middle of a download', { timeout: 120_000 }, async () => {
    server ??= await startFakeWandb({ fixture: 'demo' });
    const name = `full/mid-${seed++}.bin`;
    const f = server.fixture.addRunFile('demo-user', 'mnist-classifier', 'i9j0k1l2', {
      name,
      sizeBytes: 40 * MiB + 3,
      seed: 97_001,
    });
    const expected = await server.fixture.contentOf(f.blobId)!.md5B64Async();
    const hex = md5FromBase64(expected)!.hex;
    const { dir, cacheDir } = await mountAndSmallDisk();
    const d = cleanup.daemon(
      await startDaemon({ server, dir, cacheDir, args: ['--min-free-space', '0', '--log-level', 'info'] }),
    );
    // ~2 MiB/s per connection: the 40 MiB fill takes seconds, so the disk fills up while it runs.
    server.faults.storage.bandwidthBytesPerSec = 2 * MiB;
    cleanup.add(async () => server.resetFaults());
    const path = join(dir, DEMO_RUN_DIR, name);
    const filler = join(cacheDir, 'filler.bin');
    const readAll = async (onFirstRead?: () => Promise<void>): Promise<string> => {
      const fh = await open(path, 'r');
      try {
        const h = createHash('md5');
        const buf = Buffer.alloc(MiB);
        for (let pos = 0; ;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) break;
          h.update(buf.subarray(0, bytesRead));
          pos += bytesRead;
          if (onFirstRead) {
            await onFirstRead();
            onFirstRead = undefined;
          }
        }
        return h.digest('base64');
      } finally {
        await fh.close();
      }
    };
    // Fill the disk up to the last MiB (left for SQLite). The fill keeps writing meanwhile, so
    // the free space shrinks under us: write in steps and treat ENOSPC as "full", not as a failure.
    const fillDisk = async (): Promise<void> => {
      const fh = await open(filler, 'w');
      const chunk = Buffer.alloc(MiB);
      try {
        for (;;) {
          const s = await statfs(cacheDir);
          const room = s.bavail * s.bsize - MiB;
          if (room <= 0) break;
          await fh.write(chunk, 0, Math.min(room, MiB));
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        await fh.close();
      }
    };
    const md5 = await readAll(fillDisk);
    assert.equal(md5, expected, 'the reader got every byte right');
    await d.waitForLog(/(cache disk is full|no room in the cache).*streaming/, 'why it streams');
    assert.ok(!(await blobFiles(cacheDir)).includes(hex), 'nothing half-written counts as present');
    assert.ok(d.alive(), 'daemon alive');

    await unlink(filler);
    server.resetFaults();
    assert.equal(await readAll(), expected, 'byte-exact once there is room again');
    // The reader has every byte before the background fill has verified and renamed the blob.
    await waitUntil('the blob to be committed to blobs/ once there is room', async () =>
      (await blobFiles(cacheDir)).includes(hex),
    );
  });
});
