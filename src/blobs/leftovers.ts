import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { digestFromName, digestKey } from '../core/digest.js';
import type { Logger } from '../core/log.js';
import type { BlobIndex } from './blob-index.js';
import { isPidAlive } from './pid.js';
import { blobsRoot, digestFromPartialName, partialRoot, tmpRoot } from './path.js';

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/** Yields to the event loop so a big walk never delays FUSE requests. */
const yieldNow = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Start-up housekeeping, run in the background: pins of dead processes, partial files nobody can
 * resume, stale tmp files of dead processes, and index rows for blobs present on disk but unknown
 * (e.g. after the database was deleted). Partials of dead processes with a chunk map are kept to resume.
 */
export async function cleanupLeftovers(o: {
  dir: string;
  index: BlobIndex;
  log: Logger;
  activeKeys?: () => Iterable<string>;
}): Promise<{ removedPartials: number; removedTmp: number; indexed: number; droppedRows: number }> {
  const { index } = o;
  index.purgeDeadPins();
  let removedPartials = 0;
  let removedTmp = 0;
  let droppedRows = 0;
  const rows = new Map(index.listPartials().map((p) => [p.key, p]));
  const onDisk = new Set<string>();
  for (const name of await list(partialRoot(o.dir))) {
    const d = digestFromPartialName(name);
    const key = d ? digestKey(d) : null;
    if (key) onDisk.add(key);
    if (key && rows.has(key)) continue;
    // No row: the claim inserts its row before creating the file, so nobody owns this one.
    if (key && index.getPartial(key)) continue;
    await unlink(join(partialRoot(o.dir), name)).catch(() => undefined);
    removedPartials++;
  }
  const active = new Set(o.activeKeys?.() ?? []);
  for (const p of rows.values()) {
    if (onDisk.has(p.key) || active.has(p.key) || index.partialOwnedByLiveProcess(p)) continue;
    index.dropPartial(p.key);
    droppedRows++;
  }
  for (const name of await list(tmpRoot(o.dir))) {
    const pid = Number(name.split('-')[0]);
    if (isPidAlive(pid)) continue;
    await unlink(join(tmpRoot(o.dir), name)).catch(() => undefined);
    removedTmp++;
  }
  const indexed = await reconcileBlobs(o.dir, index);
  if (removedPartials + removedTmp + indexed + droppedRows > 0) {
    o.log.info('cache cleanup', { removedPartials, removedTmp, indexed, droppedRows });
  }
  return { removedPartials, removedTmp, indexed, droppedRows };
}

/**
 * Adds index rows for blob files the index does not know (access time = file mtime). Files under
 * blobs/ only ever arrive by a verified rename, so presence on disk is trusted; `cache verify` re-checks.
 */
export async function reconcileBlobs(dir: string, index: BlobIndex): Promise<number> {
  let indexed = 0;
  let seen = 0;
  for (const algo of await list(blobsRoot(dir))) {
    for (const fan of await list(join(blobsRoot(dir), algo))) {
      for (const name of await list(join(blobsRoot(dir), algo, fan))) {
        if (++seen % 200 === 0) await yieldNow();
        const d = digestFromName(algo, name);
        if (!d || d.hex !== name) continue;
        const key = digestKey(d);
        if (index.get(key)) continue;
        const st = await stat(join(blobsRoot(dir), algo, fan, name)).catch(() => null);
        if (!st?.isFile()) continue;
        index.putPresent(key, st.size, Date.now(), st.mtimeMs);
        indexed++;
      }
    }
  }
  return indexed;
}
