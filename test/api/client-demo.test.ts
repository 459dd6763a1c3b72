import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuthError, NotFoundError } from '../../src/api/errors.js';
import type { FakeWandb } from '../fake-wandb/server.js';
import { startFakeWandb } from '../fake-wandb/server.js';
import type { WandbApiClient } from '../../src/api/client.js';
import { apiFor, collect, plainJson, unwrapFixtureConfig } from './helpers.js';

describe('WandbApi against the fake server (demo fixture)', () => {
  let fake: FakeWandb;
  let api: WandbApiClient;
  before(async () => {
    fake = await startFakeWandb({ fixture: 'demo' });
    api = apiFor(fake, { pageSize: 2 }); // tiny pages: every listing below spans several requests
  });
  after(async () => {
    api.close();
    await fake.close();
  });

  it('viewer, entities and projects match the fixture', async () => {
    const fx = fake.fixture;
    assert.deepEqual(await api.viewer(), {
      id: fx.viewer.id,
      username: fx.viewer.username,
      entity: fx.viewer.entity,
      teams: fx.viewer.teams,
      orgEntities: fx.organizations.map((o) => o.orgEntity),
    });
    for (const e of fx.entities) {
      const rec = await api.entity(e.name);
      assert.equal(rec?.isTeam, e.isTeam);
      const projects = await collect(api.listProjects(e.name));
      assert.deepEqual(projects.map((p) => p.name).sort(), e.projects.map((p) => p.name).sort());
      for (const p of projects) assert.equal(p.entityName, e.name);
    }
    assert.equal(await api.entity('no-such-entity'), null);
    assert.equal(await api.project('demo-user', 'no-such-project'), null);
    assert.equal((await api.project('demo-user', 'mnist-classifier'))?.name, 'mnist-classifier');
  });

  it('runs: every run, config unwrapped, summary parsed, files with md5', async () => {
    const p = fake.fixture.project('demo-user', 'mnist-classifier')!;
    const listed = await collect(api.listRuns('demo-user', 'mnist-classifier'));
    const runs = listed.map((r) => r.record);
    assert.equal(runs.length, p.runs.length);
    for (const [i, r] of runs.entries()) {
      const fxRun = p.runs.get(r.name)!;
      assert.ok(fxRun, r.name);
      assert.deepEqual(r.config, plainJson(unwrapFixtureConfig(fxRun.config)));
      assert.deepEqual(r.summary, plainJson(fxRun.summary));
      assert.equal(r.state, fxRun.state);
      assert.deepEqual(r.tags, fxRun.tags);
      assert.equal(r.displayName, fxRun.displayName);
      const files = await collect(api.listRunFiles('demo-user', 'mnist-classifier', r.name));
      assert.deepEqual(
        files.map((f) => [f.name, f.sizeBytes, f.md5]),
        [...fxRun.files].map((f) => [f.name, f.sizeBytes, f.md5B64]),
      );
      // the runs page carries the first page (pageSize 2) of files and artifacts of each run
      const inline = listed[i]!;
      assert.deepEqual(inline.files, { items: files.slice(0, 2), complete: files.length <= 2 });
      for (const d of ['input', 'output'] as const) {
        const links = await collect(api.listRunArtifacts('demo-user', 'mnist-classifier', r.name, d));
        const page = d === 'input' ? inline.inputArtifacts : inline.outputArtifacts;
        assert.deepEqual(page, { items: links.slice(0, 2), complete: links.length <= 2 }, `${r.name} ${d}`);
      }
    }
    const one = await api.run('demo-user', 'mnist-classifier', runs[0]!.name);
    assert.deepEqual(one, runs[0]);
    assert.equal(await api.run('demo-user', 'mnist-classifier', 'nope1234'), null);
  });

  it('a listing under a missing parent is NotFoundError', async () => {
    await assert.rejects(collect(api.listRuns('demo-user', 'no-such-project')), NotFoundError);
    await assert.rejects(
      collect(api.listRunFiles('demo-user', 'mnist-classifier', 'nope1234')),
      NotFoundError,
    );
    await assert.rejects(
      collect(api.listVersions('demo-user', 'mnist-classifier', 'model', 'nope')),
      NotFoundError,
    );
  });

  it('artifact types, collections (sequence and portfolio), versions with scoped aliases', async () => {
    for (const e of fake.fixture.entities) {
      for (const p of e.projects) {
        const types = await collect(api.listArtifactTypes(e.name, p.name));
        for (const t of types) {
          const colls = await collect(api.listCollections(e.name, p.name, t.name));
          const expected = p.collections.filter((c) => c.typeName === t.name);
          assert.deepEqual(
            colls.map((c) => [c.name, c.kind]).sort(),
            expected.map((c) => [c.name, c.kind]).sort(),
          );
          for (const c of expected) {
            const versions = await collect(api.listVersions(e.name, p.name, t.name, c.name));
            // PENDING and DELETED versions are never listed
            const committed = c.memberships.filter(
              (m) => fake.fixture.artifact(m.artifactId)?.state === 'COMMITTED',
            );
            assert.ok(committed.length < c.memberships.length || c.name !== 'mnist-cnn');
            assert.equal(versions.length, committed.length);
            for (const m of committed) {
              const v = versions.find((x) => x.versionIndex === m.versionIndex);
              assert.ok(v, `${c.name}:v${m.versionIndex}`);
              assert.equal(v.id, m.artifactId);
              assert.deepEqual(v.aliases.sort(), [...m.aliases].sort(), `${c.name}:v${m.versionIndex}`);
              assert.equal(v.collectionName, c.name);
              assert.equal(v.projectName, p.name);
              assert.equal(v.typeName, t.name);
            }
          }
        }
      }
    }
  });

  it('the portfolio numbers versions by membership, not by source sequence', async () => {
    const reg = fake.fixture.project('demo-user', 'model-registry')!;
    const portfolio = reg.collections.find((c) => c.kind === 'portfolio')!;
    const versions = await collect(
      api.listVersions('demo-user', 'model-registry', portfolio.typeName, portfolio.name),
    );
    const linked = versions.find((v) => v.aliases.includes('production'));
    assert.ok(linked);
    const art = fake.fixture.artifact(linked.id)!;
    assert.notEqual(art.projectName, 'model-registry');
    assert.equal(
      linked.versionIndex,
      portfolio.memberships.find((m) => m.artifactId === linked.id)!.versionIndex,
    );
  });

  it('run input/output artifacts are described in their source sequence', async () => {
    const p = fake.fixture.project('demo-user', 'mnist-classifier')!;
    let seen = 0;
    for (const run of p.runs) {
      const inputs = await collect(api.listRunArtifacts('demo-user', p.name, run.name, 'input'));
      assert.deepEqual(
        inputs.map((l) => l.version.id).sort(),
        run.inputArtifacts.map((a) => a.artifactId).sort(),
      );
      const outputs = await collect(api.listRunArtifacts('demo-user', p.name, run.name, 'output'));
      assert.deepEqual(outputs.map((l) => l.version.id).sort(), [...run.outputArtifactIds].sort());
      for (const link of [...inputs, ...outputs]) {
        seen++;
        const art = fake.fixture.artifact(link.version.id)!;
        assert.equal(link.version.collectionName, art.sequenceName);
        assert.equal(link.version.projectName, art.projectName);
        assert.equal(link.version.entityName, art.entityName);
        assert.equal(link.version.versionIndex, art.versionIndex);
        if (link.direction === 'input') {
          const fxLink = run.inputArtifacts.find((a) => a.artifactId === link.version.id)!;
          assert.deepEqual(link.usedAs, fxLink.usedAs);
        }
      }
    }
    assert.ok(seen > 0, 'the fixture has run artifact links');
  });

  it('manifests list every entry, references kept with ref set', async () => {
    const p = fake.fixture.project('demo-user', 'mnist-classifier')!;
    let refs = 0;
    for (const c of p.collections) {
      for (const m of c.memberships) {
        const art = fake.fixture.artifact(m.artifactId)!;
        const manifest = await api.manifest(art.id);
        assert.deepEqual(manifest.rejected, []);
        assert.deepEqual(
          manifest.entries.map((e) => [e.path, e.digest, e.sizeBytes, e.ref]).sort(),
          art.entries.map((e) => [e.path, e.digest, e.size, e.ref]).sort(),
        );
        refs += manifest.entries.filter((e) => e.ref !== null).length;
      }
    }
    assert.ok(refs > 0, 'the demo fixture has a reference entry');
    await assert.rejects(api.manifest('QXJ0aWZhY3Q6OTk5OTk='), NotFoundError);
  });

  it('sweeps and their run names', async () => {
    const p = fake.fixture.project('demo-user', 'mnist-classifier')!;
    const sweeps = await collect(api.listSweeps('demo-user', p.name));
    assert.deepEqual(sweeps.map((s) => s.name).sort(), p.sweeps.map((s) => s.name).sort());
    for (const s of p.sweeps) {
      const rec = sweeps.find((x) => x.name === s.name)!;
      assert.equal(rec.state, s.state);
      assert.equal(rec.config, s.config);
      const names = await collect(api.listSweepRunNames('demo-user', p.name, s.name));
      const existing = s.runNames.filter((n) => p.runs.get(n) !== undefined);
      assert.deepEqual(names.sort(), existing.sort());
    }
  });

  it('a wrong key is AuthError after exactly one request (401 is never retried)', async () => {
    const bad = apiFor(fake, { apiKey: 'local-wrongwrongwrongwrongwrongwrongwrong000' });
    fake.resetCounters();
    await assert.rejects(bad.viewer(), AuthError);
    await assert.rejects(collect(bad.listRuns('demo-user', 'mnist-classifier')), AuthError);
    assert.equal(fake.counters.requests.graphql, 2);
    assert.equal(bad.stats().retries, 0);
    bad.close();
  });

  it('HTTP 404 from the endpoint is NotFoundError after one request', async () => {
    const wrong = apiFor(fake, { baseUrl: `${fake.url}/not-wandb` });
    fake.resetCounters();
    await assert.rejects(wrong.viewer(), NotFoundError);
    assert.equal(fake.counters.requests.other, 1);
    wrong.close();
  });
});
