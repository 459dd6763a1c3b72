import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import { parseDigestKey } from '../core/digest.js';
import { BlobIndex } from './blob-index.js';
import { planEviction, type EvictCandidate } from './evict-policy.js';
import { reconcileBlobs } from './leftovers.js';
import { blobPath, partialPath } from './path.js';
import { isPidAlive } from './pid.js';

export interface PruneOptions {
  dir: string;
  db: Db;
  /** Remove least recently used blobs until the total is at most this. */
  maxSizeBytes?: number;
  /** Remove blobs not accessed for this long. */
  olderThanMs?: number;
  /** Remove everything not pinned (cache clear). */
  all?: boolean;
  dryRun?: boolean;
  clock?: Clock;
}

export interface PruneReport {
  removed: EvictCandidate[];
  /** Blobs that would have gone but are open in a running mount. */
  skippedPinned: EvictCandidate[];
  /** Blobs that would have gone but a user pinned (`wandbfs cache pin`, `warm --pin`). */
  keptPinned: EvictCandidate[];
  freedBytes: number;
  remainingBytes: number;
  /** Interrupted downloads nobody is resuming right now (removed by clear, and by prune when old). */
  removedPartials: number;
  dryRun: boolean;
}

/**
 * `cache prune` and `cache clear`: LRU by our recorded access time. Safe next to a running mount:
 * a blob open in a mount or pinned by the user is kept and reported, and the pin checks and the row
 * delete are one transaction.
 */
export async function pruneCache(o: PruneOptions): Promise<PruneReport> {
  const index = new BlobIndex(o.db);
  const now = (o.clock ?? systemClock).nowMs();
  await reconcileBlobs(o.dir, index);
  const kept = index.keptKeys();
  const pinned = index.protectedKeys();
  const candidates = index.listBlobs().map((b) => ({ ...b, pinned: pinned.has(b.key) }));
  const plan = planEviction(candidates, {
    ...(o.maxSizeBytes !== undefined ? { maxTotalBytes: o.maxSizeBytes } : {}),
    ...(o.all ? { maxTotalBytes: 0 } : {}),
    ...(o.olderThanMs !== undefined ? { accessedBeforeMs: now - o.olderThanMs } : {}),
  });
  const removed: EvictCandidate[] = [];
  const skippedPinned = plan.skippedPinned.filter((c) => !kept.has(c.key));
  const keptPinned = plan.skippedPinned.filter((c) => kept.has(c.key));
  let freed = 0;
  for (const c of plan.evict) {
    if (o.dryRun) {
      removed.push(c);
      freed += c.sizeBytes;
      continue;
    }
    if (!index.deleteIfEvictable(c.key)) {
      // pinned since the plan was made: report it the way the plan would have
      (index.keptKeys().has(c.key) ? keptPinned : skippedPinned).push({ ...c, pinned: true });
      continue;
    }
    const d = parseDigestKey(c.key);
    if (d) await unlink(blobPath(o.dir, d)).catch(() => undefined);
    removed.push(c);
    freed += c.sizeBytes;
  }
  let removedPartials = 0;
  for (const p of index.listPartials()) {
    if (index.partialOwnedByLiveProcess(p)) continue;
    const old = o.olderThanMs !== undefined && p.updatedAtMs < now - o.olderThanMs;
    if (!o.all && !old) continue;
    removedPartials++;
    if (o.dryRun) continue;
    index.dropPartial(p.key);
    const d = parseDigestKey(p.key);
    if (d) await unlink(partialPath(o.dir, d)).catch(() => undefined);
  }
  if (o.all && !o.dryRun) await removeDeadTmp(o.dir);
  const total = candidates.reduce((s, c) => s + c.sizeBytes, 0);
  return {
    removed,
    skippedPinned,
    keptPinned,
    freedBytes: freed,
    remainingBytes: total - freed,
    removedPartials,
    dryRun: !!o.dryRun,
  };
}

async function removeDeadTmp(dir: string): Promise<void> {
  for (const name of await readdir(join(dir, 'tmp')).catch(() => [])) {
    if (!isPidAlive(Number(name.split('-')[0]))) await unlink(join(dir, 'tmp', name)).catch(() => undefined);
  }
}
