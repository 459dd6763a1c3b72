/**
 * Reusable fixed-size Buffers for the fill's write batches. A fresh 1 MiB Buffer per chunk fetch is
 * external memory V8 only gives back in a major GC, and the profile of a cold read showed those GCs
 * (~125 mark-compacts per GiB, all triggered by external memory) costing about a sixth of the
 * daemon's CPU. Buffers come back here when their fetch ends; at most `keep` idle ones are held.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    readonly bufferBytes: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(this.bufferBytes);
  }

  /** Only a buffer nobody reads or writes any more may be given back. */
  give(buf: Buffer): void {
    if (buf.length === this.bufferBytes && this.free.length < this.keep) this.free.push(buf);
  }

  get idle(): number {
    return this.free.length;
  }
}

const pools = new Map<number, BufferPool>();

/** The process-wide pool for buffers of this size (fills share them: one per active stream). */
export function sharedPool(bufferBytes: number, keep = 16): BufferPool {
  let p = pools.get(bufferBytes);
  if (!p) {
    p = new BufferPool(bufferBytes, keep);
    pools.set(bufferBytes, p);
  }
  return p;
}
