import assert from 'node:assert/strict';
import { open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WarmBackend } from '../../src/blobs/backends.js';
import { InlineIo, READ_LIMITS, SLOW_READ_MS } from '../../src/blobs/inline-io.js';
import { WINDOW_BYTES } from '../../src/blobs/sequential-window.js';
import { generate, tempDir } from './helpers.js';

const KiB = 1024;
const SIZE = 3 * WINDOW_BYTES + 77;

/** The real handle, but every pool read (FileHandle.read) is counted; the fd is the real one. */
function counting(fh: FileHandle): { fh: FileHandle; preads: number[] } {
  const preads: number[] = [];
  const proxy = {
    fd: fh.fd,
    read: (buf: Buffer, off: number, len: number, pos: number) => {
      preads.push(len);
      return fh.read(buf, off, len, pos);
    },
    close: () => fh.close(),
  };
  return { fh: proxy as unknown as FileHandle, preads };
}

/** A read policy that records what inline reads took. */
class RecordingIo extends InlineIo {
  readonly took_: number[] = [];
  constructor() {
    super(READ_LIMITS);
  }
  override took(tookMs: number, nowMs: number): void {
    this.took_.push(tookMs);
    super.took(tookMs, nowMs);
  }
}

describe('WarmBackend', () => {
  let dir: string;
  let path: string;
  const data = generate(0, SIZE);

  before(async () => {
    dir = await tempDir('warm');
    path = join(dir, 'blob');
    await writeFile(path, data);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('answers reads inline, straight from the file, while the disk keeps up', async () => {
    const { fh, preads } = counting(await open(path, 'r'));
    const io = new RecordingIo();
    const b = new WarmBackend(fh, SIZE, io);
    try {
      const out = Buffer.alloc(SIZE);
      for (let pos = 0; pos < SIZE; pos += 128 * KiB) {
        const want = Math.min(128 * KiB, SIZE - pos);
        assert.equal(b.readSync(out.subarray(pos), want, pos), want, `inline read at ${pos}`);
      }
      assert.ok(out.equals(data), 'sequential inline reads are byte-exact');
      const small = Buffer.alloc(4 * KiB);
      for (const pos of [SIZE - 4 * KiB, 12_345, 2 * WINDOW_BYTES + 1]) {
        assert.equal(b.readSync(small, small.length, pos), small.length);
        assert.ok(small.equals(data.subarray(pos, pos + small.length)), `random read at ${pos}`);
      }
      const tail = Buffer.alloc(128 * KiB);
      assert.equal(b.readSync(tail, tail.length, SIZE - 77), 77, 'a read past the end is short');
      assert.deepEqual(preads, [], 'no read went to the pool');
      assert.equal(io.took_.length, Math.ceil(SIZE / (128 * KiB)) + 4, 'every inline read is timed');
    } finally {
      await b.close();
    }
  });

  it('after a slow inline read, reads go to the pool a window at a time', async () => {
    const { fh, preads } = counting(await open(path, 'r'));
    const io = new InlineIo(READ_LIMITS);
    io.took(SLOW_READ_MS + 1, performance.now());
    const b = new WarmBackend(fh, SIZE, io);
    try {
      const out = Buffer.alloc(SIZE);
      const fromWindow: number[] = [];
      for (let pos = 0; pos < SIZE; pos += 128 * KiB) {
        const want = Math.min(128 * KiB, SIZE - pos);
        const sync = b.readSync(out.subarray(pos), want, pos);
        if (sync !== null) fromWindow.push(pos);
        else assert.equal(await b.read(out.subarray(pos), want, pos), want);
      }
      assert.ok(out.equals(data), 'byte-exact through the windows');
      assert.ok(!fromWindow.includes(0), 'the first read waits for its window');
      assert.ok(fromWindow.length > 0, 'later reads are copied out of loaded windows');
      assert.ok(preads.length > 0 && preads.length <= 2 + SIZE / WINDOW_BYTES, `${preads.length} pool reads`);
      assert.ok(
        preads.some((n) => n === WINDOW_BYTES),
        'whole windows were loaded',
      );
    } finally {
      await b.close();
    }
  });

  it('an inline read that fails answers null, so the async read meets the error and maps it', async () => {
    const real = await open(path, 'r');
    const b = new WarmBackend(real, SIZE, new InlineIo(READ_LIMITS));
    await real.close(); // the fd is gone: EBADF
    assert.equal(b.readSync(Buffer.alloc(4 * KiB), 4 * KiB, 0), null);
    await assert.rejects(b.read(Buffer.alloc(4 * KiB), 4 * KiB, 0));
  });
});
