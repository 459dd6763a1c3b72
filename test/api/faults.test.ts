import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { WandbApiClient } from '../../src/api/client.js';
import { OfflineError } from '../../src/api/connectivity.js';
import { RateLimitedError, TransientError } from '../../src/api/errors.js';
import type { FakeWandb } from '../fake-wandb/server.js';
import { startFakeWandb } from '../fake-wandb/server.js';
import { apiFor, collect, readRange } from './helpers.js';

/** Everything the API can tell about the demo fixture, as one comparable snapshot. */
async function snapshot(api: WandbApiClient, fake: FakeWandb): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const e of fake.fixture.entities) {
    for (const p of await collect(api.listProjects(e.name))) {
      const key = `${e.name}/${p.name}`;
      const runs = (await collect(api.listRuns(e.name, p.name))).map((r) => r.record);
      out[`${key}/runs`] = runs;
      for (const r of runs) {
        const files = await collect(api.listRunFiles(e.name, p.name, r.name));
        out[`${key}/${r.name}/files`] = files;
        for (const f of files) {
          const src = api.rangeSource(
            { kind: 'run-file', entity: e.name, project: p.name, run: r.name, name: f.name },
            f.name,
          );
          const bytes = await readRange(src, 0, f.sizeBytes);
          out[`${key}/${r.name}/${f.name}`] = createHash('md5').update(bytes).digest('base64');
        }
        out[`${key}/${r.name}/in`] = await collect(api.listRunArtifacts(e.name, p.name, r.name, 'input'));
      }
      for (const t of await collect(api.listArtifactTypes(e.name, p.name))) {
        for (const c of await collect(api.listCollections(e.name, p.name, t.name))) {
          const versions = await collect(api.listVersions(e.name, p.name, t.name, c.name));
          out[`${key}/${c.name}`] = versions;
          for (const v of versions) out[`${key}/${c.name}/${v.id}/manifest`] = await api.manifest(v.id);
        }
      }
      out[`${key}/sweeps`] = await collect(api.listSweeps(e.name, p.name));
    }
  }
  return out;
}

