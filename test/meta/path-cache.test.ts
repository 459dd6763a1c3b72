/**
 * The cache of resolved paths (src/meta/path-cache.ts): its own rules, the store's write watch that
 * empties it, and through the tree, that nothing it holds outlives the listing it came from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock.js';
import { openDb, type Db } from '../../src/core/db.js';
import { PathCache, type Resolved } from '../../src/meta/path-cache.js';
import { MetaStore } from '../../src/meta/store/index.js';
import { watchWrites } from '../../src/meta/store/write-watch.js';
import { createMetaTree, type WandbMetaTree } from '../../src/meta/tree.js';
import { MemoryApi, runRecord } from './memory-api.js';

const T0 = Date.parse('2026-06-01T00:00:00Z');
const entry = (checkAtMs: number): Resolved => ({ ctx: { kind: 'root' }, checkAtMs });

test('PathCache: trusted until checkAtMs, emptied by invalidate, bounded oldest-first', () => {
  const c = new PathCache(2);
  c.set('/a', entry(100), c.epoch, 0);
  assert.ok(c.get('/a', 99), 'trusted before its horizon');
  assert.equal(c.get('/a', 100), undefined, 'not at its horizon');
  assert.equal(c.get('/a', 50), undefined, 'an expired entry is dropped, not kept for later');

  c.set('/b', entry(10), c.epoch, 10);
  assert.equal(c.get('/b', 0), undefined, 'an entry already expired when stored is not stored');

  const before = c.epoch;
  c.invalidate();
  c.set('/c', entry(100), before, 0);
  assert.equal(c.get('/c', 0), undefined, 'a resolution begun before a write is not stored');

  c.set('/1', entry(100), c.epoch, 0);
  c.set('/2', entry(100), c.epoch, 0);
  c.set('/3', entry(100), c.epoch, 0);
  assert.equal(c.size, 2);
  assert.equal(c.get('/1', 0), undefined, 'the oldest entry went first');
  assert.ok(c.get('/3', 0));
  c.invalidate();
  assert.equal(c.size, 0);
});

test('watchWrites: every statement that can change a row reports, reads do not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wandbfs-watch-'));
  const db: Db = openDb({ dir });
  try {
    let writes = 0;
    const w = watchWrites(db, () => writes++);
    w.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)');
    w.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('a', 1);
    assert.equal(writes, 1, 'an insert with run()');
    const upsert = w.prepare(
      'INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v RETURNING v',
    );
    assert.deepEqual(upsert.get('a', 2), { v: 2 });
    assert.equal(writes, 2, 'an upsert with RETURNING, run with get()');
    w.prepare('SELECT * FROM t').all();
    w.prepare('SELECT v FROM t WHERE k = ?').get('a');
    assert.equal(writes, 2, 'reads report nothing');
    assert.throws(() => w.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('a', 3));
    assert.equal(writes, 3, 'a failed write reports too');
    w.transaction(() => w.prepare('DELETE FROM t').run()).immediate();
    assert.equal(writes, 4, 'inside a transaction of the watched handle');
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n, 0);
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
});

interface Setup {
  api: MemoryApi;
  clock: ManualClock;
  tree: WandbMetaTree;
  done(): Promise<void>;
}

async function setup(pathCacheEntries?: number): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'wandbfs-pathcache-'));
  const db = openDb({ dir });
  const api = new MemoryApi();
  const p = api.addProject('alice', 'proj');
  p.runs.push(runRecord('r1', 'train', 'running'), runRecord('r2', 'eval'));
  p.files.set('r1', [{ name: 'logs/output.log', sizeBytes: 3, md5: null, updatedAt: null }]);
  const clock = new ManualClock(T0);
  const tree = createMetaTree({ db, api, clock, ...(pathCacheEntries ? { pathCacheEntries } : {}) });
  return {
    api,
    clock,
    tree,
    async done() {
      await tree.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const stateOf = async (tree: WandbMetaTree, path: string) =>
  (await tree.lookup(path))?.xattrs['user.wandb.state'];
const names = async (tree: WandbMetaTree, path: string) =>
  (await tree.readdir(path))?.map((e) => e.name) ?? null;

test('a cached path follows its listing: revalidated after the TTL, new rows shown once stored', async () => {
  const c = await setup();
  try {
    assert.equal(await stateOf(c.tree, '/alice/proj/runs/train'), 'running');
    assert.equal(c.tree.status().resolvedPaths, 0, 'nothing resolved while listings were being stored');
    assert.equal(await stateOf(c.tree, '/alice/proj/runs/train'), 'running');
    assert.ok((c.tree.status().resolvedPaths ?? 0) >= 4, 'the path and its prefixes are cached');
    const runsListed = c.api.count('listRuns');
    const record = c.api.project_('alice', 'proj').runs[0];
    assert.ok(record);
    record.state = 'finished';
    c.clock.advance(59_999);
    assert.equal(await stateOf(c.tree, '/alice/proj/runs/train'), 'running', 'within the TTL');
    assert.equal(c.api.count('listRuns'), runsListed, 'no fetch within the TTL');
    c.clock.advance(1);
    // past the runs listing's TTL the cached path is not trusted: the lookup revalidates as before
    assert.equal(await stateOf(c.tree, '/alice/proj/runs/train'), 'running', 'stale answer at once');
    await c.tree.idle();
    assert.equal(c.api.count('listRuns'), runsListed + 1, 'exactly one background refresh');
    assert.equal(await stateOf(c.tree, '/alice/proj/runs/train'), 'finished', 'the re-stored listing');
  } finally {
    await c.done();
  }
});

test('refresh within the TTL shows new and drops vanished entries at cached paths', async () => {
  const c = await setup();
  try {
    assert.deepEqual(await names(c.tree, '/alice/proj/runs'), ['eval', 'train']);
    assert.deepEqual(await names(c.tree, '/alice/proj/runs/train/files/logs'), ['output.log']);
    assert.ok(await c.tree.lookup('/alice/proj/runs/eval'));
    const p = c.api.project_('alice', 'proj');
    p.runs = [runRecord('r1', 'train', 'running'), runRecord('r3', 'fresh')];
    p.files.set('r1', [{ name: 'logs/second.log', sizeBytes: 4, md5: null, updatedAt: null }]);

    await c.tree.refresh('/alice/proj/runs');
    assert.equal(c.tree.status().resolvedPaths, 0, 'storing the listing emptied the cache');
    assert.deepEqual(await names(c.tree, '/alice/proj/runs'), ['eval', 'fresh', 'train']);
    assert.ok(await c.tree.lookup('/alice/proj/runs/fresh'), 'a new run resolves');
    // a run leaves after two complete listings lack it (semantics.md), cached or not
    await c.tree.refresh('/alice/proj/runs');
    assert.deepEqual(await names(c.tree, '/alice/proj/runs'), ['fresh', 'train']);
    assert.equal(await c.tree.lookup('/alice/proj/runs/eval'), null, 'a dropped run no longer resolves');

    await c.tree.refresh('/alice/proj/runs/train');
    assert.deepEqual(await names(c.tree, '/alice/proj/runs/train/files/logs'), ['second.log']);
    assert.equal(await c.tree.lookup('/alice/proj/runs/train/files/logs/output.log'), null);
  } finally {
    await c.done();
  }
});

test('a cache far smaller than the tree still answers every path', async () => {
  const c = await setup(2);
  try {
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await names(c.tree, '/alice/proj/runs'), ['eval', 'train']);
      const log = await c.tree.lookup('/alice/proj/runs/train/files/logs/output.log');
      assert.equal(log?.kind, 'file');
      assert.equal(await c.tree.lookup('/alice/proj/runs/nope'), null);
      assert.ok((c.tree.status().resolvedPaths ?? 0) <= 2);
    }
  } finally {
    await c.done();
  }
});

test('listing runs/ resolves its entries: lookupCached answers each run until the store is written', async () => {
  const c = await setup();
  try {
    const train = '/alice/proj/runs/train';
    assert.equal(c.tree.lookupCached(train), undefined, 'nothing is in memory before a lookup');
    // the first listing stores what it fetched, which empties the cache: nothing is seeded yet
    assert.deepEqual(await names(c.tree, '/alice/proj/runs'), ['eval', 'train']);
    assert.deepEqual(await names(c.tree, '/alice/proj/runs'), ['eval', 'train']);
    const cached = c.tree.lookupCached(train);
    assert.ok(cached, 'the listing put its entries in memory: no lookup of the run was made');
    assert.equal(cached.xattrs['user.wandb.state'], 'running');
    assert.deepEqual(cached, await c.tree.lookup(train), 'the same node a lookup builds');
    assert.equal(c.tree.lookupCached('/alice/proj/runs//train'), undefined, 'another spelling is not cached');
    assert.equal((await c.tree.lookup('/alice/proj/runs//train'))?.kind, 'dir', 'but resolves');
    assert.equal(c.tree.lookupCached('/alice/proj/runs/nope'), undefined);

    // a write to the store (a refresh) drops them; so does the end of the listing's TTL
    await c.tree.refresh('/alice/proj/runs');
    assert.equal(c.tree.lookupCached(train), undefined, 'dropped by the write');
    await names(c.tree, '/alice/proj/runs');
    assert.ok(c.tree.lookupCached(train), 'seeded again by the next listing');
    c.clock.advance(60_000);
    assert.equal(c.tree.lookupCached(train), undefined, "not trusted past the listing's TTL");
  } finally {
    await c.done();
  }
});

test('a listing too large for a quarter of the cache is not put in it', async () => {
  const c = await setup(7);
  try {
    await names(c.tree, '/alice/proj/runs');
    await names(c.tree, '/alice/proj/runs');
    // 2 runs > 7 / 4: seeding them could push out the prefixes every lookup walks through
    assert.equal(c.tree.lookupCached('/alice/proj/runs/train'), undefined);
    assert.equal((await c.tree.lookup('/alice/proj/runs/train'))?.kind, 'dir');
  } finally {
    await c.done();
  }
});

test('runRows: every run without its record, which is read from the store when first used', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wandbfs-runrows-'));
  const db = openDb({ dir });
  try {
    const store = new MetaStore(db);
    const p = store.putProject({
      id: 'P1',
      name: 'proj',
      entityName: 'alice',
      description: null,
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: null,
    });
    const gen = store.beginPass('k', 0);
    const dirty = store.putRunsPage(
      p.pk,
      [runRecord('r1', 'train', 'running'), runRecord('r2', 'eval')],
      gen,
    );
    store.finishRuns(p.pk, gen, (n) => `k/${n}`, dirty);
    const rows = store.runRows(p.pk);
    assert.deepEqual(
      rows.map((r) => r.fsName),
      store.runs(p.pk),
    );
    // written under the rows already read: a record read with the listing would not see it
    db.prepare(`UPDATE runs SET record = json_set(record, '$.state', 'crashed') WHERE name = 'r1'`).run();
    assert.equal(rows.find((r) => r.name === 'r1')?.record.state, 'crashed', 'read on first use');
    const r2 = rows.find((r) => r.name === 'r2');
    assert.ok(r2);
    assert.equal(r2.state, store.runByName(p.pk, 'r2')?.state);
    db.prepare(`DELETE FROM runs WHERE name = 'r2'`).run();
    assert.throws(() => r2.record, /no longer stored/);
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
});
