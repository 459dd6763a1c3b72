import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMigrations, openDb, schemaVersion, SchemaTooNewError } from '../../src/core/db.js';
import { MetaStore } from '../../src/meta/store/index.js';
import { runRecord } from './memory-api.js';

const META_TABLES = [
  'aliases',
  'artifact_types',
  'collections',
  'entities',
  'listings',
  'manifest_dirs',
  'manifest_entries',
  'manifests',
  'projects',
  'run_artifacts',
  'run_file_dirs',
  'run_files',
  'runs',
  'sweep_runs',
  'sweeps',
  'versions',
];

async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wandbfs-mig-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function tables(db: ReturnType<typeof openDb>): string[] {
  return (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]
  ).map((r) => r.name);
}

/** The store's statements all prepare and a page round-trips: the schema is the one the code expects. */
function exerciseStore(db: ReturnType<typeof openDb>): void {
  const store = new MetaStore(db);
  const p = store.putProject({
    id: 'P1',
    name: 'proj',
    entityName: 'e',
    description: null,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: null,
  });
  const gen = store.beginPass('k', 0);
  const dirty = store.putRunsPage(p.pk, [runRecord('r1', 'x'), runRecord('r2', 'x')], gen);
  store.finishRuns(p.pk, gen, (n) => `k/${n}`, dirty);
  assert.deepEqual(store.runs(p.pk), ['x~r1', 'x~r2']);
}

test('migrations from scratch create every meta table', async () => {
  await withDir((dir) => {
    const db = openDb({ dir });
    try {
      const known = loadMigrations().at(-1)?.version ?? 0;
      assert.ok(known >= 1);
      assert.equal(schemaVersion(db), known);
      const t = tables(db);
      for (const name of META_TABLES) assert.ok(t.includes(name), name);
      exerciseStore(db);
    } finally {
      db.close();
    }
  });
});

test('upgrade from every earlier schema version keeps data and reaches the latest', async () => {
  const known = loadMigrations().at(-1)?.version ?? 0;
  for (let from = 0; from < known; from++) {
    await withDir((dir) => {
      const old = openDb({ dir, targetVersion: from });
      assert.equal(schemaVersion(old), from);
      if (from >= 1) {
        old.prepare("INSERT INTO listings (key, fetched_at_ms, complete) VALUES ('root', 5, 1)").run();
      }
      old.close();
      const db = openDb({ dir });
      try {
        assert.equal(schemaVersion(db), known, `from ${from}`);
        for (const name of META_TABLES) assert.ok(tables(db).includes(name), `${name} from ${from}`);
        if (from >= 1) {
          const row = db.prepare("SELECT fetched_at_ms FROM listings WHERE key = 'root'").get() as {
            fetched_at_ms: number;
          };
          assert.equal(row.fetched_at_ms, 5, 'rows survive the upgrade');
        }
        exerciseStore(db);
      } finally {
        db.close();
      }
    });
  }
});

test('a database newer than the code is refused and left untouched', async () => {
  await withDir((dir) => {
    const db = openDb({ dir });
    db.prepare("INSERT INTO schema_version (version, name, applied_at_ms) VALUES (999, 'future', 0)").run();
    db.close();
    assert.throws(() => openDb({ dir }), SchemaTooNewError);
    const again = openDb({
      dir,
      migrations: [...loadMigrations(), { version: 999, name: 'future', sql: '' }],
    });
    try {
      assert.equal(schemaVersion(again), 999);
    } finally {
      again.close();
    }
  });
});
