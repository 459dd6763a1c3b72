import type { Digest } from '../core/digest.js';
import type { BlobReader } from '../blobs/types.js';

/**
 * An open stored file. Its reader, size and digest change when the file turned out to have changed
 * since it was listed and was re-listed (fs/relist.ts); `relist` remembers that it was, so it
 * happens at most once per open.
 */
export interface BlobHandle {
  kind: 'blob';
  path: string;
  sizeBytes: number;
  reader: BlobReader;
  digest: Digest;
  live: boolean;
  relist: Promise<void> | null;
}

export type Handle = BlobHandle | { kind: 'bytes'; path: string; bytes: Buffer };

/** A read of a generated file's bytes (kind 'bytes'): `length` at `position`, 0 past the end. */
export function copyBytes(bytes: Buffer, buf: Buffer, length: number, position: number): number {
  return position >= bytes.length
    ? 0
    : bytes.copy(buf, 0, position, Math.min(bytes.length, position + length));
}

const MAX_FH = 0x7fffffff;

/** Open files by fh. fuse-native carries fh as an int32 where 0 means "none", so ids start at 1. */
export class HandleTable {
  private readonly handles = new Map<number, Handle>();
  private next = 1;

  add(handle: Handle): number {
    while (this.handles.has(this.next)) this.advance();
    const fh = this.next;
    this.advance();
    this.handles.set(fh, handle);
    return fh;
  }

  get(fh: number): Handle | undefined {
    return this.handles.get(fh);
  }

  remove(fh: number): Handle | undefined {
    const h = this.handles.get(fh);
    this.handles.delete(fh);
    return h;
  }

  get size(): number {
    return this.handles.size;
  }

  values(): IterableIterator<Handle> {
    return this.handles.values();
  }

  private advance(): void {
    this.next = this.next >= MAX_FH ? 1 : this.next + 1;
  }
}
