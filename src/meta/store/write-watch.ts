import type { Db } from '../../core/db.js';

type Statement = ReturnType<Db['prepare']>;
const EXECUTORS = new Set<PropertyKey>(['run', 'get', 'all', 'iterate']);

/**
 * `db` as the store's tables see it, calling `onWrite` after every statement that may change a row.
 * Caches built from the store (meta/path-cache.ts) are dropped by it, so a table added later cannot
 * forget to tell them: a statement is a write when SQLite says it is not read-only, whichever
 * method runs it (an upsert with RETURNING is run with `get`).
 */
export function watchWrites(db: Db, onWrite: () => void): Db {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') {
        return (sql: string) => {
          const stmt = target.prepare(sql);
          return stmt.readonly ? stmt : watchStatement(stmt, onWrite);
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function watchStatement(stmt: Statement, onWrite: () => void): Statement {
  return new Proxy(stmt, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      const fn = (v as (...a: unknown[]) => unknown).bind(target);
      if (!EXECUTORS.has(prop)) return fn;
      return (...args: unknown[]) => {
        try {
          return fn(...args);
        } finally {
          // also after a failed statement: a partial effect must not leave a cache answering
          onWrite();
        }
      };
    },
  });
}
