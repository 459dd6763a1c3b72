import { open, type FileHandle } from 'node:fs/promises';
import type { Clock } from '../core/clock.js';
import type { ReadBackend } from './backends.js';
import type { BlobIndex } from './blob-index.js';
import { readFully } from './fs-util.js';
import { isErrno } from '../core/errno-code.js';

/** Why a follower stopped following: the fill ended or changed hands, or it made no progress. */
export class FollowEnded extends Error {
  constructor(readonly reason: 'changed' | 'stalled') {
    super(`following another process's download ended: ${reason}`);
    this.name = 'FollowEnded';
  }
}

export interface FollowOptions {
  key: string;
  /** the owner's partial file; opened on the first read that needs it */
  partialPath: string;
  /** the owner's fill, as claimed: a different token later means it changed hands */
  ownerToken: string;
  chunkBytes: number;
  sizeBytes: number;
  /** serve chunks from the partial before the whole blob is verified (large files only) */
  servePartial: boolean;
  stallTimeoutMs: number;
  index: BlobIndex;
  clock: Clock;
  pollMs?: number;
}

const MAX_POLL_MS = 250;
const RECHECK_MS = 250;

/**
 * Reads a blob that another process (a second mount on the same cache dir) is downloading: the bytes
 * come from that process's partial file once its chunk map in SQLite says they are on disk, so the
 * digest is downloaded once however many mounts read it. Chunks are marked only after fdatasync, so a
 * marked chunk is complete. When the fill finishes, fails, or its owner dies, read() throws
 * FollowEnded and the reader picks its next backend (the blob file, or a fill of its own that resumes
 * the chunks already on disk).
 */
export class FollowBackend implements ReadBackend {
  readonly kind = 'follow';
  private readonly done = new Set<number>();
  private lastChange: { count: number; updatedAtMs: number; atMs: number };
  private closed = false;
  private checkedAtMs: number;

  private fh: FileHandle | null = null;

  constructor(private readonly o: FollowOptions) {
    this.lastChange = { count: 0, updatedAtMs: 0, atMs: o.clock.nowMs() };
    this.checkedAtMs = Number.NEGATIVE_INFINITY;
  }

  async read(buf: Buffer, length: number, position: number): Promise<number> {
    const len = Math.max(0, Math.min(length, this.o.sizeBytes - position));
    if (len === 0) return 0;
    const first = Math.floor(position / this.o.chunkBytes);
    const last = Math.floor((position + len - 1) / this.o.chunkBytes);
    // Even while everything asked for is on disk, look now and then: a fill that ended (blob
    // committed, or discarded as corrupt) means this reader should move on.
    if (this.o.clock.nowMs() - this.checkedAtMs >= RECHECK_MS) this.refresh(false);
    let pollMs = this.o.pollMs ?? 20;
    // The owner claims in SQLite before it creates its partial file: until the file exists, wait.
    while (!this.o.servePartial || !this.covered(first, last) || !(await this.openPartial())) {
      if (this.closed) throw new FollowEnded('changed');
      await new Promise((r) => setTimeout(r, pollMs));
      pollMs = Math.min(MAX_POLL_MS, pollMs * 2);
      this.refresh(true);
    }
    const fh = this.fh;
    if (!fh) throw new FollowEnded('changed');
    return readFully(fh, buf, len, position);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const fh = this.fh;
    this.fh = null;
    return fh ? fh.close() : Promise.resolve();
  }

  private async openPartial(): Promise<boolean> {
    if (this.fh) return true;
    try {
      const fh = await open(this.o.partialPath, 'r');
      if (this.closed) await fh.close();
      else this.fh = fh;
      return !this.closed;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }

  private covered(first: number, last: number): boolean {
    for (let i = first; i <= last; i++) if (!this.done.has(i)) return false;
    return true;
  }

  /** Reads the owner's progress; throws FollowEnded when following no longer makes sense. */
  private refresh(waiting: boolean): void {
    const now = this.o.clock.nowMs();
    this.checkedAtMs = now;
    const p = this.o.index.fillProgress(this.o.key);
    if (!p || p.ownerToken !== this.o.ownerToken || !p.ownerAlive) throw new FollowEnded('changed');
    for (const i of p.doneChunks) this.done.add(i);
    if (this.done.size !== this.lastChange.count || p.updatedAtMs !== this.lastChange.updatedAtMs) {
      this.lastChange = { count: this.done.size, updatedAtMs: p.updatedAtMs, atMs: now };
    } else if (waiting && now - this.lastChange.atMs > this.o.stallTimeoutMs) {
      throw new FollowEnded('stalled');
    }
  }
}
