import { Worker } from 'node:worker_threads';
import type { DigestAlgo } from '../core/digest.js';
import type { HashWorkerData, HashWorkerReply, HashWorkerRequest } from './hash-worker-protocol.js';

/**
 * Main-thread handle on a hash worker. `extend(n)` says bytes [0, n) are on disk; `finish()`
 * resolves with the digest once every extended byte was hashed. Requests are queued in the worker,
 * so extend is cheap to call often.
 */
export class PrefixHasher {
  private readonly worker: Worker;
  private extended = 0;
  hashedBytes = 0;
  private failure: Error | null = null;
  private done: ((r: { hex: string } | Error) => void) | null = null;
  private ended = false;

  constructor(path: string, algo: DigestAlgo, onProgress: () => void) {
    const data: HashWorkerData = { path, algo };
    this.worker = new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: data });
    this.worker.on('message', (m: HashWorkerReply) => {
      if (m.type === 'progress') {
        this.hashedBytes = m.pos;
        onProgress();
      } else if (m.type === 'digest') {
        this.hashedBytes = m.pos;
        this.finishWith({ hex: m.hex });
      } else this.finishWith(new Error(`hashing failed: ${m.message}`));
    });
    this.worker.on('error', (err: unknown) =>
      this.finishWith(err instanceof Error ? err : new Error(String(err))),
    );
    this.worker.on('exit', () => this.finishWith(new Error('hash worker exited')));
  }

  extend(upTo: number): void {
    if (upTo <= this.extended || this.ended) return;
    this.extended = upTo;
    this.send({ type: 'extend', upTo });
  }

  get extendedBytes(): number {
    return this.extended;
  }

  finish(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.done = (r) => (r instanceof Error ? reject(r) : resolve(r.hex));
      this.send({ type: 'finish' });
    });
  }

  async terminate(): Promise<void> {
    this.ended = true;
    await this.worker.terminate();
  }

  private send(m: HashWorkerRequest): void {
    this.worker.postMessage(m);
  }

  private finishWith(r: { hex: string } | Error): void {
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
