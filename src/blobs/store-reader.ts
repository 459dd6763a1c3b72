import type { ReadBackend } from './backends.js';
import { CacheClosedError, DiskFullError } from './errors.js';
import { FollowEnded } from './follow-backend.js';
import type { BlobReader } from './types.js';

/**
 * Why a reader wants another backend:
 * - 'committed': its fill finished, or a stream may be promoted: the verified blob file, if present;
 * - 'reopen': its fill failed (not corrupt) or another process's fill ended: choose afresh;
 * - 'disk-full': its fill hit ENOSPC: stream uncached;
 * - 'follow-stalled': another process's fill made no progress: stream, and promote later.
 */
export type SwitchReason = 'committed' | 'reopen' | 'disk-full' | 'follow-stalled';

/** What a reader needs from whoever built it (the store): a new backend, and word when it closes. */
export interface ReaderHost {
  /** The backend to switch to; null when none (only for 'committed': keep the current one). */
  replacement(why: SwitchReason): Promise<ReadBackend | null>;
  closed(): void;
  nowMs(): number;
}

/** The face of a blob that one open file sees; switches backend as the blob's state changes. */
export class StoreReader implements BlobReader {
  private closed = false;
  private switching: Promise<void> | null = null;

  constructor(
    readonly sizeBytes: number,
    private backend: ReadBackend,
    private readonly host: ReaderHost,
  ) {}

  async read(buf: Buffer, length: number, position: number): Promise<number> {
    if (this.closed) throw new CacheClosedError();
    const len = this.span(buf, length, position);
    if (len === 0) return 0;
    while (this.switching) await this.switching;
    await this.maybeSwitch();
    const backend = this.backend;
    try {
      return await backend.read(buf, len, position);
    } catch (err) {
      if (!(err instanceof FollowEnded || err instanceof DiskFullError)) throw err;
      // A concurrent read on this file may have switched already: then just read from the new backend.
      if (backend === this.backend) {
        const why: SwitchReason =
          err instanceof DiskFullError ? 'disk-full' : err.reason === 'stalled' ? 'follow-stalled' : 'reopen';
        const next = await this.host.replacement(why);
        if (next && backend === this.backend) this.replace(next);
        else if (next) void next.close().catch(() => undefined);
      }
      return this.read(buf, length, position);
    }
  }

  /** `read` without a promise when the current backend can answer at once; else null. */
  readSync(buf: Buffer, length: number, position: number): number | null {
    if (this.closed || this.switching || !this.backend.readSync) return null;
    if (this.backend.successor?.(this.host.nowMs())) return null; // the async path switches
    const len = this.span(buf, length, position);
    return len === 0 ? null : this.backend.readSync(buf, len, position);
  }

  /** How many bytes a read at `position` may return: 0 at or past the end, or before the start. */
  private span(buf: Buffer, length: number, position: number): number {
    return position < 0 ? 0 : Math.max(0, Math.min(length, buf.length, this.sizeBytes - position));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.switching) await this.switching;
    await this.backend.close();
    this.host.closed();
  }

  /** Asks the backend whether it has been outgrown (fill done or failed, stream promotable). */
  private async maybeSwitch(): Promise<void> {
    const why = this.backend.successor?.(this.host.nowMs());
    if (!why) return;
    const p = this.host.replacement(why).then((nb) => {
      if (nb) this.replace(nb);
    });
    this.switching = p.finally(() => (this.switching = null));
    await this.switching;
  }

  private replace(nb: ReadBackend): void {
    const old = this.backend;
    this.backend = nb;
    void old.close().catch(() => undefined);
  }
}
