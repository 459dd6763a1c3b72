import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { BufferPool, sharedPool } from '../../src/blobs/buffer-pool.js';
import { ChunkWriter } from '../../src/blobs/chunk-writer.js';
import { InlineIo, SLOW_WRITE_MS, WRITE_LIMITS } from '../../src/blobs/inline-io.js';
import { silentLogger } from '../../src/core/log.js';
import type { RangeSource } from '../../src/blobs/types.js';

/** what a dropped connection looks like to the writer */
class ResetError extends Error {}

const KiB = 1024;
const BATCH = 64 * KiB;
const SIZE = 1024 * KiB;
const data = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i++) data[i] = (i * 7 + (i >> 9)) & 0xff;

/** Serves `data` in pieces of the given sizes (cycled); fails after `failAfter` bytes if set. */
function source(pieces: number[], failAfter = Infinity): RangeSource {
  return {
    describe: () => 'test file',
    async fetchRange(start, end, sink) {
      let pos = start;
      for (let k = 0; pos < end; k++) {
        if (pos - start >= failAfter) throw new ResetError('connection reset (test)');
        const n = Math.min(pieces[k % pieces.length] ?? 1, end - pos);
        await sink(data.subarray(pos, pos + n));
        pos += n;
      }
    },
  };
}

describe('ChunkWriter', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function writer(inline?: InlineIo): Promise<{ w: ChunkWriter; path: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'wandbfs-chunk-writer-'));
    dirs.push(dir);
    const path = join(dir, 'blob.partial');
    const { writer: w } = await ChunkWriter.open({
      key: 'k',
      label: 'test file',
      sizeBytes: SIZE,
      partialPath: path,
      writeBatchBytes: BATCH,
      recorder: { markChunks: () => undefined },
      token: 't',
      log: silentLogger,
      nowMs: () => 0,
      inline,
    });
    return { w, path };
  }

  /** a policy that sends writes to the pool, as after a slow inline write */
  function pooledWrites(): InlineIo {
    const p = new InlineIo(WRITE_LIMITS);
    p.took(SLOW_WRITE_MS + 1, performance.now());
    return p;
  }

  for (const mode of ['inline', 'pool'] as const) {
    it(`writes small, odd and batch-sized deliveries in place and reuses its pooled buffer (${mode} writes)`, async () => {
      const { w, path } = await writer(mode === 'pool' ? pooledWrites() : new InlineIo(WRITE_LIMITS));
      const pool = sharedPool(BATCH);
      const idleBefore = pool.idle;
      const written: number[] = [];
      const ac = new AbortController();
      // inline, every piece is written as it comes; to the pool, odd pieces are gathered into the
      // batch buffer and a 128 KiB piece arriving on an empty batch is written as it is
      await w.fetchRange(
        source([1000, 3 * KiB + 5, 128 * KiB]),
        0,
        SIZE / 2,
        ac.signal,
        () => {},
        (n) => written.push(n),
      );
      assert.equal(pool.idle, Math.max(1, idleBefore), 'the batch buffer went back to the pool');
      await w.fetchRange(
        source([BATCH]),
        SIZE / 2,
        SIZE,
        ac.signal,
        () => {},
        () => {},
      );
      assert.equal(
        pool.idle,
        Math.max(1, idleBefore),
        'the second fetch took the pooled buffer and gave it back',
      );
      assert.equal(written.at(-1), SIZE / 2, 'progress reaches the end of the range');
      assert.ok(
        written.every((n, i) => i === 0 || n > (written[i - 1] ?? 0)),
        'progress only grows',
      );
      await w.sync();
      assert.ok((await readFile(path)).equals(data), 'the file holds exactly the served bytes');

      // reads of written bytes: a FUSE-sized one (synchronous pread) and a large one (async)
      const small = Buffer.alloc(128 * KiB);
      assert.equal(await w.pread(small, small.length, 5000), small.length);
      assert.ok(small.equals(data.subarray(5000, 5000 + small.length)));
      const big = Buffer.alloc(SIZE);
      assert.equal(await w.pread(big, SIZE, 0), SIZE);
      assert.ok(big.equals(data));
      await w.close();
      await assert.rejects(w.pread(small, 10, 0), /closed/);
    });
  }

  it('gives its buffer back when the source fails mid-range, keeping the bytes it wrote', async () => {
    const { w, path } = await writer();
    const pool = sharedPool(BATCH);
    const ac = new AbortController();
    let last = 0;
    await assert.rejects(
      w.fetchRange(
        source([BATCH], BATCH),
        0,
        SIZE,
        ac.signal,
        () => {},
        (n) => (last = n),
      ),
      ResetError,
    );
    assert.equal(last, BATCH, 'the one batch delivered before the reset was written and reported');
    assert.ok(pool.idle >= 1, 'the buffer is back in the pool');
    await w.sync();
    const onDisk = await readFile(path);
    assert.ok(onDisk.subarray(0, last).equals(data.subarray(0, last)), 'written bytes are correct');
    await w.close();
  });
});

