/**
 * Listings that stay right against a fake that behaves like api.wandb.ai (wandb-api.md §12b), through
 * a real mount: runs created while the runs listing pages, versions in PENDING/DELETED state, NaN in
 * summaries, a big sweep, and the node cap on runs pages.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LARGE_ENTITY, LARGE_PROJECT, largeRunName } from '../fake-wandb/fixtures/large.js';
import { HOSTILE_ENTITY, HOSTILE_PROJECT, HOSTILE_STRAY_ALIASES } from '../fake-wandb/fixtures/hostile.js';
import { startFakeWandb, type FakeWandb, type FakeWandbOptions } from '../fake-wandb/server.js';
import { assignNames, sanitizeSegment } from '../../src/meta/naming.js';
import { mountApp, type AppMount } from '../helpers/app-mount.js';
import { run } from '../helpers/mount.js';

const mountFake = (server: FakeWandb): Promise<AppMount> => mountApp(server, 'listings');

async function ls(path: string, timeoutMs = 120_000): Promise<string[]> {
  const r = await run('ls', ['-A', path], { timeoutMs });
  assert.equal(r.code, 0, `ls ${path}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

async function withMount(
  opts: FakeWandbOptions,
  fn: (server: FakeWandb, m: AppMount) => Promise<void>,
  prepare: (server: FakeWandb) => void = () => {},
): Promise<void> {
  const server = await startFakeWandb(opts);
  let m: AppMount | null = null;
  try {
    prepare(server);
    m = await mountFake(server);
    await fn(server, m);
  } finally {
    await m?.cleanup();
    await server.close();
  }
}

describe('demo fixture over a real mount', () => {
  // pages of 3 runs, so the 8 runs of mnist-classifier take 3 pages and runs can be created between
  let server: FakeWandb;
  let m: AppMount;
  const project = () => join(m.dir, 'demo-user', 'mnist-classifier');
  before(async () => {
    server = await startFakeWandb({ fixture: 'demo', maxPageSize: 3 });
    m = await mountFake(server);
  });
  after(async () => {
    await m?.cleanup();
    await server?.close();
  });

  it('a run created while runs/ pages appears, and no run is lost', async () => {
    const before = server.fixture.project('demo-user', 'mnist-classifier')!.runs.length;
    server.listing.insertRunsAfterPage('demo-user', 'mnist-classifier', 1, 2);
    const names = await ls(join(project(), 'runs'));
    assert.equal(server.listing.insertedRuns.length, 2, 'the fake created two runs after page 1');
    assert.equal(names.length, before + 2, names.join(', '));
    for (const r of server.listing.insertedRuns) {
      const live = server.fixture.run('demo-user', 'mnist-classifier', r)!;
      assert.ok(names.includes(live.displayName ?? r), `${r} listed`);
    }
    // every run present before the listing is still there, under the name naming.ts gives it
    const all = [...server.fixture.project('demo-user', 'mnist-classifier')!.runs];
    const expected = assignNames(
      all.map((r) => ({
        key: r.name,
        base: sanitizeSegment(r.displayName || r.name),
        disambiguator: r.name,
      })),
    );
    assert.deepEqual([...names].sort(), [...expected.values()].sort());
  });

  it('PENDING and DELETED versions never appear as vN/', async () => {
    const coll = server.fixture
      .project('demo-user', 'mnist-classifier')!
      .collections.find((c) => c.name === 'mnist-cnn')!;
    const states = coll.memberships.map((x) => server.fixture.artifact(x.artifactId)?.state);
    assert.deepEqual(states, ['COMMITTED', 'COMMITTED', 'COMMITTED', 'COMMITTED', 'DELETED', 'PENDING']);
    const names = await ls(join(project(), 'artifacts', 'mnist-cnn'));
    const versions = names.filter((n) => /^v\d+$/.test(n)).sort();
    assert.deepEqual(versions, ['v0', 'v1', 'v2', 'v3']);
    for (const v of ['v4', 'v5']) {
      const r = await run('stat', [join(project(), 'artifacts', 'mnist-cnn', v)]);
      assert.notEqual(r.code, 0, `${v} must not resolve`);
    }
  });

  it("a NaN summary keeps its other keys; metadata.json stays valid JSON with 'NaN'/'Infinity'", async () => {
    const r = await run('cat', [join(project(), 'runs', 'e5f6g7h8', 'metadata.json')]);
    assert.equal(r.code, 0, r.stderr);
    const meta = JSON.parse(r.stdout) as {
      summary: Record<string, unknown>;
      config: Record<string, unknown>;
    };
    assert.deepEqual(meta.summary, {
      _step: 200,
      accuracy: 0.98,
      best_val_loss: 'Infinity',
      loss: 'NaN',
      nested: { f1: 0.9, min_grad: '-Infinity' },
    });
    assert.equal(meta.config.grad_clip, 'Infinity');
    assert.equal(meta.config.min_lr, '-Infinity');
    assert.equal(meta.config.batch_size, 64);
    // the same file read by Python's json module: plain JSON, no NaN tokens
    const py = await run('python3', [
      '-c',
      'import json,sys; d=json.load(open(sys.argv[1])); print(d["summary"]["loss"])',
      join(project(), 'runs', 'e5f6g7h8', 'metadata.json'),
    ]);
    if (py.code !== 127) assert.equal(py.stdout.trim(), 'NaN');
  });
});

describe('large fixture over a real mount', () => {
  it('a sweep of 1,000 runs lists completely, read through project.runs filtered by sweep', async () => {
    await withMount({ fixture: 'large' }, async (server, m) => {
      const sweepDir = join(m.dir, LARGE_ENTITY, LARGE_PROJECT, 'sweeps');
      const sweeps = await ls(sweepDir);
      assert.deepEqual(sweeps, ['big sweep']);
      const names = await ls(join(sweepDir, 'big sweep', 'runs'), 300_000);
      assert.equal(names.length, 1000);
      assert.ok(names.includes('run-0') && names.includes('run-9990'));
      assert.equal(server.counters.graphqlOps.SweepRuns, 10, '1,000 runs in pages of 100');
      assert.equal(server.pageWeightStats.capHits, 0);
    });
  });

  it('walking runs/ and run directories never hits the node cap, even with runs of 100+ files', async () => {
    await withMount(
      { fixture: 'large' },
      async (server, m) => {
        const runs = join(m.dir, LARGE_ENTITY, LARGE_PROJECT, 'runs');
        const names = await ls(runs, 300_000);
        assert.equal(names.length, 10_000);
        assert.equal(server.counters.graphqlOps.ProjectRuns, 100, '100 runs a page');
        // a run whose 10 files came inline, and a run of 130 files whose inline page was partial
        assert.equal((await ls(join(runs, 'run-123', 'files'))).length > 0, true);
        const big = await run('find', [join(runs, 'run-0', 'files'), '-type', 'f'], { timeoutMs: 120_000 });
        assert.equal(big.code, 0, big.stderr);
        assert.equal(big.stdout.split('\n').filter(Boolean).length, 130);
        assert.equal(server.pageWeightStats.capHits, 0, 'no response over the node cap');
        assert.ok(
          server.pageWeightStats.largestResponse <= 5000,
          `largest response ${server.pageWeightStats.largestResponse} nodes`,
        );
      },
      (server) => {
        // the first 60 runs get 120 more files each: an old-style page (50 runs x 100 files) is over the cap
        for (let i = 0; i < 60; i++)
          for (let j = 0; j < 120; j++)
            server.fixture.addRunFile(LARGE_ENTITY, LARGE_PROJECT, largeRunName(i), {
              name: `media/extra/f${j}.bin`,
              sizeBytes: 3,
              seed: j,
            });
      },
    );
  });
});

it('hostile: aliases whose collection or project is null are not shown', async () => {
  await withMount({ fixture: 'hostile' }, async (_server, m) => {
    const names = await ls(join(m.dir, HOSTILE_ENTITY, HOSTILE_PROJECT, 'artifacts', 'weird'));
    assert.ok(names.includes('v0') && names.includes('latest'), names.join(', '));
    for (const stray of HOSTILE_STRAY_ALIASES) assert.ok(!names.includes(stray.alias), stray.alias);
  });
});
