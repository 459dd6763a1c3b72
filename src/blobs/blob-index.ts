import type { Db } from '../core/db.js';
import { isPidAlive } from './pid.js';

export interface BlobRow {
  key: string;
  sizeBytes: number;
  createdAtMs: number;
  accessedAtMs: number;
}

export interface PartialRow {
  key: string;
  sizeBytes: number;
  chunkBytes: number;
  ownerPid: number | null;
  ownerToken: string | null;
  startedAtMs: number;
  updatedAtMs: number;
}

export type ClaimResult =
  | { kind: 'mine'; doneChunks: number[] }
  | { kind: 'other'; ownerPid: number; ownerToken: string; chunkBytes: number };

/** What a process following another one's fill needs to know, read in one transaction. */
export interface FillProgressRow {
  ownerToken: string | null;
  /** false when the owner process is gone (its partial is free to take over) */
  ownerAlive: boolean;
  updatedAtMs: number;
  doneChunks: number[];
}

interface RawBlob {
  key: string;
  size_bytes: number;
  created_at_ms: number;
  accessed_at_ms: number;
}

interface RawPartial {
  key: string;
  size_bytes: number;
  chunk_bytes: number;
  owner_pid: number | null;
  owner_token: string | null;
  started_at_ms: number;
  updated_at_ms: number;
}

const toBlob = (r: RawBlob): BlobRow => ({
  key: r.key,
  sizeBytes: r.size_bytes,
  createdAtMs: r.created_at_ms,
  accessedAtMs: r.accessed_at_ms,
});

const toPartial = (r: RawPartial): PartialRow => ({
  key: r.key,
  sizeBytes: r.size_bytes,
  chunkBytes: r.chunk_bytes,
  ownerPid: r.owner_pid,
  ownerToken: r.owner_token,
  startedAtMs: r.started_at_ms,
  updatedAtMs: r.updated_at_ms,
});

/**
 * The blob tables of the shared SQLite file (migrations/002_blobs.sql). Every method is one short
 * synchronous statement or transaction; several processes may use the same file (WAL + busy_timeout).
 */
export class BlobIndex {
  constructor(
    private readonly db: Db,
    private readonly alive: (pid: number) => boolean = isPidAlive,
  ) {}

  get(key: string): BlobRow | undefined {
    const r = this.db.prepare('SELECT * FROM blob WHERE key = ?').get(key) as RawBlob | undefined;
    return r && toBlob(r);
  }

  /** Records a blob found on disk or just committed; keeps the older access time if it exists. */
  putPresent(key: string, sizeBytes: number, nowMs: number, accessedAtMs = nowMs): void {
    this.db
      .prepare(
        `INSERT INTO blob (key, size_bytes, created_at_ms, accessed_at_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET size_bytes = excluded.size_bytes`,
      )
      .run(key, sizeBytes, nowMs, accessedAtMs);
  }

