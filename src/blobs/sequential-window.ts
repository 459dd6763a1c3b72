import type { FileHandle } from 'node:fs/promises';
import { sharedPool, type BufferPool } from './buffer-pool.js';
import { readFully } from './fs-util.js';

/** One pread serves this many bytes of a sequential reader: eight of libfuse 2's 128 KiB requests. */
export const WINDOW_BYTES = 1024 * 1024;
/** Window buffers held at once across the process (two per reader); beyond that readers pread. */
const MAX_WINDOWS = 32;
/** A reader's windows: the one it reads from and the next one, loading while it does. */
const WINDOWS_PER_READER = 2;

let windowsInUse = 0;

interface Window {
  start: number;
  /** bytes valid from `start`; 0 while loading or after a failed load */
  length: number;
  loading: Promise<void> | null;
  buf: Buffer;
}

/**
 * Sequential reads of a complete blob file while reads run in the pool (WarmBackend: after a slow
 * inline read), one 1 MiB pread per eight FUSE reads, the next window loading while the reader is
 * in the current one. Each pread is a hand-off to libuv's pool and back, which costs more than
 * copying 128 KiB; nearly every request then finds its window loaded and is answered by `readSync`,
 * without the async chain. Random readers keep one pread per request (a 4 KiB read must not become
 * 1 MiB), and so does every reader once MAX_WINDOWS buffers are out.
 */
export class SequentialWindow {
  /** At most WINDOWS_PER_READER; a window object is never reused, so a stale reference is detectable. */
  private wins: Window[] = [];
  private nextExpected = -1;
  private closed = false;
  private readonly pool: BufferPool = sharedPool(WINDOW_BYTES);

  constructor(
    private readonly fh: FileHandle,
    private readonly sizeBytes: number,
  ) {}

  /**
   * The read when a loaded window already holds its bytes, answered without a promise: null
   * otherwise (nothing changed; the caller goes the async way). Each await in the async chain from
   * the FUSE handler down to here cost a few microseconds per 128 KiB request, a sixth of the main
   * thread's time while a cached blob streams out.
   */
  readSync(buf: Buffer, length: number, position: number): number | null {
    const w = this.wins.find((o) => !o.loading && this.holds(o, position, length));
    if (!w) return null;
    return this.serve(w, buf, length, position, this.advance(position, length));
  }

  async read(buf: Buffer, length: number, position: number): Promise<number> {
    const sequential = this.advance(position, length);
    let w = this.find(position, length);
    if (!w) {
      if (!sequential || length >= WINDOW_BYTES) return readFully(this.fh, buf, length, position);
      const started = this.load(position);
      if (!started) return readFully(this.fh, buf, length, position);
      w = started;
    }
    if (w.loading) {
      const loaded = await w.loading.then(
        () => true,
        () => false,
      );
      // A failed load, or the window recycled meanwhile: this request preads for itself (and a
      // real error surfaces from that pread).
      if (!loaded || !this.wins.includes(w) || !this.holds(w, position, length)) {
        return readFully(this.fh, buf, length, position);
      }
    }
    return this.serve(w, buf, length, position, sequential);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.wins) this.release(w);
    this.wins = [];
  }

  /** A window with [position, position + length) in it, loaded or loading. */
  private find(position: number, length: number): Window | undefined {
    const end = Math.min(position + length, this.sizeBytes);
    return this.wins.find((w) =>
      w.loading
        ? position >= w.start && end <= Math.min(w.start + WINDOW_BYTES, this.sizeBytes)
        : this.holds(w, position, length),
    );
  }

  private holds(w: Window, position: number, length: number): boolean {
    const end = Math.min(position + length, this.sizeBytes);
    return w.length > 0 && position >= w.start && end <= w.start + w.length;
  }

  /** Notes a request; true when it starts where the previous one ended. */
  private advance(position: number, length: number): boolean {
    const sequential = position === this.nextExpected;
    this.nextExpected = position + length;
    return sequential;
  }

  /** Copies the request out of a loaded window; a sequential reader gets the next window loading. */
  private serve(w: Window, buf: Buffer, length: number, position: number, sequential: boolean): number {
    const from = position - w.start;
    const n = Math.min(length, w.length - from);
    w.buf.copy(buf, 0, from, from + n);
    if (sequential) this.loadAfter(w);
    return n;
  }

  /** Starts loading the window after `w` unless it is there already or the file ends first. */
  private loadAfter(w: Window): void {
    const next = w.start + WINDOW_BYTES;
    if (w.loading || w.length < WINDOW_BYTES || next >= this.sizeBytes) return;
    if (this.wins.some((o) => o.start === next)) return;
    this.load(next, w);
  }

  /**
   * Starts loading [start, start + WINDOW_BYTES) into a buffer of this reader's: a new one while it
   * has fewer than WINDOWS_PER_READER (and the process has one to spare), else the one not in use
   * (never `keep`, the window being read, nor one still loading). Null when there is none.
   */
  private load(start: number, keep?: Window): Window | null {
    if (this.closed) return null;
    let buf: Buffer;
    if (this.wins.length < WINDOWS_PER_READER && windowsInUse < MAX_WINDOWS) {
      windowsInUse++;
      buf = this.pool.take();
    } else {
      const idle = this.wins.find((o) => o !== keep && !o.loading);
      if (!idle) return null;
      this.wins = this.wins.filter((o) => o !== idle);
      buf = idle.buf;
    }
    const w: Window = { start, length: 0, loading: null, buf };
    const want = Math.min(WINDOW_BYTES, this.sizeBytes - start);
    w.loading = readFully(this.fh, buf, want, start).then(
      (n) => {
        w.length = n;
        w.loading = null;
      },
      (err: unknown) => {
        w.loading = null;
        throw err;
      },
    );
    // A read-ahead nobody awaits must not become an unhandled rejection; readers that await it
    // fall back to their own pread.
    w.loading.catch(() => undefined);
    this.wins.push(w);
    return w;
  }

  /** Gives a window's buffer back, after its load if one is still writing into it. */
  private release(w: Window): void {
    windowsInUse--;
    const giveBack = (): void => this.pool.give(w.buf);
    if (w.loading) void w.loading.then(giveBack, giveBack);
    else giveBack();
  }
}
