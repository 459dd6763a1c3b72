import { writeSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { dirname } from 'node:path';
import { AbortedError, errorMessage } from '../core/errors.js';
import { isErrno } from '../core/errno-code.js';
import type { Logger } from '../core/log.js';
import { sharedPool } from './buffer-pool.js';
import { DiskFullError, IntegrityError } from './errors.js';
import { readFully, readFullySync } from './fs-util.js';
import { inlineWrites, type InlineIo } from './inline-io.js';
import type { RangeSource } from './types.js';

/**
 * Chunks are synced and recorded in batches: when this many are waiting, or MARK_DELAY_MS after the
 * first of them, whichever comes first (and at once before a commit or when the fill stops). One
 * fdatasync per 8 MiB chunk made the disk flush each chunk's pages separately; a kill -9 now costs
 * at most one batch of re-download, and another process following this fill sees chunks up to
 * MARK_DELAY_MS later.
 */
const MARK_BATCH_CHUNKS = 8;
const MARK_DELAY_MS = 1000;

/** Reads up to this size of just-written bytes are served with a synchronous pread (see pread). */
const SYNC_READ_MAX_BYTES = 256 * 1024;

/** Where the chunk map is made durable: BlobIndex.markChunks, narrowed to what the writer needs. */
export interface ChunkRecorder {
  markChunks(key: string, token: string, chunks: number[], nowMs: number): void;
}

export interface ChunkWriterOptions {
  key: string;
  /** for messages: the source's label, never a signed URL */
  label: string;
  sizeBytes: number;
  partialPath: string;
  /** Positional writes are batched up to this many bytes (>= 1 MiB keeps syscalls cheap). */
  writeBatchBytes: number;
  recorder: ChunkRecorder;
  token: string;
  log: Logger;
  nowMs: () => number;
  /** where writes run (default: the process's policy; tests pass their own) */
  inline?: InlineIo;
}

/**
 * The partial file of one fill: ranged downloads land in it with positional writes, readers pread
 * it, and finished chunks are recorded as done only after an fdatasync. That order is the kill -9
 * guarantee: a chunk marked in SQLite always has its bytes on disk (resume and followers trust it).
 */
export class ChunkWriter {
  private pending: number[] = [];
  private marking: Promise<void> | null = null;
  private markTimer: NodeJS.Timeout | null = null;
  private closed = false;

  private readonly inline: InlineIo;

  private constructor(
    private readonly o: ChunkWriterOptions,
    private readonly fh: FileHandle,
  ) {
    this.inline = o.inline ?? inlineWrites;
  }

  /**
   * Opens (or resumes) the partial file at its full size. `kept` is false when the chunks an index
   * said were done cannot be trusted (no file, or a shorter one).
   */
  static async open(o: ChunkWriterOptions): Promise<{ writer: ChunkWriter; kept: boolean }> {
    await mkdir(dirname(o.partialPath), { recursive: true });
    let fh: FileHandle;
    let kept = true;
    try {
      fh = await open(o.partialPath, 'r+');
      const { size } = await fh.stat();
      if (size !== o.sizeBytes) {
        await fh.truncate(o.sizeBytes);
        if (size < o.sizeBytes) kept = false;
      }
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      kept = false;
      fh = await open(o.partialPath, 'w+', 0o600);
      await fh.truncate(o.sizeBytes);
    }
    return { writer: new ChunkWriter(o, fh), kept };
  }

  /**
   * Downloads [start, end) from `source` into the file; `onWritten(n)` after each batch reports how
   * many bytes from `start` are written. Throws IntegrityError on a short or long response.
   * While writes run inline (see inline-io.ts), each delivery (a socket read, <= 64 KiB) is
   * written as it is: gathering them first cost a memmove, and perf put ~3.5x as many samples in
   * the kernel's copy of our 1 MiB batches into the page cache as in the bare floor's copy of its
   * socket reads (bench/bare-cold-read.ts, issue 15): a batch's start has left the CPU cache.
   * Writes handed to the pool are gathered in a pooled batch buffer (one hand-off per batch); a
   * delivery at least a batch long is written as it is.
   */
  async fetchRange(
    source: RangeSource,
    start: number,
    end: number,
    signal: AbortSignal,
    onBytes: (n: number) => void,
    onWritten: (n: number) => void,
  ): Promise<void> {
    const pool = sharedPool(this.o.writeBatchBytes);
    const buf = pool.take();
    let fill = 0;
    let received = 0;
    let filePos = start;
    let writing = false;
    const write = async (from: Buffer, len: number): Promise<void> => {
      writing = true;
      await this.writeAll(from, len, filePos);
      writing = false;
      filePos += len;
      onWritten(filePos - start);
    };
    try {
      await source.fetchRange(
        start,
        end,
        async (chunk) => {
          if (signal.aborted) throw new AbortedError('fill aborted');
          if (received + chunk.length > end - start) {
            throw new IntegrityError(`${source.describe()}: server sent more bytes than requested`);
          }
          received += chunk.length;
          onBytes(chunk.length);
          // an empty batch and a delivery a batch long, or writes running inline: no gathering
          if (
            fill === 0 &&
            (chunk.length >= buf.length || this.inline.allowed(chunk.length, performance.now()))
          ) {
            return write(chunk, chunk.length);
          }
          let off = 0;
          while (off < chunk.length) {
            const n = Math.min(buf.length - fill, chunk.length - off);
            chunk.copy(buf, fill, off, off + n);
            fill += n;
            off += n;
            if (fill === buf.length) {
              await write(buf, fill);
              fill = 0;
            }
          }
        },
        signal,
      );
      if (fill > 0) await write(buf, fill);
    } finally {
      // RangeSource settles only after its last sink call did; a source that broke that rule must
      // not get a buffer a write still reads handed to another fetch
      if (!writing) pool.give(buf);
    }
    if (received !== end - start) {
      throw new IntegrityError(
        `${source.describe()}: got ${received} of ${end - start} bytes at offset ${start} (size ${this.o.sizeBytes})`,
      );
    }
  }

  /**
   * Reads bytes already written (the caller knows they are). A read of at most SYNC_READ_MAX_BYTES
   * (a FUSE read is 128 KiB) is a pread on this thread: those bytes were written moments ago, so it
   * is a page-cache copy, cheaper than an async read's two thread hand-offs (1.7 of the main
   * thread's CPU-s per GiB of cold read in the profile, issue 15).
   */
  pread(buf: Buffer, length: number, position: number): Promise<number> {
    if (this.closed) return Promise.reject(new AbortedError('fill job file closed'));
    const len = Math.max(0, Math.min(length, this.o.sizeBytes - position));
    if (len === 0) return Promise.resolve(0);
    if (len > SYNC_READ_MAX_BYTES) return readFully(this.fh, buf, len, position);
    try {
      return Promise.resolve(readFullySync(this.fh.fd, buf, len, position));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Chunk i is completely written: it is recorded as done after a later fdatasync (batched). */
  chunkWritten(i: number): void {
    this.pending.push(i);
    this.scheduleMarks();
  }

  /** Resolves once every chunk handed to chunkWritten is synced and recorded (or failed to be). */
  async settleMarks(): Promise<void> {
    for (;;) {
      if (this.pending.length > 0 && !this.closed) this.startMarks();
      if (!this.marking) return;
      await this.marking;
    }
  }

  /** fdatasync of everything written so far (before the digest is checked and the file renamed). */
  async sync(): Promise<void> {
    await this.settleMarks();
    await this.fh.datasync();
  }

  marksPending(): boolean {
    return this.marking !== null || this.pending.length > 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.markTimer) clearTimeout(this.markTimer);
    await this.fh.close().catch(() => undefined);
  }

  isClosed(): boolean {
    return this.closed;
  }

  private async writeAll(buf: Buffer, len: number, pos: number): Promise<void> {
    let off = 0;
    while (off < len) {
      if (this.closed) throw new AbortedError('fill job file closed');
      try {
        const t0 = performance.now();
        if (this.inline.allowed(len - off, t0)) {
          off += writeSync(this.fh.fd, buf, off, len - off, pos + off);
          const t1 = performance.now();
          this.inline.took(t1 - t0, t1);
        } else {
          const { bytesWritten } = await this.fh.write(buf, off, len - off, pos + off);
          off += bytesWritten;
        }
      } catch (err) {
        if (isErrno(err, 'ENOSPC', 'EDQUOT')) {
          throw new DiskFullError(`no space left in the cache while filling ${this.o.label}`, err);
        }
        throw err;
      }
    }
  }

  private scheduleMarks(): void {
    if (this.marking || this.pending.length === 0) return;
    if (this.pending.length >= MARK_BATCH_CHUNKS) this.startMarks();
    else if (!this.markTimer) {
      this.markTimer = setTimeout(() => this.startMarks(), MARK_DELAY_MS);
      // The fill's own watchdog keeps the process alive while it runs; this timer must not.
      this.markTimer.unref();
    }
  }

  private startMarks(): void {
    if (this.markTimer) clearTimeout(this.markTimer);
    this.markTimer = null;
    // Cleared in a later tick, so even a run that ends without awaiting leaves no stale promise.
    this.marking ??= this.runMarks().finally(() => {
      this.marking = null;
      this.scheduleMarks();
    });
  }

  /** fdatasync, then record the chunks: the kill -9 guarantee is this order. */
  private async runMarks(): Promise<void> {
    try {
      if (this.pending.length === 0 || this.closed) return;
      const batch = this.pending;
      this.pending = [];
      await this.fh.datasync();
      this.o.recorder.markChunks(this.o.key, this.o.token, batch, this.o.nowMs());
    } catch (err) {
      this.o.log.warn('could not persist chunk map', { blob: this.o.key, error: errorMessage(err) });
    }
  }
}
