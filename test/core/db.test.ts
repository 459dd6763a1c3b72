import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, schemaVersion, SchemaTooNewError, type Migration } from '../../src/core/db.js';

const migrations: Migration[] = [
  { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER);' },
  { version: 2, name: 'two', sql: 'CREATE TABLE b (y INTEGER);' },
];

async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wandbfs-db-'));
  try {
    await fn(join(dir, 'cache'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('openDb creates a private directory and file and applies every migration once', () =>
  withDir(async (dir) => {
    const db = openDb({ dir, migrations });
    assert.equal(schemaVersion(db), 2);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    db.close();
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'wandbfs.db'))).mode & 0o777, 0o600);
    const again = openDb({ dir, migrations });
    const rows = again.prepare('SELECT version FROM schema_version ORDER BY version').all();
    assert.deepEqual(rows, [{ version: 1 }, { version: 2 }]);
    again.close();
  }));

test('openDb upgrades an older database step by step', () =>
  withDir((dir) => {
    const old = openDb({ dir, migrations, targetVersion: 1 });
    assert.equal(schemaVersion(old), 1);
    old.close();
    const db = openDb({ dir, migrations });
    assert.equal(schemaVersion(db), 2);
    db.prepare('INSERT INTO b (y) VALUES (1)').run();
    db.close();
  }));

test('a database newer than the code is refused and left unchanged', () =>
  withDir((dir) => {
    openDb({ dir, migrations }).close();
    assert.throws(() => openDb({ dir, migrations: migrations.slice(0, 1) }), SchemaTooNewError);
    const db = openDb({ dir, migrations });
    assert.equal(schemaVersion(db), 2);
    db.close();
  }));

test('a failing migration rolls back and leaves the previous version', () =>
  withDir((dir) => {
    const broken: Migration[] = [
      ...migrations,
      { version: 3, name: 'bad', sql: 'CREATE TABLE c (z INTEGER); SELECT * FROM missing_table;' },
    ];
    assert.throws(() => openDb({ dir, migrations: broken }), /migration 3_bad failed/);
    const db = openDb({ dir, migrations });
    assert.equal(schemaVersion(db), 2);
    const c = db.prepare("SELECT name FROM sqlite_master WHERE name = 'c'").get();
    assert.equal(c, undefined);
    db.close();
  }));
