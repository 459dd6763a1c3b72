import type { BlobCache, BlobReader, RangeSource } from '../blobs/types.js';
import type { FileContent, FileNode, MetaTree, Node } from '../meta/types.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { digestKey } from '../core/digest.js';
import { errorMessage } from '../core/errors.js';
import { makeStat, statFor, type FuseStat, type Owner } from './attrs.js';
import {
  BadHandleError,
  IsADirectoryError,
  NoEntryError,
  NotADirectoryError,
  NotASymlinkError,
  NoXattrError,
  ReadOnlyError,
  ReferenceUnreadableError,
  ShortReadError,
  ShuttingDownError,
  UnreadableError,
} from './errors.js';
import { copyBytes, HandleTable, type BlobHandle, type Handle } from './handles.js';
import { toListing, type DirListing } from './listing.js';
import { isContentMismatch, relistAfterMismatch, type RelistDeps } from './relist.js';
import { renderStatus, StatusSnapshots } from './status-file.js';
import { StatusOverlay, type FsTree } from './status-overlay.js';
import { newOpStats, type OpStats } from './wrap.js';

export type BlobContent = Extract<FileContent, { type: 'blob' }>;
export type ReferenceContent = Extract<FileContent, { type: 'reference' }>;

export interface FsCoreOptions {
  meta: MetaTree;
  blobs: BlobCache;
  /**
   * Builds the byte source for a blob; injected by src/app.ts so fs never imports api. With
   * `sizeBytes`, a source finding another size in storage fails with ContentChangedError.
   */
  sourceFor(content: BlobContent, path: string, sizeBytes?: number): RangeSource;
  /**
   * Asked before a blob that is not cached is downloaded: rejects when W&B refuses the file to this
   * key (a W&B Registry role that may not download), so open() answers EACCES instead of a later
   * read. Injected by src/app.ts; resolves when access is allowed or cannot be told (offline).
   */
  admit?(content: BlobContent, path: string): Promise<void>;
  /** The byte source of a fetchable reference entry (its own store, ETag-checked); from src/app.ts. */
  referenceSourceFor?(content: ReferenceContent, sizeBytes: number): RangeSource;
  owner: Owner;
  log: Logger;
  version: string;
  mountPoint?: string;
  clock?: Clock;
  /** Extra status.json fields (API counters, throttling); must hold no secrets. */
  statusExtra?: () => Record<string, unknown>;
}

export interface StatfsResult {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  fsid: number;
  flag: number;
  namemax: number;
}

const O_ACCMODE = 3;
const O_TRUNC = 0o1000;
const ST_RDONLY = 1;
const ST_NOSUID = 2;

/**
 * The filesystem as plain async methods over MetaTree + BlobCache, with no FUSE types: handlers.ts
 * adapts these to fuse-native, so everything here is testable without a mount. Never touches the
 * network itself and never blocks the event loop.
 */
export class FsCore {
  readonly stats: OpStats = newOpStats();
  private readonly handles = new HandleTable();
  private readonly clock: Clock;
  private readonly startedAtMs: number;
  private draining = false;
  /** digest key → integrity failures seen this mount (see statOf) */
  private readonly integrityFailures = new Map<string, number>();
  private nativeStats: () => Record<string, number> = () => ({});
  /** Every path is resolved here: the /.wandbfs status tree composed in front of the metadata tree. */
  private readonly tree: FsTree;
  private readonly relistDeps: RelistDeps;

  constructor(private readonly o: FsCoreOptions) {
    this.clock = o.clock ?? systemClock;
    this.startedAtMs = this.clock.nowMs();
    const now = () => this.clock.nowMs();
    const snapshots = new StatusSnapshots(() => this.statusDocument(), now);
    this.tree = new StatusOverlay(o.meta, snapshots, this.startedAtMs, now);
    this.relistDeps = {
      refresh: (path) => o.meta.refresh(path),
      lookup: (path) => this.tree.lookup(path),
      openBlob: (node) => this.openBlob(node),
      log: o.log,
    };
  }

  /** The mount adds counters only fuse-native knows (leaked thread buffers). */
  attachNativeStats(fn: () => Record<string, number>): void {
    this.nativeStats = fn;
  }

  /** Stop taking new opens (shutdown); reads on open handles continue. */
  drain(): void {
    this.draining = true;
  }

  get openHandles(): number {
    return this.handles.size;
  }

  async getattr(path: string): Promise<FuseStat> {
    return this.statOf(await this.node(path));
  }

  /** getattr answered from memory without a promise, or null: then `getattr`. */
  getattrCached(path: string): FuseStat | null {
    const node = this.tree.lookupCached(path);
    return node ? this.statOf(node) : null;
  }

