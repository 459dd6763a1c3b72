import type { ByteRange } from './chunk-schedule.js';
import { fetchInto } from './fetch-into.js';
import type { RangeSource } from './types.js';

export interface UrgentRangeOptions {
  source: RangeSource;
  stallTimeoutMs: number;
  /** at most this many urgent fetches at once; a miss beyond it waits for its chunk instead */
  maxInFlight: number;
  /** how many recent ranges stay in memory for neighbouring reads (each up to 2 × urgentRangeBytes) */
  keep: number;
  onBytes: (n: number) => void;
}

interface Entry extends ByteRange {
  bytes: Promise<Buffer>;
}

/**
 * Small ranges fetched straight from the source for a random reader's miss on a cold blob (fio 4 KiB
 * psync reads, safetensors, mmap page faults): one round trip of ~256 KiB instead of waiting for an
 * 8 MiB chunk behind the background fill. The bytes are served from memory and never written to the
 * partial file, so they can never be taken for a done (synced, recorded) chunk; the fill still
 * fetches and verifies the whole blob. A few recent ranges are kept for neighbouring reads.
 */
export class UrgentRanges {
  private entries: Entry[] = [];
  private inFlight = 0;

  constructor(private readonly o: UrgentRangeOptions) {}

  /**
   * Reads [position, position + length) through an urgent range: a kept one covering it, or a new
   * fetch of `range`. Null when too many urgent fetches are running (the caller waits for the chunk).
   */
  read(range: ByteRange, buf: Buffer, length: number, position: number): Promise<number> | null {
    const end = position + length;
    const entry =
      this.entries.find((e) => e.start <= position && end <= e.end) ?? this.fetch(range, position, end);
    if (!entry) return null;
    return entry.bytes.then((bytes) => {
      bytes.copy(buf, 0, position - entry.start, end - entry.start);
      return length;
    });
  }

  /** Whether a kept or in-flight range already covers [start, end). */
  covers(start: number, end: number): boolean {
    return this.entries.some((e) => e.start <= start && end <= e.end);
  }

  private fetch(range: ByteRange, start: number, end: number): Entry | null {
    if (this.inFlight >= this.o.maxInFlight || range.start > start || range.end < end) return null;
    const buf = Buffer.allocUnsafe(range.end - range.start);
    this.inFlight++;
    const bytes = this.download(range, buf).finally(() => this.inFlight--);
    const entry: Entry = { ...range, bytes };
    // A failed fetch is forgotten at once, so the next read tries again (or waits for the chunk).
    bytes.catch(() => (this.entries = this.entries.filter((e) => e !== entry)));
    this.entries.push(entry);
    if (this.entries.length > this.o.keep) this.entries.shift();
    return entry;
  }

  /** The source's one-shot small fetch when it has one (lighter than fetchRange per miss), else fetchRange. */
  private async download(range: ByteRange, buf: Buffer): Promise<Buffer> {
    const { source, stallTimeoutMs, onBytes } = this.o;
    const small = source.fetchSmall?.(range.start, range.end, buf);
    if (small) {
      await small;
      onBytes(buf.length);
    } else {
      await fetchInto(source, range.start, range.end, buf, stallTimeoutMs, onBytes);
    }
    return buf;
  }
}
