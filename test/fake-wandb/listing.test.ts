/**
 * The real-server listing behaviours the fake reproduces (wandb-api.md §12b): offset cursors in a
 * newest-first default order, runs created mid-listing, run filters, artifact states, extended JSON,
 * page weight and the node cap, aliases without collection or project.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HOSTILE_ENTITY, HOSTILE_PROJECT, HOSTILE_STRAY_ALIASES } from './fixtures/hostile.js';
import { LARGE_ENTITY, LARGE_PROJECT, largeRunName } from './fixtures/large.js';
import { countNodes } from './page-weight.js';
import { startFakeWandb, type FakeWandb } from './server.js';
import { gql, gqlData } from './test-client.js';

const E = 'demo-user';
const P = 'mnist-classifier';

interface RunsPage {
  project: {
    runs: {
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
      edges: { node: { name: string } }[];
    };
  };
}

/** Pages through a project's runs the way a client does, with or without an order argument. */
async function pageRuns(s: FakeWandb, order: string | null, first: number): Promise<string[]> {
  const names: string[] = [];
  let after: string | null = null;
  for (;;) {
    const d: RunsPage = await gqlData<RunsPage>(
      s,
      `query($a: String, $o: String, $f: Int) { project(name: "${P}", entityName: "${E}") {
        runs(first: $f, after: $a, order: $o) { pageInfo { hasNextPage endCursor } edges { node { name } } } } }`,
      { a: after, o: order, f: first },
    );
    names.push(...d.project.runs.edges.map((e) => e.node.name));
    if (!d.project.runs.pageInfo.hasNextPage) return names;
    after = d.project.runs.pageInfo.endCursor;
  }
}

describe('runs listings (demo)', () => {
  let s: FakeWandb;
  before(async () => {
    s = await startFakeWandb({ fixture: 'demo' });
  });
  after(async () => s.close());

  it('lists newest first without order; +created_at oldest first; -created_at newest first', async () => {
    const byCreation = [...s.fixture.project(E, P)!.runs].map((r) => r.name);
    assert.deepEqual(await pageRuns(s, null, 3), [...byCreation].reverse());
    assert.deepEqual(await pageRuns(s, '+created_at', 3), byCreation);
    assert.deepEqual(await pageRuns(s, '-created_at', 3), [...byCreation].reverse());
  });

  it('a client that sends no order misses runs created while it pages, and sees others twice', async () => {
    s.listing.insertRunsAfterPage(E, P, 1, 2);
    const seen = await pageRuns(s, null, 3);
    const inserted = [...s.listing.insertedRuns];
    assert.equal(inserted.length, 2, 'the hook created two runs after the first page');
    for (const name of inserted) assert.ok(!seen.includes(name), `${name} was skipped`);
    assert.equal(seen.length - new Set(seen).size, 2, 'the two shifted runs came twice');
    s.resetFaults();
  });

  it('with +created_at the runs created mid-listing come last and none is lost', async () => {
    s.listing.insertRunsAfterPage(E, P, 1, 2);
    const seen = await pageRuns(s, '+created_at', 3);
    const all = [...s.fixture.project(E, P)!.runs].map((r) => r.name);
    assert.deepEqual(seen, all);
    assert.deepEqual(seen.slice(-2), s.listing.insertedRuns);
    s.resetFaults();
  });

  it('filters: {"name": x}, {"name": {"$in": [...]}}, {"$and": [{"sweep": s}]}', async () => {
    const q = async (filters: unknown): Promise<string[]> => {
      const d = await gqlData<RunsPage>(
        s,
        `query($f: JSONString) { project(name: "${P}", entityName: "${E}") {
          runs(filters: $f, order: "+created_at") { pageInfo { hasNextPage endCursor } edges { node { name } } } } }`,
        { f: JSON.stringify(filters) },
      );
      return d.project.runs.edges.map((e) => e.node.name);
    };
    assert.deepEqual(await q({ name: 'e5f6g7h8' }), ['e5f6g7h8']);
    assert.deepEqual(await q({ name: { $in: ['q7r8s9t0', 'a1b2c3d4', 'nope'] } }), ['a1b2c3d4', 'q7r8s9t0']);
    assert.deepEqual(await q({ $and: [{ sweep: 'abc123xy' }] }), ['sw1run01', 'sw1run02', 'sw1run03']);
  });

  it('summaryMetrics and config are extended JSON: bare NaN and ±Infinity', async () => {
    const d = await gqlData<{ project: { run: { summaryMetrics: string; config: string } } }>(
      s,
      `{ project(name: "${P}", entityName: "${E}") { run(name: "e5f6g7h8") { summaryMetrics config } } }`,
    );
    const { summaryMetrics, config } = d.project.run;
    assert.match(summaryMetrics, /"loss":NaN/);
    assert.match(summaryMetrics, /"best_val_loss":Infinity/);
    assert.match(summaryMetrics, /"min_grad":-Infinity/);
    assert.match(config, /"grad_clip":\{"desc":null,"value":Infinity\}/);
    assert.throws(() => JSON.parse(summaryMetrics), 'plain JSON cannot read it');
  });

  it('artifact versions in every state unless filtered by state', async () => {
    type Versions = { edges: { version: string; node: { state: string } }[] };
    const d = await gqlData<{ project: { artifactCollection: Record<string, Versions> } }>(
      s,
      `query($c: JSONString, $n: JSONString) { project(name: "${P}", entityName: "${E}") {
        artifactCollection(name: "mnist-cnn") {
          all: artifacts { edges { version node { state } } }
          committed: artifacts(filters: $c) { edges { version node { state } } }
          notCommitted: artifacts(filters: $n) { edges { version node { state } } } } } }`,
      {
        c: JSON.stringify({ state: 'COMMITTED' }),
        n: JSON.stringify({ state: { $in: ['PENDING', 'DELETED'] } }),
      },
    );
    const c = d.project.artifactCollection;
    const pairs = (v: Versions | undefined) => v?.edges.map((e) => `${e.version}:${e.node.state}`);
    assert.deepEqual(pairs(c.all), [
      'v5:PENDING',
      'v4:DELETED',
      'v3:COMMITTED',
      'v2:COMMITTED',
      'v1:COMMITTED',
      'v0:COMMITTED',
    ]);
    assert.deepEqual(pairs(c.committed), ['v3:COMMITTED', 'v2:COMMITTED', 'v1:COMMITTED', 'v0:COMMITTED']);
    assert.deepEqual(pairs(c.notCommitted), ['v5:PENDING', 'v4:DELETED']);
    const bad = await gql(
      s,
      `{ project(name: "${P}", entityName: "${E}") { artifactCollection(name: "mnist-cnn") {
        artifacts(filters: "{\\"size\\": 1}") { edges { version } } } } }`,
    );
    assert.match(bad.errors?.[0]?.message ?? '', /unsupported artifact filter key: size/);
  });
});

