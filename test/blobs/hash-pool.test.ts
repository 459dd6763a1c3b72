import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HASH_THREADS, hashThreads } from '../../src/blobs/hash-pool.js';
import { hashFileInWorker, PrefixHasher } from '../../src/blobs/prefix-hasher.js';
import { generate, tempDir } from './helpers.js';

const MiB = 1024 * 1024;

describe('hash pool', () => {
  let dir: string;
  const files: { path: string; md5: string; size: number }[] = [];

  before(async () => {
    dir = await tempDir('hashpool');
    for (let i = 0; i < 12; i++) {
      const size = i === 0 ? 0 : i * MiB + i * 977;
      const data = generate(i * 31, i * 31 + size);
      const path = join(dir, `f${i}`);
      await writeFile(path, data);
      files.push({ path, md5: createHash('md5').update(data).digest('hex'), size });
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`hashes many files at once on at most ${HASH_THREADS} threads, each digest exact`, async () => {
    let peak = 0;
    const got = await Promise.all(
      files.map(async (f) => {
        const h = new PrefixHasher(f.path, 'md5', () => undefined);
        // extended in steps, as a fill does while chunks land
        for (let upTo = 0; upTo < f.size; upTo += 3 * MiB) h.extend(upTo);
        h.extend(f.size);
        peak = Math.max(peak, hashThreads());
        try {
          return await h.finish();
        } finally {
          await h.terminate();
        }
      }),
    );
    assert.deepEqual(
      got,
      files.map((f) => f.md5),
    );
    assert.ok(peak >= 1 && peak <= HASH_THREADS, `threads peaked at ${peak}`);
  });

  it('a job dropped midway or failing does not disturb the others on its thread', async () => {
    const dropped = new PrefixHasher(files[11]!.path, 'md5', () => undefined);
    dropped.extend(files[11]!.size);
    const missing = hashFileInWorker(join(dir, 'no-such-file'), 'md5', 10);
    await dropped.terminate();
    await assert.rejects(missing, /hashing failed/);
    const again = await Promise.all(files.slice(1, 6).map((f) => hashFileInWorker(f.path, 'md5', f.size)));
    assert.deepEqual(
      again,
      files.slice(1, 6).map((f) => f.md5),
    );
  });

  it('reports progress at least every 16 MiB while it catches up (the stall watchdog needs it)', async () => {
    const data = generate(7, 7 + 40 * MiB);
    const f = {
      path: join(dir, 'big'),
      size: data.length,
      md5: createHash('md5').update(data).digest('hex'),
    };
    await writeFile(f.path, data);
    let progress = 0;
    const h = new PrefixHasher(f.path, 'md5', () => (progress = h.hashedBytes));
    h.extend(4 * MiB);
    h.extend(f.size);
    assert.equal(await h.finish(), f.md5);
    assert.equal(h.hashedBytes, f.size);
    assert.ok(progress > 0, 'no progress was reported');
    await h.terminate();
  });
});
