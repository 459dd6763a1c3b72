import type { DigestAlgo } from '../core/digest.js';
import { openHashJob, type HashJob } from './hash-pool.js';
import type { HashWorkerReply } from './hash-worker-protocol.js';

/**
 * A fill's running hash, computed on a pooled worker thread. `extend(n)` says bytes [0, n) are on
 * disk; `finish()` resolves with the digest once every extended byte was hashed. Requests queue in
 * the worker, so extend is cheap to call often.
 */
export class PrefixHasher {
  private readonly job: HashJob;
  private extended = 0;
  hashedBytes = 0;
  private failure: Error | null = null;
  private done: ((r: { hex: string } | Error) => void) | null = null;
  private ended = false;

  constructor(path: string, algo: DigestAlgo, onProgress: () => void) {
    this.job = openHashJob(path, algo, {
      reply: (m: HashWorkerReply) => {
        if (m.type === 'progress') {
          this.hashedBytes = m.pos;
          onProgress();
        } else if (m.type === 'digest') {
          this.hashedBytes = m.pos;
          this.finishWith({ hex: m.hex });
        } else this.finishWith(new Error(`hashing failed: ${m.message}`));
      },
      failed: (err) => this.finishWith(err),
    });
  }

  extend(upTo: number): void {
    if (upTo <= this.extended || this.ended) return;
    this.extended = upTo;
    this.job.extend(upTo);
  }

  get extendedBytes(): number {
    return this.extended;
  }

  finish(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.done = (r) => (r instanceof Error ? reject(r) : resolve(r.hex));
      this.job.finish();
    });
  }

  terminate(): Promise<void> {
    this.ended = true;
    this.job.drop();
    return Promise.resolve();
  }

  private finishWith(r: { hex: string } | Error): void {
    this.job.drop();
    if (this.ended && !this.done) return;
    this.ended = true;
    if (r instanceof Error) this.failure = r;
    const d = this.done;
    this.done = null;
    d?.(r);
  }
}

/** A whole file's digest computed off the event loop: a multi-GiB hash on the FUSE thread would stall every op. */
export async function hashFileInWorker(path: string, algo: DigestAlgo, sizeBytes: number): Promise<string> {
  const h = new PrefixHasher(path, algo, () => undefined);
  try {
    h.extend(sizeBytes);
    return await h.finish();
  } finally {
    await h.terminate();
  }
}