  /**
   * A blob over the verify-before-serve size is read while it downloads; if it then fails its digest
   * check, the kernel may hold the wrong bytes in its page cache, which auto_cache keeps across opens
   * while size and mtime stay the same. Shifting the reported mtime of every file with that digest
   * (by 1 ms per failure) makes libfuse drop those pages at the next open (ac_attr_timeout=0 makes
   * it re-check attributes on every open).
   */
  private statOf(node: Node): FuseStat {
    const st = statFor(node, this.o.owner);
    if (node.kind !== 'file' || node.content.type !== 'blob') return st;
    const bump = this.integrityFailures.get(digestKey(node.content.digest));
    return bump === undefined
      ? st
      : makeStat('file', node.sizeBytes, node.mtimeMs + bump, node.ctimeMs, this.o.owner);
  }

  async readdir(path: string): Promise<DirListing> {
    const entries = await this.tree.readdir(path);
    if (entries === null) {
      const node = await this.tree.lookup(path);
      if (node) throw new NotADirectoryError(path);
      throw new NoEntryError(path);
    }
    return toListing(entries, this.o.owner, (name) =>
      this.o.log.warn('skipping invalid directory entry name', { path, name }),
    );
  }

  /**
   * What the kernel itself guarantees before an opendir: the FUSE handlers leave opendir to libfuse
   * (one round trip less per directory listed), so this only serves callers of FsCore.
   */
  async opendir(path: string): Promise<number> {
    const node = await this.node(path);
    if (node.kind !== 'dir') throw new NotADirectoryError(path);
    return 0;
  }

  async open(path: string, flags: number): Promise<number> {
    if ((flags & O_ACCMODE) !== 0 || (flags & O_TRUNC) !== 0)
      throw new ReadOnlyError('open for writing', path);
    if (this.draining) throw new ShuttingDownError(path);
    const node = await this.node(path);
    if (node.kind === 'dir') throw new IsADirectoryError(path);
    if (node.kind === 'symlink') throw new UnreadableError(path, 'symbolic link reached open unresolved');
    const fh = this.handles.add(await this.openFile(node));
    this.tree.opened(node);
    return fh;
  }

  /** A read answered without a promise when that is cheap (a cached blob), else null: then `read`. */
  readSync(fh: number, buf: Buffer, length: number, position: number): number | null {
    const h = this.handles.get(fh);
    if (!h) return null;
    if (h.kind === 'bytes') return copyBytes(h.bytes, buf, length, position);
    const want = Math.min(length, h.sizeBytes - position);
    const n = want > 0 ? h.reader.readSync?.(buf, want, position) : null;
    return n === want ? n : null; // a partial answer is redone whole by `read`
  }

  async read(fh: number, buf: Buffer, length: number, position: number): Promise<number> {
    const h = this.handles.get(fh);
    if (!h) throw new BadHandleError(fh);
    if (h.kind === 'bytes') return copyBytes(h.bytes, buf, length, position);
    for (;;) {
      const reader = h.reader;
      try {
        return await this.readBlob(h, reader, buf, length, position);
      } catch (err) {
        if (!isContentMismatch(err)) throw err;
        const key = digestKey(h.digest);
        this.integrityFailures.set(key, (this.integrityFailures.get(key) ?? 0) + 1);
        // returns once the handle reads what W&B lists now (then this read starts over), else throws
        await relistAfterMismatch(h, reader, err, this.relistDeps);
      }
    }
  }

  /** Fills the whole request: a short reply would look like EOF to the reader (silent truncation). */
  private async readBlob(
    h: BlobHandle,
    reader: BlobReader,
    buf: Buffer,
    length: number,
    position: number,
  ): Promise<number> {
    const want = Math.min(length, h.sizeBytes - position);
    if (want <= 0) return 0;
    let got = 0;
    while (got < want) {
      const target = got === 0 ? buf : buf.subarray(got);
      const n = await reader.read(target, want - got, position + got);
      if (n <= 0) throw new ShortReadError(h.path, position + got, h.sizeBytes);
      got += n;
    }
    return got;
  }

  async release(fh: number): Promise<void> {
    const h = this.handles.remove(fh);
    if (h?.kind === 'blob') await h.reader.close();
  }

  async readlink(path: string): Promise<string> {
    const node = await this.node(path);
    if (node.kind !== 'symlink') throw new NotASymlinkError(path);
    return node.target;
  }

  async statfs(): Promise<StatfsResult> {
    return {
      bsize: 4096,
      frsize: 4096,
      blocks: 0,
      bfree: 0,
      bavail: 0,
      files: 0,
      ffree: 0,
      favail: 0,
      fsid: 0,
      flag: ST_RDONLY | ST_NOSUID,
      namemax: 255,
    };
  }

