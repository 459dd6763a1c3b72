import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { setMaxListeners } from 'node:events';
import { dirname } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { Digest } from '../core/digest.js';
import { AbortedError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { BlobIndex } from './blob-index.js';
import { ChunkMap } from './chunk-map.js';
import { fsyncDir, readFully } from './fs-util.js';
import { DiskFullError, IntegrityError, StallError } from './errors.js';
import { PrefixHasher } from './prefix-hasher.js';
import type { FillProgress, RangeSource } from './types.js';
import { isErrno } from '../core/errno-code.js';

/** A reader silent for this long no longer holds the fill back. */
const READER_IDLE_MS = 500;
/** How far from the previous read a read may start and still count as sequential. */
const SEQUENTIAL_SLACK_BYTES = 8 * 1024 * 1024;

export interface FillJobOptions {
  key: string;
  digest: Digest;
  sizeBytes: number;
  chunkBytes: number;
  streams: number;
  /**
   * While a sequential reader is active, fetch at most this many chunks ahead of it. The rest of the
   * blob follows once readers pause: on 2 cores a fill racing to the end of a 5 GiB file took the CPU
   * the reader's own FUSE requests needed (measured: reader at 1/5 of the download rate).
   */
  readAheadChunks: number;
  /** Positional writes are batched up to this many bytes (>= 1 MiB keeps syscalls cheap). */
  writeBatchBytes: number;
  partialPath: string;
  finalPath: string;
  source: RangeSource;
  index: BlobIndex;
  /** Claim token from BlobIndex.claim. */
  token: string;
  /** Chunks already on disk from an interrupted fill (persisted chunk map). */
  doneChunks: readonly number[];
  stallTimeoutMs: number;
  maxChunkRetries: number;
  /** Blobs up to this size are served only after verification (no unverified byte ever reaches a reader). */
  verifyBeforeServeBytes: number;
  log: Logger;
  clock: Clock;
  onBytesDownloaded: (n: number) => void;
  onSettled: (job: FillJob, error: Error | null) => void;
}

type JobState = 'running' | 'verifying' | 'done' | 'failed';

interface Waiter {
  start: number;
  end: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * One download of one blob, shared by every reader of that digest (gcsfuse's Job, rclone's Item).
 * Workers fetch fixed-size chunks through the RangeSource into the partial file with positional
 * writes; a waiter's chunks go first, then the file continues sequentially from the latest read
 * (read-ahead) and wraps round, so the whole blob ends up on disk. Readers are woken as soon as
 * their bytes are written. A chunk is recorded in the index only after an fdatasync, so a kill -9
 * never leaves a chunk marked done whose bytes are not on disk; only the verified rename makes a
 * blob present.
 *
 * Lock-free by construction: all state is touched on the event loop; awaits are the only yields.
 */
export class FillJob {
  // Constant data
  readonly key: string;
  readonly sizeBytes: number;
  readonly startedAtMs: number;
  private readonly o: FillJobOptions;
  private map: ChunkMap;

  // Mutable state
  state: JobState = 'running';
  error: Error | null = null;
  private fh: FileHandle | null = null;
  private readonly inflight = new Map<number, number>();
  private readonly attempts = new Map<number, number>();
  private waiters: Waiter[] = [];
  private cursor = 0;
  private readonly ac = new AbortController();
  private lastProgressMs: number;
  private bytesWritten = 0;
  private pendingMarks: number[] = [];
  private marking: Promise<void> | null = null;
  private workers: Promise<void>[] = [];
  private readonly urgent = new Set<Promise<void>>();
  private watchdog: NodeJS.Timeout | null = null;
  // Read-ahead gate: where the latest read ended, when it happened, whether reads are sequential.
  private lastReadEnd = -1;
  private lastReadAtMs = Number.NEGATIVE_INFINITY;
  private sequential = false;
  private gateOpen: (() => void) | null = null;
  private gate: Promise<void> | null = null;
  /** Digest of the contiguous on-disk prefix, computed in a worker thread while the fill runs. */
  private hasher: PrefixHasher | null = null;
  private refs = 0;
  private activeIo = 0;
  private fhClosed = false;
  private readonly settled: Promise<Error | null>;
  private settle!: (err: Error | null) => void;

  private constructor(o: FillJobOptions) {
    this.o = o;
    this.key = o.key;
    this.sizeBytes = o.sizeBytes;
    this.map = new ChunkMap(o.sizeBytes, o.chunkBytes);
    for (const i of o.doneChunks) this.map.setDone(i);
    this.bytesWritten = this.map.doneBytes();
    this.startedAtMs = o.clock.nowMs();
    this.lastProgressMs = this.startedAtMs;
    this.settled = new Promise((resolve) => (this.settle = resolve));
    // Every stream and every urgent fetch listens on this signal at once; more than Node's default
    // warning threshold of 10 is the design, not a leak (they are removed when each fetch ends).
    setMaxListeners(4 * (o.streams + 8), this.ac.signal);
  }

  /** Opens (or resumes) the partial file and starts the workers. */
  static async start(o: FillJobOptions): Promise<FillJob> {
    const job = new FillJob(o);
    await mkdir(dirname(o.partialPath), { recursive: true });
    let fh: FileHandle;
    try {
      fh = await open(o.partialPath, 'r+');
      const { size } = await fh.stat();
      if (size !== o.sizeBytes) {
        await fh.truncate(o.sizeBytes);
        if (size < o.sizeBytes) job.forgetChunks();
      }
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      // No file: whatever the index said was done is gone with it.
      job.forgetChunks();
      fh = await open(o.partialPath, 'w+', 0o600);
      await fh.truncate(o.sizeBytes);
    }
    job.fh = fh;
    job.hasher = new PrefixHasher(o.partialPath, o.digest.algo, () => {
      if (job.state === 'verifying') job.lastProgressMs = o.clock.nowMs();
    });
    job.launch();
    return job;
  }

  private forgetChunks(): void {
    if (this.map.doneBytes() > 0) this.o.index.resetChunks(this.key);
    this.map = new ChunkMap(this.sizeBytes, this.o.chunkBytes);
    this.bytesWritten = 0;
  }

  private launch(): void {
    const tick = Math.max(20, Math.min(1000, Math.floor(this.o.stallTimeoutMs / 4)));
    // Not unref'd: a reader waiting on a stalled fill must be woken even if nothing else is pending.
    this.watchdog = setInterval(() => this.checkStall(), tick);
    const n = Math.max(1, Math.min(this.o.streams, this.map.count));
    for (let i = 0; i < n; i++) this.workers.push(this.worker());
    this.maybeFinish();
  }

  // --- reader side ------------------------------------------------------------------------------

  acquire(): void {
    this.refs++;
  }

  release(): void {
    this.refs--;
    if (this.refs === 0) this.openGate();
    this.maybeCloseFile();
  }

  /** Resolves once [start, end) is readable from the partial file; moves those chunks to the front. */
  waitFor(start: number, endExclusive: number): Promise<void> {
    const end = Math.min(endExclusive, this.sizeBytes);
    if (this.error) return Promise.reject(this.error);
    this.noteRead(start, end);
    if (this.sizeBytes <= this.o.verifyBeforeServeBytes) {
      return this.settled.then((err) => {
        if (err) throw err;
      });
    }
    if (end <= start || this.available(start, end)) {
      this.cursor = this.map.chunkOf(Math.max(0, end - 1));
      return Promise.resolve();
    }
    this.cursor = this.map.chunkOf(start);
    const waiting = new Promise<void>((resolve, reject) =>
      this.waiters.push({ start, end, resolve, reject }),
    );
    this.expedite(start, end);
    return waiting;
  }

  /** Reads bytes already on disk (call after waitFor). */
  async pread(buf: Buffer, length: number, position: number): Promise<number> {
    if (this.error) throw this.error;
    const fh = this.fh;
    if (!fh || this.fhClosed) throw new AbortedError('fill job file closed');
    const len = Math.max(0, Math.min(length, this.sizeBytes - position));
    if (len === 0) return 0;
    this.activeIo++;
    try {
      return await readFully(fh, buf, len, position);
    } finally {
      this.activeIo--;
      this.maybeCloseFile();
    }
  }

  whenSettled(): Promise<Error | null> {
    return this.settled;
  }

  progress(): FillProgress {
    return {
      digest: this.key,
      label: this.o.source.describe(),
      sizeBytes: this.sizeBytes,
      bytesDone: this.bytesWritten,
      startedAtMs: this.startedAtMs,
    };
  }

  /** Stops the fill, keeping the partial and its chunk map for a later resume. */
  async cancel(err: Error = new AbortedError('fill cancelled')): Promise<void> {
    this.fail(err, false);
    await this.settled;
  }

  // --- worker side ------------------------------------------------------------------------------

  private available(start: number, end: number): boolean {
    for (const i of this.map.chunksIn(start, end)) {
      if (this.map.isDone(i)) continue;
      const written = this.inflight.get(i);
      if (written === undefined || this.map.start(i) + written < Math.min(end, this.map.end(i))) return false;
    }
    return true;
  }

  /** The next chunk to fetch; 'wait' when only chunks beyond the read-ahead window are left. */
  private nextChunk(): number | 'wait' | undefined {
    for (const w of this.waiters) {
      for (const i of this.map.chunksIn(w.start, w.end)) {
        if (!this.map.isDone(i) && !this.inflight.has(i)) return i;
      }
    }
    const n = this.map.count;
    const limit = this.readerIsStreaming() ? this.o.readAheadChunks : n;
    for (let k = 0; k < n; k++) {
      const i = (this.cursor + k) % n;
      if (!this.map.isDone(i) && !this.inflight.has(i)) return k < limit ? i : 'wait';
    }
    return undefined;
  }

  /** A sequential reader read recently: the fill should stay just ahead of it, not race to the end. */
  private readerIsStreaming(): boolean {
    return this.sequential && this.refs > 0 && this.o.clock.nowMs() - this.lastReadAtMs < READER_IDLE_MS;
  }

  private noteRead(start: number, end: number): void {
    // The kernel's readahead sends several 128 KiB requests at once, slightly out of order, so
    // "sequential" means near where the reader last was, not exactly there.
    const near =
      this.lastReadEnd < 0 ? start === 0 : Math.abs(start - this.lastReadEnd) <= SEQUENTIAL_SLACK_BYTES;
    this.sequential = near;
    this.lastReadEnd = near ? Math.max(end, this.lastReadEnd) : end;
    this.lastReadAtMs = this.o.clock.nowMs();
    this.openGate();
  }

  private openGate(): void {
    const open = this.gateOpen;
    this.gate = null;
    this.gateOpen = null;
    open?.();
  }

  /** Parks a worker until the reader moves on, pauses, or the job ends. */
  private async waitAtGate(): Promise<void> {
    this.gate ??= new Promise<void>((resolve) => (this.gateOpen = resolve));
    const timer = setTimeout(() => this.openGate(), READER_IDLE_MS);
    try {
      await this.gate;
    } finally {
      clearTimeout(timer);
    }
    // Waiting for the reader is not a stall.
    this.lastProgressMs = this.o.clock.nowMs();
  }

  private async worker(): Promise<void> {
    while (this.state === 'running') {
      const i = this.nextChunk();
      if (i === undefined) break;
      if (i === 'wait') {
        await this.waitAtGate();
        continue;
      }
      if ((await this.fetchOne(i)) === 'stop') return;
    }
    this.maybeFinish();
  }

  /**
   * Starts the chunks a reader is blocked on right away, on extra fetches (at most `streams` at a
   * time) instead of queueing behind workers busy with 8 MiB background chunks: a cold random read
   * then waits for one chunk, not for a worker to come free first.
   */
  private expedite(start: number, end: number): void {
    for (const i of this.map.chunksIn(start, end)) {
      if (this.map.isDone(i) || this.inflight.has(i) || this.urgent.size >= this.o.streams) continue;
      const task = (async () => {
        while (this.state === 'running' && !this.map.isDone(i) && !this.inflight.has(i)) {
          if ((await this.fetchOne(i)) !== 'retry') break;
        }
      })().finally(() => {
        this.urgent.delete(task);
        this.maybeFinish();
      });
      this.urgent.add(task);
    }
  }

  /** Fetches chunk i into the partial file: 'retry' after a transient failure, 'stop' when the job failed. */
  private async fetchOne(i: number): Promise<'done' | 'retry' | 'stop'> {
    this.inflight.set(i, 0);
    try {
      await this.fetchChunk(i);
    } catch (err) {
      this.inflight.delete(i);
      if (this.state !== 'running') return 'stop';
      const tries = (this.attempts.get(i) ?? 0) + 1;
      this.attempts.set(i, tries);
      const fatal =
        err instanceof IntegrityError ||
        err instanceof DiskFullError ||
        this.ac.signal.aborted ||
        tries > this.o.maxChunkRetries;
      if (fatal) {
        const e = err instanceof Error ? err : new Error(String(err));
        this.fail(e, e instanceof IntegrityError || e instanceof DiskFullError);
        return 'stop';
      }
      this.o.log.debug('chunk fetch failed, retrying', {
        blob: this.key,
        chunk: i,
        error: errorMessage(err),
      });
      return 'retry';
    }
    this.inflight.delete(i);
    this.map.setDone(i);
    this.pendingMarks.push(i);
    this.marking ??= this.runMarks();
    this.wake();
    return 'done';
  }

  private async fetchChunk(i: number): Promise<void> {
    const start = this.map.start(i);
    const end = this.map.end(i);
    const buf = Buffer.allocUnsafe(Math.min(this.o.writeBatchBytes, end - start));
    let fill = 0;
    let received = 0;
    let filePos = start;
    const flush = async (): Promise<void> => {
      let off = 0;
      while (off < fill) {
        const { bytesWritten } = await this.writeAt(buf, off, fill - off, filePos + off);
        off += bytesWritten;
      }
      filePos += fill;
      this.bytesWritten += fill;
      fill = 0;
      this.inflight.set(i, filePos - start);
      this.lastProgressMs = this.o.clock.nowMs();
      this.wake();
    };
    await this.o.source.fetchRange(
      start,
      end,
      async (chunk) => {
        if (this.ac.signal.aborted) throw new AbortedError('fill aborted');
        if (received + chunk.length > end - start) {
          throw new IntegrityError(`${this.o.source.describe()}: server sent more bytes than requested`);
        }
        received += chunk.length;
        this.o.onBytesDownloaded(chunk.length);
        let off = 0;
        while (off < chunk.length) {
          const n = Math.min(buf.length - fill, chunk.length - off);
          chunk.copy(buf, fill, off, off + n);
          fill += n;
          off += n;
          if (fill === buf.length) await flush();
        }
      },
      this.ac.signal,
    );
    if (fill > 0) await flush();
    if (received !== end - start) {
      throw new IntegrityError(
        `${this.o.source.describe()}: got ${received} of ${end - start} bytes at offset ${start} (size ${this.sizeBytes})`,
      );
    }
  }

  private async writeAt(
    buf: Buffer,
    off: number,
    len: number,
    pos: number,
  ): Promise<{ bytesWritten: number }> {
    const fh = this.fh;
    if (!fh || this.fhClosed) throw new AbortedError('fill job file closed');
    try {
      return await fh.write(buf, off, len, pos);
    } catch (err) {
      if (isErrno(err, 'ENOSPC', 'EDQUOT')) {
        throw new DiskFullError(`no space left in the cache while filling ${this.o.source.describe()}`, err);
      }
      throw err;
    }
  }

  /** fdatasync, then record the chunks: batched, so many chunks share one sync. */
  private async runMarks(): Promise<void> {
    try {
      while (this.pendingMarks.length > 0 && this.fh && !this.fhClosed) {
        const batch = this.pendingMarks;
        this.pendingMarks = [];
        await this.fh.datasync();
        this.o.index.markChunks(this.key, this.o.token, batch, this.o.clock.nowMs());
      }
    } catch (err) {
      this.o.log.warn('could not persist chunk map', { blob: this.key, error: errorMessage(err) });
    } finally {
      this.marking = null;
    }
  }

  private wake(): void {
    this.kickHash();
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.available(w.start, w.end)) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Tells the hash worker how far the contiguous prefix on disk now reaches. */
  private kickHash(): void {
    const h = this.hasher;
    if (!h || (this.state !== 'running' && this.state !== 'verifying')) return;
    let p = h.extendedBytes;
    while (p < this.sizeBytes) {
      const i = this.map.chunkOf(p);
      if (this.map.isDone(i)) {
        p = this.map.end(i);
        continue;
      }
      const written = this.inflight.get(i);
      if (written !== undefined) p = Math.max(p, this.map.start(i) + written);
      break;
    }
    h.extend(p);
  }

  private checkStall(): void {
    if (this.state !== 'running' && this.state !== 'verifying') return;
    const idle = this.o.clock.nowMs() - this.lastProgressMs;
    if (idle > this.o.stallTimeoutMs)
      this.fail(new StallError(this.o.source.describe(), this.o.stallTimeoutMs), false);
  }

  private maybeFinish(): void {
    if (this.state !== 'running' || !this.map.allDone() || this.inflight.size > 0) return;
    this.state = 'verifying';
    void this.verifyAndCommit();
  }

  private async verifyAndCommit(): Promise<void> {
    const fh = this.fh;
    if (!fh) return;
    try {
      while (this.marking) await this.marking;
      await fh.datasync();
      const hasher = this.hasher;
      if (!hasher) throw new Error('no hasher');
      hasher.extend(this.sizeBytes);
      const hex = await hasher.finish();
      if (this.state !== 'verifying') return;
      if (hex !== this.o.digest.hex) {
        this.fail(
          new IntegrityError(
            `content of ${this.o.source.describe()} does not match its digest ${this.key} (got ${hex})`,
          ),
          true,
        );
        return;
      }
      await mkdir(dirname(this.o.finalPath), { recursive: true });
      await rename(this.o.partialPath, this.o.finalPath);
      await fsyncDir(dirname(this.o.finalPath));
      this.o.index.commitPresent(this.key, this.sizeBytes, this.o.clock.nowMs());
      this.state = 'done';
      this.stopWatchdog();
      for (const w of this.waiters) w.resolve();
      this.waiters = [];
      this.settle(null);
      this.o.onSettled(this, null);
      this.maybeCloseFile();
    } catch (err) {
      if (this.state === 'verifying') this.fail(err instanceof Error ? err : new Error(String(err)), false);
    }
  }

  /**
   * Ends the job with an error: waiters are rejected at once. A corrupt download (discard=true) also
   * loses its partial and chunk map; anything else keeps them so the next open resumes.
   */
  private fail(err: Error, discard: boolean): void {
    if (this.state === 'done' || this.state === 'failed') return;
    this.state = 'failed';
    this.openGate();
    this.error = err;
    this.ac.abort();
    this.stopWatchdog();
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
    if (discard) {
      // One line naming the digest; a full disk is reported by whoever falls back to streaming.
      if (err instanceof IntegrityError) {
        this.o.log.warn(`integrity failure, discarded download of ${this.key}: ${err.message}`);
      }
    } else {
      if (!(err instanceof AbortedError))
        this.o.log.warn('fill failed', { blob: this.key, error: errorMessage(err) });
    }
    // On a full disk SQLite cannot write either; a throw here would be an unhandled rejection that
    // takes the whole mount down. After the partial is unlinked its space is free, so try again then.
    const dropped = discard && this.tryIndex(() => this.o.index.dropPartial(this.key));
    void this.drain().then(async () => {
      if (discard) {
        await unlink(this.o.partialPath).catch(() => undefined);
        if (!dropped) this.tryIndex(() => this.o.index.dropPartial(this.key));
      } else this.tryIndex(() => this.o.index.release(this.key, this.o.token));
      this.settle(err);
      this.o.onSettled(this, err);
      this.maybeCloseFile();
    });
  }

  /** Runs an index update that must not throw out of fail(); false (and a log line) when it failed. */
  private tryIndex(update: () => void): boolean {
    try {
      update();
      return true;
    } catch (err) {
      this.o.log.warn('could not update the cache index', { blob: this.key, error: errorMessage(err) });
      return false;
    }
  }

  private async drain(): Promise<void> {
    await Promise.allSettled([...this.workers, ...this.urgent]);
    while (this.marking) await this.marking;
    await this.hasher?.terminate();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private maybeCloseFile(): void {
    const finished = this.state === 'done' || this.state === 'failed';
    if (!finished || this.refs > 0 || this.activeIo > 0 || this.marking || this.fhClosed || !this.fh) return;
    this.fhClosed = true;
    const fh = this.fh;
    void this.settled.then(() => fh.close().catch(() => undefined));
  }
}
