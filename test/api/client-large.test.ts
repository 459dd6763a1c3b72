import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  LARGE_ENTITY,
  LARGE_PROJECT,
  LARGE_RUNS,
  LARGE_SWEEP,
  largeRunName,
} from '../fake-wandb/fixtures/large.js';
import type { FakeWandb } from '../fake-wandb/server.js';
import { startFakeWandb } from '../fake-wandb/server.js';
import { apiFor, collect } from './helpers.js';

describe('pagination and concurrency (large fixture)', () => {
  let fake: FakeWandb;
  before(async () => {
    fake = await startFakeWandb({ fixture: 'large', maxPageSize: 100 });
  });
  after(async () => fake.close());

  it('lists all 10,000 runs, no cap, no duplicates', async () => {
    const api = apiFor(fake);
    fake.resetCounters();
    const listed = await collect(api.listRuns(LARGE_ENTITY, LARGE_PROJECT));
    const runs = listed.map((r) => r.record);
    assert.equal(runs.length, LARGE_RUNS);
    const names = new Set(runs.map((r) => r.name));
    assert.equal(names.size, LARGE_RUNS);
    for (let i = 0; i < LARGE_RUNS; i += 997) assert.ok(names.has(largeRunName(i)), largeRunName(i));
    // 100 runs a page, each carrying its first files and artifacts
    assert.equal(fake.counters.graphqlOps.ProjectRuns, LARGE_RUNS / 100);
    assert.equal(fake.pageWeightStats.capHits, 0);
    assert.equal(fake.counters.graphqlOps.RunFiles, undefined, 'no per-run file listing');
    for (const r of listed) {
      assert.equal(r.files?.complete, true, r.record.name);
      assert.equal(r.files?.items.length, 10);
    }
    const r7 = runs.find((r) => r.name === largeRunName(7))!;
    assert.deepEqual(r7.config, { index: 7, lr: 1 / 8, batch_size: 64 });
    api.close();
  });

  it('a page size above the server maximum still reaches the end (server clamps, we follow cursors)', async () => {
    const api = apiFor(fake, { pageSize: 1000, runsPageSize: 1000 });
    const runs = await collect(api.listRuns(LARGE_ENTITY, LARGE_PROJECT));
    assert.equal(runs.length, LARGE_RUNS);
    const projects = await collect(api.listProjects('many-projects-team'));
    assert.equal(projects.length, 250);
    const versions = await collect(api.listVersions(LARGE_ENTITY, LARGE_PROJECT, 'dataset', 'shards'));
    assert.deepEqual(
      versions.map((v) => v.versionIndex).sort((a, b) => a - b),
      Array.from({ length: 150 }, (_, i) => i),
    );
    const sweepRuns = await collect(api.listSweepRunNames(LARGE_ENTITY, LARGE_PROJECT, LARGE_SWEEP));
    assert.equal(sweepRuns.length, LARGE_RUNS / 10);
    api.close();
  });

  it('a burst of 1,000 listing calls never has more than the GraphQL limit in flight', async () => {
    const limit = 6;
    const api = apiFor(fake, { graphqlConcurrency: limit });
    fake.faults.graphql.latencyMs = 5; // keeps requests overlapping so the cap is what bounds them
    fake.resetCounters();
    try {
      const counts = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          collect(api.listRunFiles(LARGE_ENTITY, LARGE_PROJECT, largeRunName(i))),
        ),
      );
      assert.ok(counts.every((files) => files.length === 10));
      assert.equal(fake.counters.graphqlOps.RunFiles, 1000);
      assert.ok(
        fake.counters.maxInFlight.graphql <= limit,
        `max in flight ${fake.counters.maxInFlight.graphql}`,
      );
      assert.equal(fake.counters.maxInFlight.graphql, limit, 'the limit was actually reached');
      assert.equal(api.stats().graphqlRequests, 1000);
    } finally {
      fake.resetFaults();
      api.close();
    }
  });
});
