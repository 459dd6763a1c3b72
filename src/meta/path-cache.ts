import type { Ctx } from './dirs/kind.js';
import type { DirEntry, Node } from './types.js';

/** A path resolved from the store, trusted until `checkAtMs`. */
export interface Resolved {
  ctx: Ctx;
  /**
   * When the first listing this path was resolved through stops being fresh: from then on the path
   * is resolved again from the store, which starts that listing's background revalidation.
   */
  checkAtMs: number;
  /** the node, built on first use */
  node?: Node;
  /** the directory's entries, once listed, trusted until their own listings' horizon */
  children?: { entries: readonly DirEntry[]; checkAtMs: number };
}

/**
 * Resolved paths (and prefixes of paths), so a warm lookup, getattr or getxattr is a map read
 * instead of one SQLite query per path component. Everything here was read from the metadata store,
 * so every write to the store (a listing page, a completed or failed pass, a refresh marking
 * listings stale, a dropped listing) clears it: `invalidate` is wired to the store's statements by
 * store/write-watch.ts. A resolution that started before a write is not stored (`epoch`).
 * Bounded: the oldest entries go first; a path whose parent is still here costs one step.
 */
export class PathCache {
  private readonly entries = new Map<string, Resolved>();
  private generation = 0;

  constructor(private readonly maxEntries: number) {}

  /** Changes at every invalidation; pass the value read before resolving to `set`. */
  get epoch(): number {
    return this.generation;
  }

  get capacity(): number {
    return this.maxEntries;
  }

  get size(): number {
    return this.entries.size;
  }

  invalidate(): void {
    this.generation++;
    if (this.entries.size > 0) this.entries.clear();
  }

  /** The entry for `path` while it is trusted at `nowMs`. */
  get(path: string, nowMs: number): Resolved | undefined {
    const e = this.entries.get(path);
    if (e === undefined) return undefined;
    if (e.checkAtMs > nowMs) return e;
    this.entries.delete(path);
    return undefined;
  }

  /** Stores `entry` unless the store was written since `epoch` or it is not trusted past `nowMs`. */
  set(path: string, entry: Resolved, epoch: number, nowMs: number): void {
    if (epoch !== this.generation || entry.checkAtMs <= nowMs) return;
    if (!this.entries.has(path) && this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(path, entry);
  }
}
