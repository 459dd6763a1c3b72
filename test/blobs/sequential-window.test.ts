import assert from 'node:assert/strict';
import { open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sharedPool } from '../../src/blobs/buffer-pool.js';
import { SequentialWindow, WINDOW_BYTES } from '../../src/blobs/sequential-window.js';
import { generate, tempDir } from './helpers.js';
import { waitUntil } from '../helpers/wait.js';

const KiB = 1024;
const SIZE = 5 * WINDOW_BYTES + 77;

/** A FileHandle that records the preads reaching it: their lengths and their positions. */
function counting(fh: FileHandle): { fh: FileHandle; preads: number[]; positions: number[] } {
  const preads: number[] = [];
  const positions: number[] = [];
  const proxy = {
    read: (buf: Buffer, off: number, len: number, pos: number) => {
      preads.push(len);
      positions.push(pos);
      return fh.read(buf, off, len, pos);
    },
  };
  return { fh: proxy as unknown as FileHandle, preads, positions };
}

describe('SequentialWindow', () => {
  let dir: string;
  let path: string;
  const data = generate(0, SIZE);

  before(async () => {
    dir = await tempDir('seqwin');
    path = join(dir, 'blob');
    await writeFile(path, data);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function withWindow(
    fn: (w: SequentialWindow, preads: number[], positions: number[]) => Promise<void>,
  ): Promise<void> {
    const real = await open(path, 'r');
    const { fh, preads, positions } = counting(real);
    const w = new SequentialWindow(fh, SIZE);
    try {
      await fn(w, preads, positions);
    } finally {
      w.close();
      await real.close();
    }
  }

  it('serves a sequential reader its bytes with one pread per window', async () => {
    await withWindow(async (w, preads) => {
      const out = Buffer.alloc(SIZE);
      for (let pos = 0; pos < SIZE; pos += 128 * KiB) {
        const n = await w.read(out.subarray(pos), Math.min(128 * KiB, SIZE - pos), pos);
        assert.equal(n, Math.min(128 * KiB, SIZE - pos));
      }
      assert.ok(out.equals(data), 'bytes differ from the file');
      // 5 windows and the 77-byte tail; the first request preads for itself (nothing to follow yet)
      assert.ok(preads.length <= 8, `expected about one pread per window, got ${preads.length}`);
    });
  });

  it('loads the next window while the reader is still in the current one', async () => {
    await withWindow(async (w, _preads, positions) => {
      const b = Buffer.alloc(128 * KiB);
      await w.read(b, b.length, 0); // establishes the sequential pattern
      await w.read(b, b.length, 128 * KiB); // loads [128 KiB, 1 MiB + 128 KiB)
      const next = 128 * KiB + WINDOW_BYTES;
      await waitUntil('the next window read ahead', () => positions.includes(next));
      // the reader is still 7 requests short of it, and reaching it costs no pread of its own
      const before = positions.length;
      for (let pos = 256 * KiB; pos < next + WINDOW_BYTES / 2; pos += 128 * KiB) {
        assert.equal(await w.read(b, b.length, pos), b.length);
        assert.ok(b.equals(data.subarray(pos, pos + b.length)), `bytes at ${pos} differ`);
      }
      const own = positions.slice(before).filter((p) => p < next + WINDOW_BYTES);
      assert.deepEqual(
        own,
        [],
        `requests inside the two windows preaded for themselves at ${own.join(', ')}`,
      );
    });
  });

  it('answers synchronously only what a loaded window holds, and reads the file through it', async () => {
    await withWindow(async (w) => {
      const b = Buffer.alloc(128 * KiB);
      assert.equal(w.readSync(b, b.length, 0), null, 'nothing is loaded yet');
      await w.read(b, b.length, 0);
      await w.read(b, b.length, 128 * KiB); // the first window: [128 KiB, 1 MiB + 128 KiB)
      const out = Buffer.alloc(SIZE);
      let sync = 0;
      for (let pos = 0; pos < SIZE; pos += 128 * KiB) {
        const len = Math.min(128 * KiB, SIZE - pos);
        const target = out.subarray(pos, pos + len);
        const n = w.readSync(target, len, pos);
        if (n === null) assert.equal(await w.read(target, len, pos), len);
        else {
          assert.equal(n, len);
          sync++;
        }
      }
      assert.ok(out.equals(data), 'bytes differ from the file');
      // the first request and the tail may miss; everything else was in a window by the time it came
      assert.ok(
        sync >= 30,
        `only ${sync} of ${Math.ceil(SIZE / (128 * KiB))} requests were answered synchronously`,
      );
      assert.equal(w.readSync(b, 4 * KiB, SIZE - 3 * WINDOW_BYTES - 10), null, 'a random read far behind');
    });
  });

  it('answers requests that arrive together, inside and beyond the loading window', async () => {
    await withWindow(async (w) => {
      const b0 = Buffer.alloc(128 * KiB);
      await w.read(b0, b0.length, 0); // establishes the sequential pattern
      const positions = [128, 256, 384, 512, 640, 768, 896, 1024, 1152].map((k) => k * KiB);
      const bufs = positions.map(() => Buffer.alloc(128 * KiB));
      const got = await Promise.all(positions.map((p, i) => w.read(bufs[i] as Buffer, 128 * KiB, p)));
      positions.forEach((p, i) => {
        assert.equal(got[i], 128 * KiB);
        assert.ok((bufs[i] as Buffer).equals(data.subarray(p, p + 128 * KiB)), `bytes at ${p} differ`);
      });
    });
  });

  it('does not turn a random 4 KiB read into a window', async () => {
    await withWindow(async (w, preads) => {
      let seed = 7;
      for (let i = 0; i < 50; i++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        const pos = seed % (SIZE - 4 * KiB);
        const b = Buffer.alloc(4 * KiB);
        assert.equal(await w.read(b, b.length, pos), 4 * KiB);
        assert.ok(b.equals(data.subarray(pos, pos + 4 * KiB)), `bytes at ${pos} differ`);
      }
      assert.ok(Math.max(...preads) <= 4 * KiB, `a random read preaded ${Math.max(...preads)} bytes`);
    });
  });

  it('gives its buffer back to the pool only after a load in flight at close has finished', async () => {
    const pool = sharedPool(WINDOW_BYTES);
    const real = await open(path, 'r');
    const w = new SequentialWindow(real, SIZE);
    try {
      const b = Buffer.alloc(128 * KiB);
      await w.read(b, b.length, 0);
      const pending = w.read(b, b.length, 128 * KiB).catch((err: unknown) => err); // starts a window load
      const idleWhileLoading = pool.idle;
      w.close();
      assert.equal(pool.idle, idleWhileLoading, 'the buffer went back while a load was writing into it');
      const got = await pending;
      assert.equal(got, 128 * KiB, `the read in flight at close failed: ${String(got)}`);
      await waitUntil('the window buffer back in the pool', () => pool.idle === idleWhileLoading + 1);
    } finally {
      await real.close();
    }
  });
});