  /** Only user.* names exist; security.* and system.* (asked by ls -l for every entry) fail fast. */
  async getxattr(path: string, name: string): Promise<Buffer> {
    if (!name.startsWith('user.')) throw new NoXattrError(path, name);
    const attrs = await this.xattrs(path);
    const v = attrs[name];
    if (v === undefined) throw new NoXattrError(path, name);
    return Buffer.from(v, 'utf8');
  }

  /** A user.* xattr answered from memory, or null: then `getxattr` (which also reports a missing one). */
  getxattrCached(path: string, name: string): Buffer | null {
    const v = name.startsWith('user.') ? this.tree.lookupCached(path)?.xattrs[name] : undefined;
    return v === undefined ? null : Buffer.from(v, 'utf8');
  }

  async listxattr(path: string): Promise<string[]> {
    return userNames(await this.xattrs(path));
  }

  /** listxattr answered from memory, or null: then `listxattr`. */
  listxattrCached(path: string): string[] | null {
    const node = this.tree.lookupCached(path);
    return node ? userNames(node.xattrs) : null;
  }

  /** Used by mount shutdown: closes every reader still open (their blobs get unpinned). */
  async closeAll(): Promise<void> {
    const all = [...this.handles.values()];
    await Promise.allSettled(all.map((h) => (h.kind === 'blob' ? h.reader.close() : Promise.resolve())));
  }

  private async xattrs(path: string): Promise<Record<string, string>> {
    return (await this.node(path)).xattrs;
  }

  private async openFile(node: FileNode): Promise<Handle> {
    const c = node.content;
    switch (c.type) {
      case 'generated':
        return { kind: 'bytes', path: node.path, bytes: c.bytes };
      case 'blob': {
        const reader = await this.openBlob({ ...node, content: c });
        return {
          kind: 'blob',
          path: node.path,
          sizeBytes: node.sizeBytes,
          reader,
          digest: c.digest,
          live: node.live === true,
          relist: null,
        };
      }
      case 'reference':
        return this.openReference(node, c);
      case 'unreadable':
        this.o.log.warn('file is not readable', { path: node.path, reason: c.reason });
        throw new UnreadableError(node.path, c.reason);
    }
  }

  private async openBlob(node: FileNode & { content: BlobContent }): Promise<BlobReader> {
    const c = node.content;
    const admit = this.o.admit;
    const reader = await this.o.blobs.open({
      digest: c.digest,
      sizeBytes: node.sizeBytes,
      source: () => this.o.sourceFor(c, node.path, node.sizeBytes),
      ...(admit ? { admit: () => admit(c, node.path) } : {}),
    });
    this.o.log.debug('opened blob', { path: node.path, digest: digestKey(c.digest) });
    return reader;
  }

  /**
   * A reference entry through the blob cache under its etag key; whatever keeps it from being read
   * (no ETag recorded, private, gone, changed, unreachable) is EACCES naming the URI in its
   * displayed form (an https reference's query string may carry a token).
   */
  private async openReference(node: FileNode, c: ReferenceContent): Promise<Handle> {
    const uri = node.xattrs['user.wandb.ref'] ?? c.ref.replace(/[?#].*$/s, '');
    const sourceFor = this.o.referenceSourceFor;
    const fetch = c.fetch;
    let reason = c.unreadable ?? 'references cannot be fetched by this mount';
    if (fetch && sourceFor) {
      try {
        const reader = await this.o.blobs.open({
          digest: fetch.digest,
          sizeBytes: node.sizeBytes,
          source: () => sourceFor(c, node.sizeBytes),
        });
        return {
          kind: 'blob',
          path: node.path,
          sizeBytes: node.sizeBytes,
          reader,
          digest: fetch.digest,
          live: false,
          relist: null,
        };
      } catch (err) {
        if (this.draining) throw err;
        reason = errorMessage(err);
      }
    }
    // the one log line is wrap.ts's "fuse op failed", whose message names the URI and the reason
    throw new ReferenceUnreadableError(node.path, uri, reason);
  }

  private async node(path: string): Promise<Node> {
    const node = await this.tree.lookup(path);
    if (!node) throw new NoEntryError(path);
    return node;
  }

  /** The document behind /.wandbfs/status.json: this mount's counters at this moment. */
  private statusDocument(): Buffer {
    return renderStatus({
      version: this.o.version,
      mountPoint: this.o.mountPoint ?? '',
      startedAtMs: this.startedAtMs,
      nowMs: this.clock.nowMs(),
      openHandles: this.handles.size,
      fills: this.o.blobs.inFlight(),
      blobCounters: this.o.blobs.counters(),
      meta: this.o.meta.status(),
      ops: { ...this.stats, ...this.nativeStats() },
      extra: this.o.statusExtra?.() ?? {},
    });
  }
}

function userNames(xattrs: Record<string, string>): string[] {
  return Object.keys(xattrs).filter((k) => k.startsWith('user.'));
}
