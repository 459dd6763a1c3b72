import { setMaxListeners } from 'node:events';
import { AbortedError, errorMessage } from '../core/errors.js';
import { ChunkSchedule, READER_IDLE_MS } from './chunk-schedule.js';
import { ChunkWriter } from './chunk-writer.js';
import { IntegrityError, StallError, losesPartial } from './errors.js';
import { abandonFill, commitFill } from './fill-commit.js';
import { RangeWaiters, ReadAheadGate } from './fill-waiters.js';
import { contentCheckFor, type ContentCheck } from './content-check.js';
import { UrgentRanges } from './urgent-ranges.js';
import type { FillJobOptions } from './fill-options.js';
import type { FillProgress } from './types.js';
import { ProgressWatch } from './progress-watch.js';

type JobState = 'running' | 'verifying' | 'done' | 'failed';
/** The hash worker hears of the on-disk prefix in steps this big: a message per MiB cost ~0.4 CPU-s/GiB. */
const HASH_STEP_BYTES = 16 * 1024 * 1024;

/**
 * One download of one blob, shared by every reader of that digest (gcsfuse's Job, rclone's Item):
 * its lifecycle, its readers and its workers. What to fetch next is ChunkSchedule's decision, how
 * bytes reach the disk durably is ChunkWriter's, and the verified rename is commitFill's. Readers
 * are woken as soon as their bytes are written.
 *
 * Lock-free by construction: all state is touched on the event loop; awaits are the only yields.
 */
export class FillJob {
  readonly key: string;
  readonly sizeBytes: number;
  readonly startedAtMs: number;
  private readonly o: FillJobOptions;
  private readonly schedule: ChunkSchedule;

  state: JobState = 'running';
  error: Error | null = null;
  private writer: ChunkWriter | null = null;
  private hasher: ContentCheck | null = null;
  private readonly attempts = new Map<number, number>();
  private readonly waiters = new RangeWaiters();
  private readonly ac = new AbortController();
  private readonly progressWatch: ProgressWatch;
  private bytesWritten = 0;
  private workers: Promise<void>[] = [];
  private readonly expedited = new Set<Promise<void>>();
  private readonly direct: UrgentRanges;
  private watchdog: NodeJS.Timeout | null = null;
  private readonly gate = new ReadAheadGate();
  private refs = 0;
  private activeIo = 0;
  private closing = false;
  private readonly settled: Promise<Error | null>;
  private settle!: (err: Error | null) => void;

  private constructor(o: FillJobOptions) {
    this.o = o;
    this.key = o.key;
    this.sizeBytes = o.sizeBytes;
    this.schedule = new ChunkSchedule({
      sizeBytes: o.sizeBytes,
      chunkBytes: o.chunkBytes,
      readAheadChunks: o.readAheadChunks,
      urgentRangeBytes: o.sizeBytes <= o.verifyBeforeServeBytes ? 0 : o.urgentRangeBytes, // served whole
      firstReadDeadlineMs: o.clock.nowMs() + READER_IDLE_MS,
    });
    this.direct = new UrgentRanges({
      source: o.source,
      stallTimeoutMs: o.stallTimeoutMs,
      maxInFlight: o.streams,
      keep: 8,
      onBytes: o.onBytesDownloaded,
    });
    for (const i of o.doneChunks) this.schedule.map.setDone(i);
    this.bytesWritten = this.schedule.map.doneBytes();
    this.startedAtMs = o.clock.nowMs();
    this.progressWatch = new ProgressWatch(this.startedAtMs, this.bytesWritten);
    this.settled = new Promise((resolve) => (this.settle = resolve));
    // Every stream and expedited fetch listens on this signal at once: past Node's warning at 10 by design.
    setMaxListeners(4 * (o.streams + 8), this.ac.signal);
  }

  /** Opens (or resumes) the partial file and starts the workers. */
  static async start(o: FillJobOptions): Promise<FillJob> {
    const job = new FillJob(o);
    const { writer, kept } = await ChunkWriter.open({
      key: o.key,
      label: o.source.describe(),
      sizeBytes: o.sizeBytes,
      partialPath: o.partialPath,
      writeBatchBytes: o.writeBatchBytes,
      recorder: o.index,
      token: o.token,
      log: o.log,
      nowMs: () => o.clock.nowMs(),
    });
    // No file, or a shorter one: whatever the index said was done is gone with it.
    if (!kept) job.forgetChunks();
    job.writer = writer;
    job.hasher = contentCheckFor(o.partialPath, o.digest, () => {
      if (job.state === 'verifying') job.progressWatch.touch(o.clock.nowMs());
    });
    job.launch();
    return job;
  }

