import type { Digest } from '../core/digest.js';
import type { FileLocator } from '../api/types.js';

/**
 * The face of the metadata layer that the FUSE core uses. Paths are absolute POSIX paths inside the
 * mount ('/' is the mount root), already split-safe: the FUSE core never builds names itself.
 */
export type NodeKind = 'dir' | 'file' | 'symlink';

export type FileContent =
  /** generated from stored metadata (metadata.json); the bytes are exact, so sizes are too */
  | { type: 'generated'; bytes: Buffer }
  /** stored by W&B, addressed by digest, fetched through the blob cache */
  | { type: 'blob'; digest: Digest; locator: FileLocator }
  /**
   * reference entry (s3://, gs://, https://): bytes from the object's own store, checked by ETag
   * (`fetch`); without `fetch` (no ETag recorded, unknown scheme) reads fail with EACCES
   */
  | { type: 'reference'; ref: string; fetch?: ReferenceFetch; unreadable?: string }
  /** listed but not readable for another reason (e.g. no digest to verify against) */
  | { type: 'unreadable'; reason: string };

/** How a reference entry is fetched and cached: the ETag it must still have, and its cache key. */
export interface ReferenceFetch {
  /** the manifest's digest: the object's ETag when it was logged (quotes stripped) */
  etag: string;
  /** etagDigest(ref, etag): the blob cache key, the W&B SDK's `obj/etag/` name */
  digest: Digest;
}

interface NodeBase {
  /** the path this node was looked up by */
  path: string;
  mtimeMs: number;
  ctimeMs: number;
  /**
   * True when what this node shows can never change (committed artifact versions and everything
   * under them): the FUSE layer may then use long attribute/entry timeouts.
   */
  immutable: boolean;
  /** user.* xattrs, e.g. { 'user.wandb.id': '...', 'user.wandb.url': 'https://wandb.ai/...' } */
  xattrs: Record<string, string>;
}

export interface DirNode extends NodeBase {
  kind: 'dir';
}

export interface FileNode extends NodeBase {
  kind: 'file';
  sizeBytes: number;
  content: FileContent;
  /**
   * A file of a run that has not finished: the object behind its URL may change after the listing
   * (a growing output.log), so bytes that differ from the listing are a newer version, not corruption.
   */
  live?: boolean;
}

export interface SymlinkNode extends NodeBase {
  kind: 'symlink';
  /** relative target, e.g. 'v3' or '../../../runs/abc' */
  target: string;
}

export type Node = DirNode | FileNode | SymlinkNode;

export interface DirEntry {
  name: string;
  kind: NodeKind;
}

export interface MetaStatus {
  staleListings: number;
  refreshesInFlight: number;
  lastError: string | null;
  /** paths resolved in memory (meta/path-cache.ts); emptied by every write to the metadata store */
  resolvedPaths?: number;
}

export interface MetaTree {
  /** The node at `path`, or null when nothing is there. Never waits on the network once the parent was listed. */
  lookup(path: string): Promise<Node | null>;
  /**
   * The node at `path` when memory alone can tell (a path resolved before and still trusted), else
   * undefined: then `lookup`. Lets the warm getattr and getxattr answer without a promise.
   */
  lookupCached?(path: string): Node | undefined;
  /** The children of the directory at `path`, or null when `path` is not a directory. */
  readdir(path: string): Promise<DirEntry[] | null>;
  /** Marks every listing under `path` stale and re-lists it now (wandbfs refresh). */
  refresh(path: string): Promise<void>;
  status(): MetaStatus;
  close(): Promise<void>;
}
