import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { IntegrityError } from './errors.js';
import type { FillJob } from './fill-job.js';
import { fetchInto } from './fetch-into.js';
import { inlineReads, type InlineIo } from './inline-io.js';
import { SequentialWindow } from './sequential-window.js';
import type { RangeSource } from './types.js';

/** Where one open reader currently gets its bytes; StoreReader switches between them. */
export interface ReadBackend {
  readonly kind: 'warm' | 'fill' | 'stream' | 'follow';
  read(buf: Buffer, length: number, position: number): Promise<number>;
  /** The read answered at once (memory, an inline pread), or null (then `read`); only where cheap. */
  readSync?(buf: Buffer, length: number, position: number): number | null;
  close(): Promise<void>;
  /**
   * Checked before each read: 'committed' when the blob file may now serve this reader (fill done,
   * stream due for promotion), 'reopen' when this backend is finished but the blob should be tried
   * again (fill failed without corruption); undefined/null to keep reading here.
   */
  successor?(nowMs: number): 'committed' | 'reopen' | null;
}

/**
 * A complete blob on disk. While the disk keeps up (inline-io.ts), each read is one pread straight
 * into the kernel's buffer on this thread: no hop to libuv's pool, no copy out of a window. After a
 * slow one, reads go to the pool, a 1 MiB window at a time for sequential readers.
 */
export class WarmBackend implements ReadBackend {
  readonly kind = 'warm';
  private closed = false;
  private readonly window: SequentialWindow;
  constructor(
    private readonly fh: FileHandle,
    private readonly sizeBytes: number,
    private readonly inline: InlineIo = inlineReads,
  ) {
    this.window = new SequentialWindow(fh, sizeBytes);
  }

  read(buf: Buffer, length: number, position: number): Promise<number> {
    return this.window.read(buf, length, position);
  }

  readSync(buf: Buffer, length: number, position: number): number | null {
    if (this.closed) return null;
    const t0 = performance.now();
    if (!this.inline.allowed(length, t0)) return this.window.readSync(buf, length, position);
    let n: number;
    try {
      n = readSync(this.fh.fd, buf, 0, Math.min(length, this.sizeBytes - position), position);
    } catch {
      return null; // the async read meets the same error and maps it
    }
    const t1 = performance.now();
    this.inline.took(t1 - t0, t1);
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.window.close();
    await this.fh.close();
  }
}

/** Reads through a running fill: wait for the byte range, then pread the partial file. */
export class FillBackend implements ReadBackend {
  readonly kind = 'fill';
  private closed = false;
  constructor(readonly job: FillJob) {}

  successor(): 'committed' | 'reopen' | null {
    if (this.job.state === 'done') return 'committed';
    if (this.job.state === 'failed' && !(this.job.error instanceof IntegrityError)) return 'reopen';
    return null;
  }

  async read(buf: Buffer, length: number, position: number): Promise<number> {
    return this.job.read(buf, length, position);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.job.release();
    }
    return Promise.resolve();
  }
}

/**
 * Bytes straight from the source through one bounded window, cached nowhere: for blobs larger than
 * the cache, a full disk, or a blob another process's fill has stopped making progress on. Sequential 128 KiB reads hit the
 * window; memory stays at one window per open reader.
 */
export class StreamBackend implements ReadBackend {
  readonly kind = 'stream';
  private source: RangeSource | null = null;
  private window: Buffer | null = null;
  private winStart = 0;
  private winLen = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly makeSource: () => RangeSource,
    private readonly sizeBytes: number,
    private readonly windowBytes: number,
    private readonly stallMs: number,
    private readonly onBytes: (n: number) => void,
    /** When set, StoreReader tries to switch to the cached blob after this instant. */
    public promoteAfterMs: number | null = null,
  ) {}

  successor(nowMs: number): 'committed' | null {
    if (this.promoteAfterMs === null || nowMs < this.promoteAfterMs) return null;
    this.promoteAfterMs = nowMs + 1000;
    return 'committed';
  }

  read(buf: Buffer, length: number, position: number): Promise<number> {
    // One window per reader: serialise so parallel reads do not refill it under each other.
    const run = this.queue.then(() => this.readNow(buf, length, position));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async readNow(buf: Buffer, length: number, position: number): Promise<number> {
    const len = Math.max(0, Math.min(length, this.sizeBytes - position));
    if (len === 0) return 0;
    const inWindow = position >= this.winStart && position + len <= this.winStart + this.winLen;
    if (!inWindow || !this.window) {
      const want = Math.max(len, this.windowBytes);
      const end = Math.min(this.sizeBytes, position + want);
      if (!this.window || this.window.length < end - position) this.window = Buffer.allocUnsafe(want);
      this.winLen = 0;
      this.source ??= this.makeSource();
      await fetchInto(this.source, position, end, this.window, this.stallMs, this.onBytes);
      this.winStart = position;
      this.winLen = end - position;
    }
    this.window.copy(buf, 0, position - this.winStart, position - this.winStart + len);
    return len;
  }

  close(): Promise<void> {
    this.window = null;
    return Promise.resolve();
  }
}