describe('page weight', () => {
  let s: FakeWandb;
  before(async () => {
    s = await startFakeWandb({ fixture: 'large' });
  });
  after(async () => s.close());

  const heavy = (runs: number, files: number) =>
    `{ project(name: "${LARGE_PROJECT}", entityName: "${LARGE_ENTITY}") {
      runs(first: ${runs}, order: "+created_at") { edges { node { name files(first: ${files}) { edges { node { name } } } } } } } }`;

  it('counts connection edges at every depth', () => {
    assert.equal(countNodes({ a: { edges: [{ node: { b: { edges: [1, 2] } } }, {}] } }), 4);
  });

  it('answers a response over the cap with a "too expensive" error, and counts it', async () => {
    s.resetCounters();
    s.pageWeight.maxNodesPerResponse = 500;
    try {
      const ok = await gql(s, heavy(45, 10)); // 45 + 450 nodes
      assert.equal(ok.errors, undefined);
      const refused = await gql(s, heavy(50, 10)); // 50 + 500 nodes
      assert.equal(refused.status, 200);
      assert.equal(refused.data, null);
      assert.match(refused.errors?.[0]?.message ?? '', /too expensive.*550 nodes.*500/);
      assert.equal(s.pageWeightStats.capHits, 1);
      assert.equal(s.pageWeightStats.largestResponse, 550);
    } finally {
      s.resetFaults();
    }
  });

  it('response time grows with the nodes returned (perNodeMs)', async () => {
    s.pageWeight.perNodeMs = 2;
    try {
      const t0 = performance.now();
      await gqlData(s, heavy(1, 1)); // 2 nodes: ~4 ms
      const light = performance.now() - t0;
      const t1 = performance.now();
      await gqlData(s, heavy(40, 10)); // 440 nodes: ~880 ms
      const weighty = performance.now() - t1;
      assert.ok(weighty >= 880, `440 nodes took ${weighty} ms`);
      assert.ok(weighty > light + 500, `${weighty} ms vs ${light} ms`);
    } finally {
      s.resetFaults();
    }
  });

  it('the default cap refuses 50 runs with 100 files each inline (what the old client asked)', async () => {
    const r = await gql(s, heavy(50, 100));
    // the large fixture has 10 files per run: 550 nodes, under the cap whatever was asked
    assert.equal(r.errors, undefined);
    const p = s.fixture.project(LARGE_ENTITY, LARGE_PROJECT)!;
    for (let i = 0; i < 50; i++) {
      for (let j = 0; j < 100; j++)
        s.fixture.addRunFile(LARGE_ENTITY, LARGE_PROJECT, largeRunName(i), {
          name: `extra/f${j}.bin`,
          sizeBytes: 1,
          seed: j,
        });
    }
    assert.equal(p.runs.at(0)?.files.length, 110);
    const refused = await gql(s, heavy(50, 100)); // 50 + 5000 nodes
    assert.match(refused.errors?.[0]?.message ?? '', /too expensive/);
  });

  it('Sweep.runs of a big sweep times out; the knob turns it off', async () => {
    const q = `{ project(name: "${LARGE_PROJECT}", entityName: "${LARGE_ENTITY}") {
      sweep(sweepName: "lg5weep1") { runs(first: 1) { edges { node { name } } } } } }`;
    assert.match((await gql(s, q)).errors?.[0]?.message ?? '', /timed out/);
    s.listing.sweepRunsTimeoutAbove = null;
    try {
      assert.equal((await gql(s, q)).errors, undefined);
    } finally {
      s.resetFaults();
    }
  });
});

it('hostile: Artifact.aliases holds aliases with a null collection or a collection without project', async () => {
  const s = await startFakeWandb({ fixture: 'hostile' });
  try {
    const d = await gqlData<{
      project: {
        artifact: { aliases: { alias: string; artifactCollection: { project: unknown } | null }[] };
      };
    }>(
      s,
      `{ project(name: "${HOSTILE_PROJECT}", entityName: "${HOSTILE_ENTITY}") { artifact(name: "weird:v0") {
        aliases { alias artifactCollection { name project { name } } } } } }`,
    );
    const byName = new Map(d.project.artifact.aliases.map((a) => [a.alias, a]));
    for (const stray of HOSTILE_STRAY_ALIASES) {
      const a = byName.get(stray.alias);
      assert.ok(a, stray.alias);
      if (stray.missing === 'collection') assert.equal(a.artifactCollection, null);
      else assert.equal(a.artifactCollection?.project, null);
    }
    assert.ok(byName.get('latest')?.artifactCollection?.project);
  } finally {
    await s.close();
  }
});
