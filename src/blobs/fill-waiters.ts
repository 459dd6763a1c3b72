import { READER_IDLE_MS, type ByteRange } from './chunk-schedule.js';

interface Waiter extends ByteRange {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Readers blocked on byte ranges of a fill, woken as soon as their range is written. */
export class RangeWaiters {
  private list: Waiter[] = [];

  /** The ranges waited for, oldest first (the schedule fetches their chunks first). */
  ranges(): readonly ByteRange[] {
    return this.list;
  }

  add(start: number, end: number): Promise<void> {
    return new Promise<void>((resolve, reject) => this.list.push({ start, end, resolve, reject }));
  }

  /** Resolves every waiter whose range is now available. */
  wake(available: (start: number, end: number) => boolean): void {
    if (this.list.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.list) {
      if (available(w.start, w.end)) w.resolve();
      else still.push(w);
    }
    this.list = still;
  }

  resolveAll(): void {
    for (const w of this.list) w.resolve();
    this.list = [];
  }

  rejectAll(err: Error): void {
    for (const w of this.list) w.reject(err);
    this.list = [];
  }
}

/**
 * Where background workers park while a sequential reader is far enough behind them (the read-ahead
 * window): opened by the next read, by the last reader leaving, by the job ending, or after
 * READER_IDLE_MS, when a silent reader no longer holds the fill back.
 */
export class ReadAheadGate {
  private gate: Promise<void> | null = null;
  private release: (() => void) | null = null;

  open(): void {
    const release = this.release;
    this.gate = null;
    this.release = null;
    release?.();
  }

  async wait(): Promise<void> {
    this.gate ??= new Promise<void>((resolve) => (this.release = resolve));
    const timer = setTimeout(() => this.open(), READER_IDLE_MS);
    try {
      await this.gate;
    } finally {
      clearTimeout(timer);
    }
  }
}
