import type { Db } from '../core/db.js';

/** A user pin: the blob's key, its size (known before it is downloaded) and the path it came from. */
export interface KeepRow {
  key: string;
  sizeBytes: number;
  label: string;
}

export interface KeepSummary {
  /** pinned blobs, downloaded or not */
  count: number;
  /** of those, how many are in the cache now, and their bytes */
  presentCount: number;
  presentBytes: number;
}

/**
 * User pins (`wandbfs warm --pin`, `wandbfs cache pin|unpin`), table blob_keep of
 * migrations/004_blob_keep.sql. Pins are per blob (content), not per path: a checkpoint shared by two
 * versions is one pin. BlobIndex.protectedKeys() and deleteIfEvictable() are what eviction checks.
 */
export class BlobKeep {
  constructor(private readonly db: Db) {}

  /** Returns how many pins were new. */
  pin(entries: readonly KeepRow[], nowMs: number): number {
    const stmt = this.db.prepare(
      'INSERT INTO blob_keep (key, size_bytes, label, pinned_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING',
    );
    return this.db.transaction(() => {
      let n = 0;
      for (const e of entries) n += stmt.run(e.key, e.sizeBytes, e.label, nowMs).changes;
      return n;
    })();
  }

  /** Returns how many of `keys` were pinned. */
  unpin(keys: Iterable<string>): number {
    const stmt = this.db.prepare('DELETE FROM blob_keep WHERE key = ?');
    return this.db.transaction(() => {
      let n = 0;
      for (const k of keys) n += stmt.run(k).changes;
      return n;
    })();
  }

  /** Removes every pin; returns how many there were. */
  unpinAll(): number {
    return this.db.prepare('DELETE FROM blob_keep').run().changes;
  }

  summary(): KeepSummary {
    return this.db
      .prepare(
        `SELECT COUNT(*) AS count, COUNT(b.key) AS presentCount, COALESCE(SUM(b.size_bytes), 0) AS presentBytes
         FROM blob_keep k LEFT JOIN blob b ON b.key = k.key`,
      )
      .get() as KeepSummary;
  }
}