  /** Called after the verified rename: the partial becomes a blob in one transaction. */
  commitPresent(key: string, sizeBytes: number, nowMs: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM blob_partial WHERE key = ?').run(key);
      this.db
        .prepare(
          `INSERT INTO blob (key, size_bytes, created_at_ms, accessed_at_ms) VALUES (?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET size_bytes = excluded.size_bytes, accessed_at_ms = excluded.accessed_at_ms`,
        )
        .run(key, sizeBytes, nowMs, nowMs);
    })();
  }

  delete(key: string): void {
    this.db.prepare('DELETE FROM blob WHERE key = ?').run(key);
  }

  /** Deletes the row unless a live process pins it; the caller unlinks the file only on true. */
  deleteIfUnpinned(key: string): boolean {
    return this.db
      .transaction(() => {
        if (this.pinnedByLiveProcess(key)) return false;
        return this.db.prepare('DELETE FROM blob WHERE key = ?').run(key).changes > 0;
      })
      .immediate();
  }

  listBlobs(): BlobRow[] {
    return (this.db.prepare('SELECT * FROM blob ORDER BY accessed_at_ms, key').all() as RawBlob[]).map(
      toBlob,
    );
  }

  /** Bytes of complete blobs plus space reserved by partials. */
  usedBytes(): number {
    const r = this.db
      .prepare(
        `SELECT (SELECT COALESCE(SUM(size_bytes), 0) FROM blob) + (SELECT COALESCE(SUM(size_bytes), 0) FROM blob_partial) AS n`,
      )
      .get() as { n: number };
    return r.n;
  }

  /**
   * Bytes that downloads in progress (any process) have claimed but not yet written: the disk's free
   * space does not show them yet, because partial files are sparse until filled.
   */
  unwrittenPartialBytes(exceptKey: string): number {
    const r = this.db
      .prepare(
        `SELECT COALESCE(SUM(MAX(0, p.size_bytes - p.chunk_bytes *
           (SELECT COUNT(*) FROM blob_partial_chunk c WHERE c.key = p.key))), 0) AS n
         FROM blob_partial p WHERE p.key <> ?`,
      )
      .get(exceptKey) as { n: number };
    return r.n;
  }

  touch(accessed: ReadonlyMap<string, number>): void {
    if (accessed.size === 0) return;
    const stmt = this.db.prepare('UPDATE blob SET accessed_at_ms = MAX(accessed_at_ms, ?) WHERE key = ?');
    this.db.transaction(() => {
      for (const [key, ms] of accessed) stmt.run(ms, key);
    })();
  }

  // --- partials -------------------------------------------------------------------------------

  /**
   * Takes the right to fill `key`, unless another live cache instance (token) holds it. A leftover partial
   * of a dead process is resumed (its chunk map kept) when the chunk size matches.
   */
  claim(key: string, sizeBytes: number, chunkBytes: number, token: string, nowMs: number): ClaimResult {
    return this.db
      .transaction((): ClaimResult => {
        const r = this.db.prepare('SELECT * FROM blob_partial WHERE key = ?').get(key) as
          RawPartial | undefined;
        if (
          r &&
          r.owner_pid !== null &&
          r.owner_token !== null &&
          r.owner_token !== token &&
          this.alive(r.owner_pid)
        ) {
          return {
            kind: 'other',
            ownerPid: r.owner_pid,
            ownerToken: r.owner_token,
            chunkBytes: r.chunk_bytes,
          };
        }
        if (r && (r.size_bytes !== sizeBytes || r.chunk_bytes !== chunkBytes)) {
          this.db.prepare('DELETE FROM blob_partial WHERE key = ?').run(key);
        }
        this.db
          .prepare(
            `INSERT INTO blob_partial (key, size_bytes, chunk_bytes, owner_pid, owner_token, started_at_ms, updated_at_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET owner_pid = excluded.owner_pid, owner_token = excluded.owner_token,
               updated_at_ms = excluded.updated_at_ms`,
          )
          .run(key, sizeBytes, chunkBytes, process.pid, token, nowMs, nowMs);
        const done = this.db
          .prepare('SELECT chunk_index FROM blob_partial_chunk WHERE key = ? ORDER BY chunk_index')
          .all(key) as { chunk_index: number }[];
        return { kind: 'mine', doneChunks: done.map((d) => d.chunk_index) };
      })
      .immediate();
  }

  /** Lets another fill take over (the partial file and chunk map stay for resuming). */
  release(key: string, token: string): void {
    this.db
      .prepare(
        'UPDATE blob_partial SET owner_pid = NULL, owner_token = NULL WHERE key = ? AND owner_token = ?',
      )
      .run(key, token);
  }

  /** Must only be called after the chunks' bytes were fdatasync'ed. */
  markChunks(key: string, token: string, indices: readonly number[], nowMs: number): void {
    const ins = this.db.prepare('INSERT OR IGNORE INTO blob_partial_chunk (key, chunk_index) VALUES (?, ?)');
    this.db.transaction(() => {
      const owned = this.db
        .prepare('UPDATE blob_partial SET updated_at_ms = ? WHERE key = ? AND owner_token = ?')
        .run(nowMs, key, token);
      if (owned.changes === 0) return;
      for (const i of indices) ins.run(key, i);
    })();
  }

  /** Forgets every completed chunk (the partial file was lost or is being restarted). */
  resetChunks(key: string): void {
    this.db.prepare('DELETE FROM blob_partial_chunk WHERE key = ?').run(key);
  }

  dropPartial(key: string): void {
    this.db.prepare('DELETE FROM blob_partial WHERE key = ?').run(key);
  }

  getPartial(key: string): PartialRow | undefined {
    const r = this.db.prepare('SELECT * FROM blob_partial WHERE key = ?').get(key) as RawPartial | undefined;
    return r && toPartial(r);
  }

  listPartials(): PartialRow[] {
    return (this.db.prepare('SELECT * FROM blob_partial ORDER BY key').all() as RawPartial[]).map(toPartial);
  }

  chunkCount(key: string): number {
    const r = this.db.prepare('SELECT COUNT(*) AS n FROM blob_partial_chunk WHERE key = ?').get(key) as {
      n: number;
    };
    return r.n;
  }

  /** The state of another process's fill of `key`; undefined once it has no partial (done or dropped). */
  fillProgress(key: string): FillProgressRow | undefined {
    return this.db.transaction((): FillProgressRow | undefined => {
      const r = this.db.prepare('SELECT * FROM blob_partial WHERE key = ?').get(key) as
        RawPartial | undefined;
      if (!r) return undefined;
      const done = this.db.prepare('SELECT chunk_index FROM blob_partial_chunk WHERE key = ?').all(key) as {
        chunk_index: number;
      }[];
      return {
        ownerToken: r.owner_token,
        ownerAlive: r.owner_pid !== null && this.alive(r.owner_pid),
        updatedAtMs: r.updated_at_ms,
        doneChunks: done.map((d) => d.chunk_index),
      };
    })();
  }

  /** True when a live process (not necessarily us) is filling this partial. */
  partialOwnedByLiveProcess(p: PartialRow): boolean {
    return p.ownerPid !== null && this.alive(p.ownerPid);
  }

  // --- pins -----------------------------------------------------------------------------------

  pin(key: string, pid = process.pid): void {
    this.db
      .prepare(
        'INSERT INTO blob_pin (key, pid, count) VALUES (?, ?, 1) ON CONFLICT (key, pid) DO UPDATE SET count = count + 1',
      )
      .run(key, pid);
  }

  unpin(key: string, pid = process.pid): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE blob_pin SET count = count - 1 WHERE key = ? AND pid = ?').run(key, pid);
      this.db.prepare('DELETE FROM blob_pin WHERE key = ? AND pid = ? AND count <= 0').run(key, pid);
    })();
  }

  /** Drops every pin of this process (cache close). */
  unpinAll(pid = process.pid): void {
    this.db.prepare('DELETE FROM blob_pin WHERE pid = ?').run(pid);
  }

  /** Removes pins whose process is gone; returns how many rows went. */
  purgeDeadPins(): number {
    const pids = this.db.prepare('SELECT DISTINCT pid FROM blob_pin').all() as { pid: number }[];
    let n = 0;
    for (const { pid } of pids) {
      if (!this.alive(pid)) n += this.db.prepare('DELETE FROM blob_pin WHERE pid = ?').run(pid).changes;
    }
    return n;
  }

  /** Keys open in some live process (dead processes' pins are purged first). */
  pinnedKeys(): Set<string> {
    this.purgeDeadPins();
    const rows = this.db.prepare('SELECT DISTINCT key FROM blob_pin').all() as { key: string }[];
    return new Set(rows.map((r) => r.key));
  }

  private pinnedByLiveProcess(key: string): boolean {
    const rows = this.db.prepare('SELECT pid FROM blob_pin WHERE key = ? AND count > 0').all(key) as {
      pid: number;
    }[];
    return rows.some((r) => this.alive(r.pid));
  }

  // --- user pins (blob_keep; written by blob-keep.ts) ---------------------------------------

  keptKeys(): Set<string> {
    const rows = this.db.prepare('SELECT key FROM blob_keep').all() as { key: string }[];
    return new Set(rows.map((r) => r.key));
  }

  /** Everything eviction must leave alone: blobs open in a live process and blobs a user pinned. */
  protectedKeys(): Set<string> {
    const keys = this.pinnedKeys();
    for (const k of this.keptKeys()) keys.add(k);
    return keys;
  }

  /** deleteIfUnpinned that also honours user pins (prune, clear); one transaction with the checks. */
  deleteIfEvictable(key: string): boolean {
    return this.db
      .transaction(() => {
        if (this.db.prepare('SELECT 1 FROM blob_keep WHERE key = ?').get(key)) return false;
        if (this.pinnedByLiveProcess(key)) return false;
        return this.db.prepare('DELETE FROM blob WHERE key = ?').run(key).changes > 0;
      })
      .immediate();
  }

  // --- counters -------------------------------------------------------------------------------

  addCounters(deltas: Readonly<Record<string, number>>): void {
    const stmt = this.db.prepare(
      'INSERT INTO blob_counter (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value',
    );
    this.db.transaction(() => {
      for (const [name, value] of Object.entries(deltas)) if (value !== 0) stmt.run(name, value);
    })();
  }

  readCounters(): Record<string, number> {
    const rows = this.db.prepare('SELECT name, value FROM blob_counter').all() as {
      name: string;
      value: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }
}
