/** Which fixed-size chunks of a blob are on disk. Pure bookkeeping, no I/O. */
export class ChunkMap {
  readonly count: number;
  private readonly done: Uint8Array;
  private doneCount = 0;

  constructor(
    readonly sizeBytes: number,
    readonly chunkBytes: number,
  ) {
    this.count = Math.ceil(sizeBytes / chunkBytes);
    this.done = new Uint8Array(this.count);
  }

  chunkOf(position: number): number {
    return Math.floor(position / this.chunkBytes);
  }

  start(index: number): number {
    return index * this.chunkBytes;
  }

  end(index: number): number {
    return Math.min(this.sizeBytes, (index + 1) * this.chunkBytes);
  }

  isDone(index: number): boolean {
    return this.done[index] === 1;
  }

  setDone(index: number): void {
    if (index < 0 || index >= this.count || this.done[index] === 1) return;
    this.done[index] = 1;
    this.doneCount++;
  }

  allDone(): boolean {
    return this.doneCount === this.count;
  }

  doneBytes(): number {
    let bytes = 0;
    for (let i = 0; i < this.count; i++) if (this.done[i] === 1) bytes += this.end(i) - this.start(i);
    return bytes;
  }

  /** Chunk indices overlapping [start, endExclusive). */
  *chunksIn(start: number, endExclusive: number): Generator<number> {
    if (endExclusive <= start) return;
    const last = this.chunkOf(endExclusive - 1);
    for (let i = this.chunkOf(start); i <= last && i < this.count; i++) yield i;
  }
}
