import { ChunkMap } from './chunk-map.js';

/** A reader silent for this long no longer holds the fill back. */
export const READER_IDLE_MS = 500;
/** How far from its previous read a sequential reader's next read may start and stay sequential. */
const SEQUENTIAL_SLACK_BYTES = 8 * 1024 * 1024;
/**
 * How near a random reader's read must be to its previous one to count toward turning sequential.
 * Much tighter: 4 KiB reads spread over a 5 GiB file land within 8 MiB of the last one every few
 * hundred reads, and each such read let the fill loose for a moment.
 */
const RESUME_SLACK_BYTES = 256 * 1024;
/**
 * Near reads in a row that turn a random reader sequential, unless one starts exactly where the
 * last ended. Even within 256 KiB, fio's 4 KiB reads over 5 GiB landed near twice in 20 s: each
 * made its own read wait for an 8 MiB chunk (~350 ms) and let 8 background streams loose.
 */
const RESUME_NEAR_READS = 2;
/**
 * Random reads of at most this size hold the fill; larger ones (a page fault's 128 KiB readahead
 * through an mmap, torch.load(mmap=True) touching tensors out of file order) come from a reader that
 * will want most of the file, which the fill at full speed serves far sooner than round trips.
 */
const SMALL_READ_BYTES = 32 * 1024;
/**
 * Background chunks in flight while a random reader of small reads is active. Its misses are urgent
 * ranges, and on a busy machine those queue behind the fill's streams (in the server, on the wire,
 * on our event loop): a 256 KiB range took ~160 ms behind 8 streams, ~25 ms behind one, here.
 */
const RANDOM_READER_STREAMS = 0;
/** Reads larger than this wait for their chunks (FUSE reads are at most 128 KiB with libfuse 2). */
const MAX_URGENT_READ_BYTES = 1024 * 1024;
/** A chunk must be at least this many urgent ranges long for urgent ranges to be used. */
const URGENT_MIN_RATIO = 8;

/** A byte range [start, end) some reader is waiting for. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ChunkScheduleOptions {
  sizeBytes: number;
  chunkBytes: number;
  /** While a sequential reader is active, fetch at most this many chunks ahead of it. */
  readAheadChunks: number;
  /** Size of the small range fetched directly for a random reader's miss (0 = never; see urgentBytes). */
  urgentRangeBytes: number;
  /**
   * Until this time, and only while no read has been noted, no background chunk starts: a fill begins
   * at its reader's open, and the first read says where that reader is and whether it is random
   * (fio's 4 KiB reads paid ~3 s of slow answers behind the 64 MiB a blind start fetched first).
   */
  firstReadDeadlineMs?: number;
}

/**
 * Which chunk a fill fetches next, and what a reader's read means for it. Pure bookkeeping, no I/O,
 * no timers (the caller passes the time), so the policy is unit-tested on its own:
 * - chunks a reader is blocked on go first;
 * - then the file continues from the latest read (read-ahead) and wraps round, so the whole blob
 *   ends up on disk even when the first read is at a large offset;
 * - while a *sequential* reader is active the fill stays at most `readAheadChunks` ahead of it (on 2
 *   cores a fill racing to the end of a 5 GiB file took the CPU the reader's FUSE requests needed);
 * - a *random* reader's miss is answered from a small urgent range fetched just for it
 *   (`urgentRange`), not by waiting for a whole chunk, and while it is active the fill goes on
 *   with at most RANDOM_READER_STREAMS chunks in flight so those ranges are not queued behind it.
 */
export class ChunkSchedule {
  map: ChunkMap;
  /** Chunks being fetched → bytes of them already written (contiguous from the chunk's start). */
  private readonly inflight = new Map<number, number>();
  private cursor = 0;
  private lastReadEnd = -1;
  private lastReadAtMs = Number.NEGATIVE_INFINITY;
  private sequential = false;
  /** Near reads in a row while random (see RESUME_NEAR_READS). */
  private nearRun = 0;
  private lastReadSmall = false;

  /** Urgent ranges only where they save much: the chunk a miss would wait for is ≥ 8 of them. */
  private readonly urgentBytes: number;

  constructor(private readonly o: ChunkScheduleOptions) {
    this.map = new ChunkMap(o.sizeBytes, o.chunkBytes);
    // With small chunks the range is downloaded twice (now, and with its chunk) for little gain in
    // latency; with the default 8 MiB chunks a 256 KiB range is 1/32 of the wait and of the bytes.
    this.urgentBytes = o.chunkBytes >= URGENT_MIN_RATIO * o.urgentRangeBytes ? o.urgentRangeBytes : 0;
  }

  /** Forgets every done chunk (the partial file was lost or truncated). */
  reset(): void {
    this.map = new ChunkMap(this.o.sizeBytes, this.o.chunkBytes);
  }

  // --- reads ------------------------------------------------------------------------------------

  /**
   * Records a read; returns whether it continues the previous one. The kernel's readahead sends
   * several 128 KiB requests at once, slightly out of order, so "sequential" means near where the
   * reader last was, not exactly there; a random reader must come much nearer, and more than once
   * unless it reads the very next bytes, to turn sequential.
   */
  noteRead(start: number, end: number, nowMs: number): 'sequential' | 'random' {
    let near: boolean;
    if (this.lastReadEnd < 0) near = start === 0;
    else if (this.sequential) near = Math.abs(start - this.lastReadEnd) <= SEQUENTIAL_SLACK_BYTES;
    else {
      this.nearRun = Math.abs(start - this.lastReadEnd) <= RESUME_SLACK_BYTES ? this.nearRun + 1 : 0;
      near = start === this.lastReadEnd || this.nearRun >= RESUME_NEAR_READS;
    }
    if (near) this.nearRun = 0;
    this.sequential = near;
    this.lastReadSmall = end - start <= SMALL_READ_BYTES;
    this.lastReadEnd = near ? Math.max(end, this.lastReadEnd) : end;
    this.lastReadAtMs = nowMs;
    return near ? 'sequential' : 'random';
  }

