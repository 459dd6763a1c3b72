import type { Db } from '../../core/db.js';

/** Runs `fn` in one write transaction (nested calls become savepoints of the outer one). */
export function transaction<T>(db: Db, fn: () => T): T {
  // IMMEDIATE: take the write lock up front, waiting busy_timeout for another mount sharing the
  // cache dir. A deferred transaction that reads first and then writes fails at once with "database
  // is locked" (SQLITE_BUSY_SNAPSHOT, no busy wait) when another process committed in between.
  return db.transaction(fn).immediate();
}