describe('InlineIo', () => {
  it('runs writes up to 1 MiB inline until one is slow, then sends them to the pool for a while', async () => {
    const { ASYNC_FOR_MS, INLINE_WRITE_MAX_BYTES } = await import('../../src/blobs/inline-io.js');
    const p = new InlineIo(WRITE_LIMITS);
    assert.ok(p.allowed(64 * KiB, 1000));
    assert.ok(p.allowed(INLINE_WRITE_MAX_BYTES, 1000));
    assert.ok(!p.allowed(INLINE_WRITE_MAX_BYTES + 1, 1000), 'a larger write always goes to the pool');
    p.took(SLOW_WRITE_MS, 1000);
    assert.ok(p.allowed(64 * KiB, 1001), 'a write at the limit is not slow');
    p.took(SLOW_WRITE_MS + 0.5, 2000);
    assert.ok(!p.allowed(64 * KiB, 2001), 'after a slow write, writes go to the pool');
    assert.ok(!p.allowed(64 * KiB, 2000 + ASYNC_FOR_MS - 1));
    assert.ok(p.allowed(64 * KiB, 2000 + ASYNC_FOR_MS), 'and come back inline after ASYNC_FOR_MS');
  });

  it('reads: FUSE-sized reads inline until one takes over SLOW_READ_MS', async () => {
    const { ASYNC_FOR_MS, READ_LIMITS, SLOW_READ_MS } = await import('../../src/blobs/inline-io.js');
    const p = new InlineIo(READ_LIMITS);
    assert.ok(p.allowed(128 * KiB, 1000));
    assert.ok(!p.allowed(128 * KiB + 1, 1000), 'a read larger than FUSE sends goes to the pool');
    p.took(SLOW_READ_MS, 1000);
    assert.ok(p.allowed(4 * KiB, 1001));
    p.took(SLOW_READ_MS + 0.1, 2000);
    assert.ok(!p.allowed(4 * KiB, 2001), 'after a slow read, reads go to the pool');
    assert.ok(p.allowed(4 * KiB, 2000 + ASYNC_FOR_MS));
  });

  it('tells its listeners of each slow call (each switch to the pool), until they unsubscribe', () => {
    const p = new InlineIo(WRITE_LIMITS);
    const heard: number[] = [];
    const off = p.onSlow((ms) => heard.push(ms));
    p.took(SLOW_WRITE_MS, 1000);
    assert.deepEqual(heard, [], 'a call at the limit is not slow');
    p.took(SLOW_WRITE_MS + 3, 2000);
    assert.deepEqual(heard, [SLOW_WRITE_MS + 3]);
    off();
    p.took(SLOW_WRITE_MS + 4, 40_000);
    assert.deepEqual(heard, [SLOW_WRITE_MS + 3], 'no word after unsubscribing');
  });
});

describe('BufferPool', () => {
  it('hands back given buffers and keeps at most `keep` of the right size', () => {
    const pool = new BufferPool(16, 2);
    const a = pool.take();
    const b = pool.take();
    const c = pool.take();
    assert.equal(a.length, 16);
    pool.give(a);
    pool.give(b);
    pool.give(c);
    assert.equal(pool.idle, 2, 'a third idle buffer is dropped');
    pool.give(Buffer.alloc(8));
    assert.equal(pool.idle, 2, 'a buffer of another size is not kept');
    const again = pool.take();
    assert.ok(again === b || again === a, 'take reuses an idle buffer');
  });
});