  private forgetChunks(): void {
    if (this.schedule.map.doneBytes() > 0) this.o.index.resetChunks(this.key);
    this.schedule.reset();
    this.bytesWritten = 0;
  }

  private launch(): void {
    const tick = Math.max(20, Math.min(1000, Math.floor(this.o.stallTimeoutMs / 4)));
    // Not unref'd: a reader waiting on a stalled fill must be woken even if nothing else is pending.
    this.watchdog = setInterval(() => this.checkStall(), tick);
    const n = Math.max(1, Math.min(this.o.streams, this.schedule.map.count));
    for (let i = 0; i < n; i++) this.workers.push(this.worker());
    this.maybeFinish();
  }

  // --- reader side ------------------------------------------------------------------------------

  acquire(): void {
    this.refs++;
  }

  release(): void {
    this.refs--;
    if (this.refs === 0) this.gate.open();
    this.maybeCloseFile();
  }

  /**
   * Answers a read from the partial file once its bytes are written; a random reader's miss is
   * answered from a small urgent range instead (falling back to its chunk if that fetch fails).
   */
  async read(buf: Buffer, length: number, position: number): Promise<number> {
    const end = Math.min(position + length, this.sizeBytes);
    if (this.error) throw this.error;
    const pattern = this.schedule.noteRead(position, end, this.o.clock.nowMs());
    if (!this.schedule.readerIsRandom(this.o.clock.nowMs(), this.refs)) this.gate.open(); // else held
    if (this.sizeBytes <= this.o.verifyBeforeServeBytes) {
      const err = await this.settled;
      if (err) throw err;
      return this.pread(buf, length, position);
    }
    this.schedule.aimAt(position, end);
    const range = pattern === 'random' || this.direct.covers(position, end);
    const urgent = range ? this.schedule.urgentRange(position, end) : null;
    const direct = urgent ? this.direct.read(urgent, buf, end - position, position) : null;
    if (direct) {
      try {
        return await direct;
      } catch (err) {
        if (this.error) throw this.error;
        this.o.log.debug('urgent range failed; waiting for its chunk', {
          blob: this.key,
          error: errorMessage(err),
        });
      }
    }
    await this.waitFor(position, end);
    // The read reaching the end of a fully written file waits for its digest check: a reader that
    // reads to EOF (cat, torch.load) gets EIO, never a whole corrupt file; an early tail read does not.
    const whole = end >= this.sizeBytes && this.schedule.contiguousEnd(0) >= this.sizeBytes;
    const failed = whole ? await this.settled : null;
    if (failed) throw failed;
    return this.pread(buf, length, position);
  }

  /** Resolves once [start, end) is readable from the partial file; moves those chunks to the front. */
  private waitFor(start: number, end: number): Promise<void> {
    if (end <= start || this.schedule.available(start, end)) return Promise.resolve();
    const waiting = this.waiters.add(start, end);
    this.expedite(start, end);
    return waiting;
  }

