import type { Db } from '../../core/db.js';
import { num, str, toListing, type ListingRow, type Row } from './rows.js';

/** The `listings` table: when each directory was last fetched, and whether that failed. */
export class Listings {
  private readonly s;
  /**
   * Listing state read on every path step; kept in memory and written through. Another process
   * sharing the cache dir may refresh a listing without this one noticing: that only costs a
   * refresh of our own, never a wrong answer.
   */
  private readonly cache = new Map<string, ListingRow | null>();

  constructor(db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      get: p('SELECT * FROM listings WHERE key = ?'),
      begin: p(
        `INSERT INTO listings (key, gen, attempt_at_ms) VALUES (?, 1, ?)
         ON CONFLICT (key) DO UPDATE SET gen = gen + 1, attempt_at_ms = excluded.attempt_at_ms
         RETURNING gen`,
      ),
      complete: p(
        'UPDATE listings SET fetched_at_ms = ?, complete = 1, stale = 0, error = NULL, error_at_ms = NULL WHERE key = ?',
      ),
      fail: p('UPDATE listings SET stale = 1, error = ?, error_at_ms = ? WHERE key = ?'),
      markStale: p("UPDATE listings SET stale = 1 WHERE key = ? OR (key >= ? || '/' AND key < ? || '0')"),
      deleteUnder: p("DELETE FROM listings WHERE key = ? OR (key >= ? || '/' AND key < ? || '0')"),
      staleCount: p('SELECT COUNT(*) AS n FROM listings WHERE stale = 1'),
      lastError: p(
        'SELECT key, error FROM listings WHERE error IS NOT NULL ORDER BY error_at_ms DESC LIMIT 1',
      ),
    };
  }

  get(key: string): ListingRow | null {
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const r = this.s.get.get(key) as Row | undefined;
    const row = r ? toListing(key, r) : null;
    this.cache.set(key, row);
    return row;
  }

  /** Starts a fetch pass; rows written during it carry the returned generation. */
  beginPass(key: string, nowMs: number): number {
    this.cache.delete(key);
    return num(this.s.begin.get(key, nowMs) as Row, 'gen');
  }

  completePass(key: string, nowMs: number): void {
    this.cache.delete(key);
    this.s.complete.run(nowMs, key);
  }

  failPass(key: string, nowMs: number, error: string): void {
    this.cache.delete(key);
    this.s.fail.run(error, nowMs, key);
  }

  /** Marks `key` and every listing below it (`key/...`) stale. */
  markStale(key: string): number {
    this.cache.clear();
    return this.s.markStale.run(key, key, key).changes;
  }

  /** Forgets `key` and every listing below it: their rows are gone. */
  drop(key: string): void {
    this.cache.clear();
    this.s.deleteUnder.run(key, key, key);
  }

  staleCount(): number {
    return num(this.s.staleCount.get() as Row, 'n');
  }

  lastError(): string | null {
    const r = this.s.lastError.get() as Row | undefined;
    return r ? `${str(r, 'key')}: ${str(r, 'error')}` : null;
  }
}