  /** Moves the cursor to a read: the fill continues from where the reader is (or just past it). */
  aimAt(start: number, end: number): void {
    this.cursor = this.available(start, end)
      ? this.map.chunkOf(Math.max(0, end - 1))
      : this.map.chunkOf(start);
  }

  /** A sequential reader read recently: the fill should stay just ahead of it, not race to the end. */
  readerIsStreaming(nowMs: number, readers: number): boolean {
    return this.sequential && readers > 0 && nowMs - this.lastReadAtMs < READER_IDLE_MS;
  }

  /**
   * A random reader of small reads read recently and its misses are urgent ranges: the background
   * fill must leave them the network and the CPU. (Without urgent ranges a miss waits for its
   * chunk, which the fill must then fetch.)
   */
  readerIsRandom(nowMs: number, readers: number): boolean {
    return (
      this.urgentBytes > 0 &&
      !this.sequential &&
      this.lastReadSmall &&
      this.lastReadEnd >= 0 &&
      readers > 0 &&
      nowMs - this.lastReadAtMs < READER_IDLE_MS
    );
  }

  /** True when every byte of [start, end) is written (in a done chunk or an in-flight chunk's prefix). */
  available(start: number, end: number): boolean {
    for (const i of this.map.chunksIn(start, end)) {
      if (this.map.isDone(i)) continue;
      const written = this.inflight.get(i);
      if (written === undefined || this.map.start(i) + written < Math.min(end, this.map.end(i))) return false;
    }
    return true;
  }

  /**
   * The small range to fetch directly for a random read's miss: `urgentRangeBytes` aligned around
   * the read, within the file; a larger read (a 128 KiB page-fault readahead) gets exactly its own
   * bytes. Null when the read is not a miss, is over MAX_URGENT_READ_BYTES, or the option is off.
   */
  urgentRange(start: number, end: number): ByteRange | null {
    const size = this.urgentBytes;
    if (size <= 0 || end <= start || end - start > MAX_URGENT_READ_BYTES || this.available(start, end)) {
      return null;
    }
    if (end - start > size) return { start, end };
    const s = Math.max(0, Math.min(start - (start % size), this.o.sizeBytes - size));
    let e = Math.min(this.o.sizeBytes, s + size);
    // A read straddling the aligned boundary still gets one range covering it.
    if (e < end) e = Math.min(this.o.sizeBytes, end);
    return { start: Math.min(s, start), end: e };
  }

  // --- the fill's work --------------------------------------------------------------------------

  /** The next chunk to fetch; 'wait' when only chunks beyond the read-ahead window are left. */
  next(waiting: readonly ByteRange[], nowMs: number, readers: number): number | 'wait' | undefined {
    for (const w of waiting) {
      for (const i of this.map.chunksIn(w.start, w.end)) if (this.isFree(i)) return i;
    }
    if (this.lastReadEnd < 0 && nowMs < (this.o.firstReadDeadlineMs ?? Number.NEGATIVE_INFINITY))
      return 'wait';
    if (this.readerIsRandom(nowMs, readers) && this.inflight.size >= RANDOM_READER_STREAMS) return 'wait';
    const n = this.map.count;
    const limit = this.readerIsStreaming(nowMs, readers) ? this.o.readAheadChunks : n;
    for (let k = 0; k < n; k++) {
      const i = (this.cursor + k) % n;
      if (this.isFree(i)) return k < limit ? i : 'wait';
    }
    return undefined;
  }

  /** Chunks under [start, end) nobody is fetching yet, at most `limit` (for expedited fetches). */
  unclaimedIn(start: number, end: number, limit: number): number[] {
    const out: number[] = [];
    for (const i of this.map.chunksIn(start, end)) {
      if (out.length >= limit) break;
      if (this.isFree(i)) out.push(i);
    }
    return out;
  }

  isFree(i: number): boolean {
    return !this.map.isDone(i) && !this.inflight.has(i);
  }

  isFetching(i: number): boolean {
    return this.inflight.has(i);
  }

  fetching(): number {
    return this.inflight.size;
  }

  begin(i: number): void {
    this.inflight.set(i, 0);
  }

  /** `written` bytes from the chunk's start are on disk (written, not yet synced). */
  progress(i: number, written: number): void {
    if (this.inflight.has(i)) this.inflight.set(i, written);
  }

  abandon(i: number): void {
    this.inflight.delete(i);
  }

  complete(i: number): void {
    this.inflight.delete(i);
    this.map.setDone(i);
  }

  finished(): boolean {
    return this.map.allDone() && this.inflight.size === 0;
  }

  /** Where the contiguous written prefix starting at or before `from` ends (what may be hashed). */
  contiguousEnd(from: number): number {
    let p = from;
    while (p < this.o.sizeBytes) {
      const i = this.map.chunkOf(p);
      if (this.map.isDone(i)) {
        p = this.map.end(i);
        continue;
      }
      const written = this.inflight.get(i);
      if (written !== undefined) p = Math.max(p, this.map.start(i) + written);
      break;
    }
    return p;
  }
}
