import { readdir } from 'node:fs/promises';
import type { Db } from '../core/db.js';
import { BlobKeep, type KeepSummary } from './blob-keep.js';
import { BlobIndex, type BlobRow, type PartialRow } from './blob-index.js';
import { reconcileBlobs } from './leftovers.js';
import { partialRoot } from './path.js';

export interface CacheStats {
  dir: string;
  blobCount: number;
  blobBytes: number;
  partials: (PartialRow & { doneChunks: number; active: boolean })[];
  partialFiles: number;
  /** blobs open in running mounts */
  pinnedCount: number;
  /** user pins (`wandbfs cache pin`): how many, and what of them is cached */
  kept: KeepSummary;
  counters: Record<string, number>;
  top: BlobRow[];
}

/** `cache stats`: what is stored, what is downloading, lifetime hit/miss counters. */
export async function cacheStats(o: { dir: string; db: Db; top?: number }): Promise<CacheStats> {
  const index = new BlobIndex(o.db);
  await reconcileBlobs(o.dir, index);
  const blobs = index.listBlobs();
  const partials = index.listPartials().map((p) => ({
    ...p,
    doneChunks: index.chunkCount(p.key),
    active: index.partialOwnedByLiveProcess(p),
  }));
  return {
    dir: o.dir,
    blobCount: blobs.length,
    blobBytes: blobs.reduce((s, b) => s + b.sizeBytes, 0),
    partials,
    partialFiles: (await readdir(partialRoot(o.dir)).catch(() => [])).length,
    pinnedCount: index.pinnedKeys().size,
    kept: new BlobKeep(o.db).summary(),
    counters: index.readCounters(),
    top: [...blobs].sort((a, b) => b.sizeBytes - a.sizeBytes).slice(0, o.top ?? 10),
  };
}
