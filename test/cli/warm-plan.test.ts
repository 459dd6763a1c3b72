/** The fit checks of `wandbfs warm` (src/fs/warm-plan.ts) with a real cache index and a fake disk. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { openDb } from '../../src/core/db.js';
import { digestKey, md5FromHex } from '../../src/core/digest.js';
import { BlobIndex } from '../../src/blobs/blob-index.js';
import { BlobKeep } from '../../src/blobs/blob-keep.js';
import { blobPath } from '../../src/blobs/path.js';
import { planWarm, type WarmLimits } from '../../src/fs/warm-plan.js';
import type { TreeBlob, TreeFiles } from '../../src/fs/tree-files.js';

const MiB = 1024 * 1024;

function blob(n: number, sizeBytes: number): TreeBlob {
  const digest = md5FromHex(n.toString(16).padStart(32, '0'))!;
  return {
    key: digestKey(digest),
    digest,
    sizeBytes,
    path: `/e/p/artifacts/m/v0/files/f${n}`,
    content: { type: 'blob', digest, locator: { kind: 'artifact-file', artifactId: 'A1', path: `f${n}` } },
  };
}

async function withCache(
  fn: (dir: string, index: BlobIndex, keep: BlobKeep) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wandbfs-warmplan-'));
  const db = openDb({ dir });
  try {
    await fn(dir, new BlobIndex(db), new BlobKeep(db));
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Puts a complete blob of `b.sizeBytes` zero bytes into the cache (presence is the file). */
async function store(dir: string, index: BlobIndex, b: TreeBlob): Promise<void> {
  const path = blobPath(dir, b.digest);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, Buffer.alloc(b.sizeBytes));
  index.putPresent(b.key, b.sizeBytes, 1000);
}

const limits = (maxCacheBytes: number, free: number, minFreeBytes = 0): WarmLimits => ({
  maxCacheBytes,
  minFreeBytes,
  freeBytes: () => Promise.resolve(free),
});
const files = (...blobs: TreeBlob[]): TreeFiles => ({ blobs, unreadable: 1, generated: 2 });

test('cached blobs are counted, not fetched; a set that fits is not refused', () =>
  withCache(async (dir, index) => {
    const [a, b] = [blob(1, 3 * MiB), blob(2, 1 * MiB)];
    await store(dir, index, a);
    const plan = await planWarm(files(a, b), dir, index, limits(10 * MiB, 10 * MiB));
    assert.deepEqual(
      plan.toFetch.map((x) => x.key),
      [b.key],
    );
    assert.equal(plan.summary.cachedBytes, 3 * MiB);
    assert.equal(plan.summary.bytes, 4 * MiB);
    assert.equal(plan.summary.unreadable, 1);
    assert.equal(plan.refusal, null);
  }));

test('refused when the set plus pinned blobs exceed --max-cache-size', () =>
  withCache(async (dir, index, keep) => {
    const pinned = blob(9, 4 * MiB);
    await store(dir, index, pinned);
    keep.pin([{ key: pinned.key, sizeBytes: pinned.sizeBytes, label: '/x' }], 1);
    const set = files(blob(1, 3 * MiB));
    assert.equal((await planWarm(set, dir, index, limits(8 * MiB, 100 * MiB))).refusal, null);
    const refused = (await planWarm(set, dir, index, limits(6 * MiB, 100 * MiB))).refusal;
    assert.match(
      refused?.message ?? '',
      /needs 3\.00 MiB .*--max-cache-size 6\.00 MiB .*4\.00 MiB of it is held by pinned/,
    );
    assert.match(refused?.hint ?? '', /cache unpin/);
  }));

test('refused when the missing bytes exceed free space minus --min-free-space, counting evictable blobs', () =>
  withCache(async (dir, index) => {
    const old = blob(8, 2 * MiB);
    await store(dir, index, old);
    const set = files(blob(1, 5 * MiB));
    // 4 MiB free, 1 MiB must stay free, 2 MiB evictable: room for 5 MiB
    assert.equal((await planWarm(set, dir, index, limits(100 * MiB, 4 * MiB, MiB))).refusal, null);
    const refused = (await planWarm(set, dir, index, limits(100 * MiB, 3 * MiB, MiB))).refusal;
    assert.match(
      refused?.message ?? '',
      /needs 5\.00 MiB more disk space; .*3\.00 MiB free, 1\.00 MiB of which must stay free/,
    );
    assert.match(refused?.message ?? '', /evicting unpinned blobs would free 2\.00 MiB/);
  }));
