import type { FileHandle } from 'node:fs/promises';
import { sharedPool, type BufferPool } from './buffer-pool.js';
import { readFully } from './fs-util.js';

/** One pread serves this many bytes of a sequential reader: eight of libfuse 2's 128 KiB requests. */
export const WINDOW_BYTES = 1024 * 1024;
/** Windows held at once across the process; a reader beyond that preads each request itself. */
const MAX_WINDOWS = 16;

let windowsInUse = 0;

interface Window {
  start: number;
  /** bytes valid from `start`; 0 while loading */
  length: number;
  loading: Promise<void> | null;
}

/**
 * Sequential reads of a complete blob file, one 1 MiB pread per eight FUSE reads. Each pread is a
 * hand-off to libuv's pool and back, which costs more than copying 128 KiB, and a sequential reader
 * (cat, cp, torch.load) would otherwise pay it per request; the bench's passthrough pays it per
 * request too, and this is what lets a remounted cache read faster than it. Random readers keep one
 * pread per request (a 4 KiB read must not become 1 MiB), and so does every reader once
 * MAX_WINDOWS buffers are out.
 */
export class SequentialWindow {
  private buf: Buffer | null = null;
  private win: Window = { start: 0, length: 0, loading: null };
  private nextExpected = -1;
  private readonly pool: BufferPool = sharedPool(WINDOW_BYTES);

  constructor(
    private readonly fh: FileHandle,
    private readonly sizeBytes: number,
  ) {}

  async read(buf: Buffer, length: number, position: number): Promise<number> {
    const sequential = position === this.nextExpected;
    this.nextExpected = position + length;
    const w = this.win;
    if (w.loading) {
      // Requests arrive a few at a time: those inside the window being loaded wait for it, any
      // other one preads for itself (the buffer is busy).
      if (!this.covers(position, length)) return readFully(this.fh, buf, length, position);
      await w.loading;
      if (this.win !== w) return readFully(this.fh, buf, length, position);
    }
    if (this.covers(position, length)) return this.copyOut(buf, length, position);
    if (!sequential || length >= WINDOW_BYTES || !this.takeBuffer()) {
      return readFully(this.fh, buf, length, position);
    }
    const loaded = await this.load(position);
    if (this.win !== loaded || !this.covers(position, length))
      return readFully(this.fh, buf, length, position);
    return this.copyOut(buf, length, position);
  }

  close(): void {
    if (!this.buf) return;
    // a load still in flight writes into the buffer: it goes back to the pool only after
    const loading = this.win.loading;
    const b = this.buf;
    this.buf = null;
    windowsInUse--;
    const giveBack = (): void => this.pool.give(b);
    if (loading) void loading.then(giveBack, giveBack);
    else this.pool.give(b);
  }

  private covers(position: number, length: number): boolean {
    const w = this.win;
    if (!this.buf) return false;
    const end = Math.min(position + length, this.sizeBytes);
    if (w.loading) return position >= w.start && end <= w.start + WINDOW_BYTES;
    return w.length > 0 && position >= w.start && end <= w.start + w.length;
  }

  private copyOut(buf: Buffer, length: number, position: number): number {
    const from = position - this.win.start;
    const n = Math.min(length, this.win.length - from);
    (this.buf as Buffer).copy(buf, 0, from, from + n);
    return n;
  }

  private takeBuffer(): boolean {
    if (this.buf) return true;
    if (windowsInUse >= MAX_WINDOWS) return false;
    windowsInUse++;
    this.buf = this.pool.take();
    return true;
  }

  private async load(start: number): Promise<Window> {
    const b = this.buf as Buffer;
    const want = Math.min(WINDOW_BYTES, this.sizeBytes - start);
    const w: Window = { start, length: 0, loading: null };
    this.win = w;
    w.loading = readFully(this.fh, b, want, start).then(
      (n) => {
        w.length = n;
        w.loading = null;
      },
      (err: unknown) => {
        w.loading = null;
        throw err;
      },
    );
    await w.loading;
    return w;
  }
}