describe('retries against injected faults (demo fixture)', () => {
  let fake: FakeWandb;
  before(async () => {
    fake = await startFakeWandb({ fixture: 'demo' });
  });
  after(async () => fake.close());
  beforeEach(() => {
    fake.resetFaults();
    fake.resetCounters();
  });

  it('20% of GraphQL and storage requests failing (429/500/503/reset): same results as fault-free', async () => {
    const clean = apiFor(fake);
    const expected = await snapshot(clean, fake);
    clean.close();

    const api = apiFor(fake, {
      retry: { baseDelayMs: 1, maxDelayMs: 20, maxAttempts: 15, deadlineMs: 60_000 },
    });
    for (const f of [fake.faults.graphql, fake.faults.storage]) {
      f.rate429 = 0.05;
      f.retryAfterSec = 0;
      f.rate500 = 0.05;
      f.rate503 = 0.05;
      f.resetRate = 0.05;
    }
    fake.resetCounters();
    const got = await snapshot(api, fake);
    assert.deepEqual(got, expected);
    const s = fake.counters.statusCounts;
    assert.ok(
      (s['429'] ?? 0) > 0 && (s['500'] ?? 0) > 0 && (s['503'] ?? 0) > 0 && (s.reset ?? 0) > 0,
      JSON.stringify(s),
    );
    const stats = api.stats();
    assert.ok(stats.retries > 0);
    assert.ok(stats.rateLimited > 0 && stats.lastThrottleAtMs !== null);
    api.close();
  });

  it('Retry-After is honoured on GraphQL (elapsed >= Retry-After)', async () => {
    const api = apiFor(fake);
    fake.faults.graphql.rate429 = 1;
    fake.faults.graphql.retryAfterSec = 1;
    const t0 = Date.now();
    const done = api.viewer();
    while ((fake.counters.statusCounts['429'] ?? 0) < 1) await new Promise((r) => setTimeout(r, 5));
    fake.faults.graphql.rate429 = 0;
    const v = await done;
    const elapsed = Date.now() - t0;
    assert.equal(v.username, fake.fixture.viewer.username);
    assert.ok(elapsed >= 1000, `retried after ${elapsed} ms`);
    assert.equal(fake.counters.requests.graphql, 2);
    api.close();
  });

  it('Retry-After is honoured on storage too', async () => {
    const api = apiFor(fake);
    const run = [...fake.fixture.project('demo-user', 'mnist-classifier')!.runs][0]!;
    const f = [...run.files][0]!;
    const src = api.rangeSource(
      { kind: 'run-file', entity: 'demo-user', project: 'mnist-classifier', run: run.name, name: f.name },
      f.name,
    );
    fake.faults.storage.rate429 = 1;
    fake.faults.storage.retryAfterSec = 1;
    const t0 = Date.now();
    const done = readRange(src, 0, f.sizeBytes);
    while ((fake.counters.statusCounts['429'] ?? 0) < 1) await new Promise((r) => setTimeout(r, 5));
    fake.faults.storage.rate429 = 0;
    const bytes = await done;
    assert.equal(bytes.length, f.sizeBytes);
    assert.ok(Date.now() - t0 >= 1000);
    api.close();
  });

  it('persistent 429: RateLimitedError after maxAttempts requests', async () => {
    const api = apiFor(fake, {
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, deadlineMs: 10_000 },
    });
    fake.faults.graphql.rate429 = 1;
    fake.faults.graphql.retryAfterSec = 0;
    await assert.rejects(api.viewer(), (e) => e instanceof RateLimitedError && e.retryAfterMs === 0);
    assert.equal(fake.counters.requests.graphql, 3);
    api.close();
  });

  it('persistent 503 / resets: TransientError after maxAttempts requests', async () => {
    const api = apiFor(fake, {
      retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, deadlineMs: 10_000 },
    });
    fake.faults.graphql.rate503 = 1;
    await assert.rejects(api.viewer(), TransientError);
    assert.equal(fake.counters.requests.graphql, 4);
    fake.faults.graphql.rate503 = 0;
    fake.faults.graphql.resetRate = 1;
    await assert.rejects(api.viewer(), TransientError);
    assert.equal(fake.counters.requests.graphql, 8);
    api.close();
  });

  it('a slow server hits the per-request timeout and is retried', async () => {
    const api = apiFor(fake, {
      requestTimeoutMs: 100,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5, deadlineMs: 10_000 },
    });
    fake.faults.graphql.latencyMs = 400;
    await assert.rejects(api.viewer(), (e) => e instanceof TransientError && /timed out/.test(e.message));
    assert.equal(fake.counters.requests.graphql, 2);
    api.close();
  });

  it('the whole server going away fails fast (offline) and reconnects on its own', async () => {
    const api = apiFor(fake, {
      retry: { maxAttempts: 50, baseDelayMs: 20, maxDelayMs: 50, deadlineMs: 20_000 },
      minProbeIntervalMs: 50,
      maxProbeIntervalMs: 200,
    });
    await fake.stop();
    const t0 = Date.now();
    // Connection refused is "unreachable", not "slow": no retries into the void.
    await assert.rejects(api.viewer(), OfflineError);
    assert.ok(Date.now() - t0 < 2000, `offline failure took ${Date.now() - t0} ms`);
    assert.equal(api.connectivity.snapshot().state, 'offline');
    await assert.rejects(api.viewer(), OfflineError, 'while offline, nothing is sent');
    await fake.start();
    const back = await Promise.race([
      api.connectivity.whenOnline().then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 10_000)),
    ]);
    assert.ok(back, 'the reconnect probe noticed the server within 10 s');
    assert.equal((await api.viewer()).username, fake.fixture.viewer.username);
    api.close();
  });
});
