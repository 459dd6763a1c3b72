import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigrationError, WandbfsError } from './errors.js';
import { packageRoot } from './package-root.js';

export type Db = Database.Database;

/** The database was written by a newer wandbfs; we refuse to touch it. */
export class SchemaTooNewError extends WandbfsError {
  constructor(found: number, known: number, file: string) {
    super(
      'ERR_SCHEMA_TOO_NEW',
      `cache database ${file} has schema version ${found}, this wandbfs knows up to ${known}`,
      { hint: 'upgrade wandbfs, or point --cache-dir at another directory' },
    );
  }
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Reads migrations/NNN_name.sql in numeric order. */
export function loadMigrations(dir = join(packageRoot(), 'migrations')): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir)) {
    const m = /^(\d{3})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m?.[1] || !m[2]) continue;
    out.push({ version: Number(m[1]), name: m[2], sql: readFileSync(join(dir, file), 'utf8') });
  }
  out.sort((a, b) => a.version - b.version);
  out.forEach((mig, i) => {
    if (mig.version !== i + 1) throw new Error(`migrations must be numbered 001.. without gaps: ${mig.name}`);
  });
  return out;
}

export interface OpenDbOptions {
  /** Directory that holds the database (the cache dir); created 0700. */
  dir: string;
  fileName?: string;
  migrations?: Migration[];
  /** Apply migrations up to this version only (tests of upgrades). */
  targetVersion?: number;
  readonly?: boolean;
}

/**
 * Opens the cache database with the pragmas every process sharing a cache dir needs (WAL so readers
 * never block the writer, a busy timeout so two mounts wait instead of failing), then brings the
 * schema up to date. Each migration runs in its own transaction and is recorded in schema_version.
 */
export function openDb(options: OpenDbOptions): Db {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  chmodSync(options.dir, 0o700);
  const file = join(options.dir, options.fileName ?? 'wandbfs.db');
  const fresh = !existsSync(file);
  const db = new Database(file, options.readonly ? { readonly: true } : {});
  if (fresh) chmodSync(file, 0o600);
  db.pragma('busy_timeout = 10000');
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('foreign_keys = ON');
  try {
    migrate(db, options.migrations ?? loadMigrations(), options.targetVersion, file);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

export function schemaVersion(db: Db): number {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").get();
  if (!has) return 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

function migrate(db: Db, migrations: Migration[], target: number | undefined, file: string): void {
  const known = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  const current = schemaVersion(db);
  if (current > known) throw new SchemaTooNewError(current, known, file);
  const upTo = target ?? known;
  const pending = migrations.filter((m) => m.version > current && m.version <= upTo);
  if (pending.length === 0) return;
  // Two processes may open a fresh cache at once: BEGIN IMMEDIATE serialises them, and each
  // re-reads the version inside the transaction so a migration is never applied twice.
  for (const mig of pending) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(
        'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)',
      );
      const now = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
      if ((now.v ?? 0) < mig.version) {
        db.exec(mig.sql);
        db.prepare('INSERT INTO schema_version (version, name, applied_at_ms) VALUES (?, ?, ?)').run(
          mig.version,
          mig.name,
          Date.now(),
        );
      }
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw new MigrationError(`${mig.version}_${mig.name}`, err);
    }
  }
}
