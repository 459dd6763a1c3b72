import { stat, statfs } from 'node:fs/promises';
import { WandbfsError } from '../core/errors.js';
import { formatBytes } from '../core/units.js';
import type { BlobIndex } from '../blobs/blob-index.js';
import { blobPath } from '../blobs/path.js';
import { BLOB_CACHE_DEFAULTS, type BlobCacheOptions } from '../blobs/store.js';
import type { WarmPlanSummary } from '../admin/warm-protocol.js';
import type { TreeBlob, TreeFiles } from './tree-files.js';

/** The cache limits of the mount the warm-up runs in (its --max-cache-size and --min-free-space). */
export interface WarmLimits {
  maxCacheBytes: number;
  minFreeBytes: number;
  /** free bytes on the cache file system now */
  freeBytes: () => Promise<number>;
}

/** The limits a mount's blob cache enforces, from its settings (tuning overrides the CLI flags). */
export function cacheLimits(c: {
  maxCacheBytes?: number;
  minFreeBytes?: number;
  tuning?: { blobs?: Partial<Pick<BlobCacheOptions, 'maxCacheBytes' | 'minFreeBytes' | 'freeBytes'>> };
  cacheDir: string;
}): WarmLimits {
  const b = c.tuning?.blobs;
  const free = b?.freeBytes ?? freeBytesOf;
  return {
    maxCacheBytes: b?.maxCacheBytes ?? c.maxCacheBytes ?? BLOB_CACHE_DEFAULTS.maxCacheBytes,
    minFreeBytes: b?.minFreeBytes ?? c.minFreeBytes ?? BLOB_CACHE_DEFAULTS.minFreeBytes,
    freeBytes: () => free(c.cacheDir),
  };
}

async function freeBytesOf(dir: string): Promise<number> {
  const s = await statfs(dir).catch(() => null);
  return s ? s.bavail * s.bsize : Number.MAX_SAFE_INTEGER;
}

export interface WarmPlan {
  summary: WarmPlanSummary;
  /** blobs not complete in the cache yet, in walk order */
  toFetch: TreeBlob[];
  /** why the warm-up cannot fit; null when it can */
  refusal: WarmRefusedError | null;
}

/** The warm-up would not fit: nothing is fetched (a half-warmed set would evict its own files). */
export class WarmRefusedError extends WandbfsError {
  constructor(message: string, hint: string) {
    super('ERR_WARM_REFUSED', message, { hint });
  }
}

async function isCached(dir: string, b: TreeBlob): Promise<boolean> {
  const st = await stat(blobPath(dir, b.digest)).catch(() => null);
  return st !== null && st.size === b.sizeBytes;
}

/** Splits the files into cached and to-fetch, and checks that the whole set fits the cache. */
export async function planWarm(
  files: TreeFiles,
  cacheDir: string,
  index: BlobIndex,
  limits: WarmLimits,
): Promise<WarmPlan> {
  const s: WarmPlanSummary = {
    files: files.blobs.length,
    bytes: 0,
    cachedFiles: 0,
    cachedBytes: 0,
    partialFiles: 0,
    partialBytes: 0,
    unreadable: files.unreadable,
    generated: files.generated,
  };
  const toFetch: TreeBlob[] = [];
  for (const b of files.blobs) {
    s.bytes += b.sizeBytes;
    if (await isCached(cacheDir, b)) {
      s.cachedFiles++;
      s.cachedBytes += b.sizeBytes;
      continue;
    }
    toFetch.push(b);
    const p = index.getPartial(b.key);
    if (p) {
      s.partialFiles++;
      s.partialBytes += Math.min(p.sizeBytes, index.chunkCount(b.key) * p.chunkBytes);
    }
  }
  return { summary: s, toFetch, refusal: await checkFits(s, files, index, limits) };
}

/**
 * The set must fit under --max-cache-size next to what eviction may not remove (blobs pinned or
 * open elsewhere), and the bytes still to download must fit on disk above --min-free-space, counting
 * what evicting other unpinned blobs would free.
 */
async function checkFits(
  s: WarmPlanSummary,
  files: TreeFiles,
  index: BlobIndex,
  limits: WarmLimits,
): Promise<WarmRefusedError | null> {
  const inSet = new Set(files.blobs.map((b) => b.key));
  const protectedKeys = index.protectedKeys();
  let keptElsewhere = 0;
  let reclaimable = 0;
  for (const b of index.listBlobs()) {
    if (inSet.has(b.key)) continue;
    if (protectedKeys.has(b.key)) keptElsewhere += b.sizeBytes;
    else reclaimable += b.sizeBytes;
  }
  if (s.bytes + keptElsewhere > limits.maxCacheBytes) {
    const kept =
      keptElsewhere > 0 ? ` (${formatBytes(keptElsewhere)} of it is held by pinned or open blobs)` : '';
    return new WarmRefusedError(
      `warming needs ${formatBytes(s.bytes)} in the cache, more than the mount's --max-cache-size ${formatBytes(limits.maxCacheBytes)} allows${kept}`,
      'warm fewer paths, unpin something (`wandbfs cache unpin`), or remount with a larger --max-cache-size',
    );
  }
  const missing = s.bytes - s.cachedBytes - s.partialBytes;
  const free = await limits.freeBytes();
  const room = free - limits.minFreeBytes + reclaimable;
  if (missing > room) {
    return new WarmRefusedError(
      `warming needs ${formatBytes(missing)} more disk space; the cache disk has ${formatBytes(free)} free, ` +
        `${formatBytes(limits.minFreeBytes)} of which must stay free (--min-free-space)` +
        (reclaimable > 0 ? `, and evicting unpinned blobs would free ${formatBytes(reclaimable)}` : ''),
      'free disk space, warm fewer paths, or remount with a smaller --min-free-space',
    );
  }
  return null;
}
