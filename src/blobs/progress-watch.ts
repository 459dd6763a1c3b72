/** Less than this written within the stall timeout (and no chunk finished) is a stall. */
export const STALL_PROGRESS_BYTES = 1024 * 1024;

/**
 * How long a fill has gone without progress, for its stall watchdog. The clock restarts on a
 * finished chunk or on STALL_PROGRESS_BYTES more written, not on any byte: storage that sends a
 * little and then stalls again on every reconnect (the storage client drops a silent connection and
 * resumes) would otherwise never count as stalled and hold its readers for as long as it trickles.
 * curl's --speed-limit/--speed-time has the same shape.
 */
export class ProgressWatch {
  private lastMs: number;
  private markBytes: number;

  constructor(nowMs: number, bytesWritten: number) {
    this.lastMs = nowMs;
    this.markBytes = bytesWritten;
  }

  /** Life that is not bytes (waiting for the reader, hashing) restarts the clock. */
  touch(nowMs: number): void {
    this.lastMs = nowMs;
  }

  /** The fill has `bytesWritten` bytes on disk now; `chunkDone` when a chunk just finished. */
  written(bytesWritten: number, nowMs: number, chunkDone: boolean): void {
    if (bytesWritten < this.markBytes) this.markBytes = bytesWritten; // the fill started over
    if (!chunkDone && bytesWritten - this.markBytes < STALL_PROGRESS_BYTES) return;
    this.markBytes = bytesWritten;
    this.lastMs = nowMs;
  }

  idleMs(nowMs: number): number {
    return nowMs - this.lastMs;
  }
}