  /** Reads bytes already on disk. */
  private async pread(buf: Buffer, length: number, position: number): Promise<number> {
    if (this.error) throw this.error;
    const w = this.writer;
    if (!w || w.isClosed()) throw new AbortedError('fill job file closed');
    this.activeIo++;
    try {
      return await w.pread(buf, length, position);
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

  /** Parks a worker until the reader moves on, pauses, or the job ends (waiting is not a stall). */
  private async waitAtGate(): Promise<void> {
    await this.gate.wait();
    this.progressWatch.touch(this.o.clock.nowMs());
  }

  private async worker(): Promise<void> {
    while (this.state === 'running') {
      const i = this.schedule.next(this.waiters.ranges(), this.o.clock.nowMs(), this.refs);
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
    const room = this.o.streams - this.expedited.size;
    for (const i of this.schedule.unclaimedIn(start, end, Math.max(0, room))) {
      const task = (async () => {
        while (this.state === 'running' && this.schedule.isFree(i)) {
          if ((await this.fetchOne(i)) !== 'retry') break;
        }
      })().finally(() => {
        this.expedited.delete(task);
        this.maybeFinish();
      });
      this.expedited.add(task);
    }
  }

  /** Fetches chunk i into the partial file: 'retry' after a transient failure, 'stop' when the job failed. */
  private async fetchOne(i: number): Promise<'done' | 'retry' | 'stop'> {
    const w = this.writer;
    if (!w) return 'stop';
    this.schedule.begin(i);
    const start = this.schedule.map.start(i);
    let counted = 0;
    try {
      await w.fetchRange(
        this.o.source,
        start,
        this.schedule.map.end(i),
        this.ac.signal,
        this.o.onBytesDownloaded,
        (written) => {
          this.bytesWritten += written - counted;
          counted = written;
          this.schedule.progress(i, written);
          this.progressWatch.written(this.bytesWritten, this.o.clock.nowMs(), false);
          this.wake();
        },
      );
    } catch (err) {
      this.schedule.abandon(i);
      return this.afterFailure(i, err);
    }
    this.schedule.complete(i);
    this.progressWatch.written(this.bytesWritten, this.o.clock.nowMs(), true);
    w.chunkWritten(i);
    this.wake();
    return 'done';
  }

  private afterFailure(i: number, err: unknown): 'retry' | 'stop' {
    if (this.state !== 'running') return 'stop';
    const tries = (this.attempts.get(i) ?? 0) + 1;
    this.attempts.set(i, tries);
    const discard = losesPartial(err);
    if (discard || this.ac.signal.aborted || tries > this.o.maxChunkRetries) {
      this.fail(err instanceof Error ? err : new Error(String(err)), discard);
      return 'stop';
    }
    this.o.log.debug('chunk fetch failed, retrying', { blob: this.key, chunk: i, error: errorMessage(err) });
    return 'retry';
  }

  private wake(): void {
    this.kickHash();
    this.waiters.wake((start, end) => this.schedule.available(start, end));
  }

  /** Tells the hash worker how far the contiguous prefix on disk reaches (steps; commit sends the end). */
  private kickHash(): void {
    const h = this.hasher;
    if (!h || (this.state !== 'running' && this.state !== 'verifying')) return;
    const upTo = this.schedule.contiguousEnd(h.extendedBytes);
    if (upTo - h.extendedBytes >= HASH_STEP_BYTES || upTo >= this.sizeBytes) h.extend(upTo);
  }

  private checkStall(): void {
    if (this.state !== 'running' && this.state !== 'verifying') return;
    if (this.progressWatch.idleMs(this.o.clock.nowMs()) > this.o.stallTimeoutMs)
      this.fail(new StallError(this.o.source.describe(), this.o.stallTimeoutMs), false);
  }

  private maybeFinish(): void {
    if (this.state !== 'running' || !this.schedule.finished()) return;
    this.state = 'verifying';
    void this.commit();
  }

  private async commit(): Promise<void> {
    const w = this.writer;
    const hasher = this.hasher;
    if (!w || !hasher) return;
    try {
      const outcome = await commitFill({
        key: this.key,
        label: this.o.source.describe(),
        digest: this.o.digest,
        sizeBytes: this.sizeBytes,
        partialPath: this.o.partialPath,
        finalPath: this.o.finalPath,
        sync: () => w.sync(),
        digestOfFile: () => {
          hasher.extend(this.sizeBytes);
          return hasher.finish();
        },
        recordPresent: (key, size) => this.o.index.commitPresent(key, size, this.o.clock.nowMs()),
        stillWanted: () => this.state === 'verifying',
      });
      if (outcome === 'abandoned') return;
      this.state = 'done';
      this.stopWatchdog();
      this.waiters.resolveAll();
      this.settle(null);
      this.o.onSettled(this, null);
      this.maybeCloseFile();
    } catch (err) {
      if (this.state !== 'verifying') return;
      this.fail(err instanceof Error ? err : new Error(String(err)), err instanceof IntegrityError);
    }
  }

  /**
   * Ends the job with an error: waiters are rejected at once. A corrupt download (discard=true) also
   * loses its partial and chunk map; anything else keeps them so the next open resumes.
   */
  private fail(err: Error, discard: boolean): void {
    if (this.state === 'done' || this.state === 'failed') return;
    this.state = 'failed';
    this.gate.open();
    this.error = err;
    this.ac.abort();
    this.stopWatchdog();
    this.waiters.rejectAll(err);
    void abandonFill({
      key: this.key,
      token: this.o.token,
      partialPath: this.o.partialPath,
      index: this.o.index,
      log: this.o.log,
      discard,
      error: err,
      drained: this.drain(),
    }).then(() => {
      this.settle(err);
      this.o.onSettled(this, err);
      this.maybeCloseFile();
    });
  }

  private async drain(): Promise<void> {
    await Promise.allSettled([...this.workers, ...this.expedited]);
    await this.writer?.settleMarks();
    await this.hasher?.terminate();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private maybeCloseFile(): void {
    const finished = this.state === 'done' || this.state === 'failed';
    const w = this.writer;
    if (!finished || this.refs > 0 || this.activeIo > 0 || this.closing || !w || w.marksPending()) return;
    this.closing = true;
    void this.settled.then(() => w.close());
  }
}
