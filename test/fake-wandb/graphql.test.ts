import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  Kind,
  parse,
  type GraphQLNamedType,
} from 'graphql';
import { packageRoot } from '../../src/core/package-root.js';
import { manifestDigestHex } from './fixture-base.js';
import { schemaPath } from './graphql-route.js';
import { startFakeWandb, type FakeWandb } from './server.js';
import { gql, gqlData } from './test-client.js';

const SHARED = join(packageRoot(), '..', 'shared', 'reference');
const E = 'demo-user';
const P = 'mnist-classifier';

let s: FakeWandb;
before(async () => {
  s = await startFakeWandb({ fixture: 'demo' });
});
after(async () => {
  await s.close();
});

function describeFields(t: GraphQLNamedType): Map<string, string> {
  const out = new Map<string, string>();
  if (isObjectType(t) || isInterfaceType(t)) {
    for (const f of Object.values(t.getFields())) {
      out.set(f.name, String(f.type));
      for (const a of f.args) out.set(`${f.name}(${a.name})`, String(a.type));
    }
  } else if (isInputObjectType(t)) {
    for (const f of Object.values(t.getFields())) out.set(f.name, String(f.type));
  } else if (isEnumType(t)) {
    for (const v of t.getValues()) out.set(v.name, 'enum value');
  } else if (isUnionType(t)) {
    for (const m of t.getTypes()) out.set(m.name, 'member');
  }
  if (isObjectType(t) || isInterfaceType(t))
    for (const i of t.getInterfaces()) out.set(`implements ${i.name}`, '');
  return out;
}

test('the SDL is a strict subset of ../shared/reference/wandb-schema.graphql', (t) => {
  const refPath = join(SHARED, 'wandb-schema.graphql');
  if (!existsSync(refPath)) {
    t.diagnostic('skipped: ../shared absent');
    return;
  }
  const ours = buildSchema(readFileSync(schemaPath(), 'utf8'));
  const ref = buildSchema(readFileSync(refPath, 'utf8'));
  let compared = 0;
  for (const [name, type] of Object.entries(ours.getTypeMap())) {
    if (name.startsWith('__')) continue;
    const refType = ref.getType(name);
    assert.ok(refType, `type ${name} is not in the reference schema`);
    assert.equal(type.constructor.name, refType.constructor.name, `kind of ${name}`);
    const refFields = describeFields(refType);
    for (const [field, sig] of describeFields(type)) {
      assert.ok(refFields.has(field), `${name}.${field} is not in the reference schema`);
      assert.equal(sig, refFields.get(field), `${name}.${field} type/nullability differs`);
      compared++;
    }
  }
  assert.ok(compared > 300, `compared only ${compared} fields`);
});

test('every sample query executes against demo without errors', async (t) => {
  const path = join(SHARED, 'wandb-sample-queries.graphql');
  if (!existsSync(path)) {
    t.diagnostic('skipped: ../shared absent');
    return;
  }
  const source = readFileSync(path, 'utf8');
  const ops = parse(source).definitions.flatMap((d) =>
    d.kind === Kind.OPERATION_DEFINITION && d.name ? [d.name.value] : [],
  );
  assert.ok(ops.length >= 12);
  const seq = s.fixture.project(E, P)?.collections.find((c) => c.name === 'mnist-cnn');
  const artifactId = seq?.memberships[1]?.artifactId;
  assert.ok(artifactId);
  const vars = {
    entity: E,
    project: P,
    run: 'a1b2c3d4',
    type: 'model',
    collection: 'mnist-cnn',
    name: 'mnist-cnn:best',
    id: artifactId,
  };
  for (const op of ops) {
    const r = await gql(s, source, vars, op);
    assert.equal(r.status, 200, op);
    assert.equal(r.errors, undefined, `${op}: ${JSON.stringify(r.errors)}`);
    assert.ok(r.data !== null && Object.values(r.data).some((v) => v !== null), `${op} returned only nulls`);
  }
  assert.equal(s.counters.graphqlOps.Viewer, 1);
});

test('missing objects are null, not errors; unknown fields are graphql-js validation errors', async () => {
  const d = await gqlData<Record<string, unknown>>(
    s,
    `{ entity(name: "nobody") { name } project(name: "nope", entityName: "demo-user") { name }
       p: project(name: "mnist-classifier", entityName: "demo-user") { run(name: "zzzz") { name } sweep(sweepName: "zz") { name }
         artifact(name: "mnist-cnn:nope") { id } bare: artifact(name: "mnist-cnn") { id } artifactType(name: "x") { name } }
       artifact(id: "QXJ0aWZhY3Q6OTk5") { id } }`,
  );
  assert.deepEqual(d, {
    entity: null,
    project: null,
    p: { run: null, sweep: null, artifact: null, bare: null, artifactType: null },
    artifact: null,
  });
  const r = await gql(s, '{ serverInfo { nope } }');
  assert.equal(r.errors?.[0]?.message, 'Cannot query field "nope" on type "ServerInfo".');
});

test('runs: JSONString config in W&B wrapping, lowercase states, awkward display names', async () => {
  const d = await gqlData<{
    project: {
      runs: {
        edges: {
          node: { name: string; displayName: string; state: string; config: string; summaryMetrics: string };
        }[];
      };
    };
  }>(
    s,
    `{ project(name: "${P}", entityName: "${E}") { runs(first: 50) { edges { node { name displayName state config summaryMetrics } } } } }`,
  );
  const runs = d.project.runs.edges.map((e) => e.node);
  assert.equal(runs.length, 8);
  const base = runs.find((r) => r.name === 'a1b2c3d4');
  assert.ok(base);
  assert.equal(typeof base.config, 'string');
  const cfg = JSON.parse(base.config) as Record<string, { value: unknown }>;
  assert.equal(cfg.batch_size?.value, 64);
  assert.equal((JSON.parse(base.summaryMetrics) as { nested: { f1: number } }).nested.f1, 0.9);
  assert.deepEqual(new Set(runs.map((r) => r.state)), new Set(['finished', 'crashed', 'failed', 'running']));
  assert.equal(runs.filter((r) => r.displayName === 'baseline').length, 2);
  assert.ok(runs.some((r) => r.displayName.includes('/')));
  assert.ok(runs.some((r) => [...r.displayName].some((ch) => (ch.codePointAt(0) ?? 0) > 0x7f)));
  assert.ok(runs.some((r) => Buffer.byteLength(r.displayName) === 300));
});

test('run filters, order and sweep runs', async () => {
  const d = await gqlData<{
    project: {
      finished: { totalCount: number; edges: { node: { state: string } }[] };
      newest: { edges: { node: { name: string } }[] };
      swept: { edges: { node: { name: string } }[] };
      sweep: {
        state: string;
        config: string;
        runCount: number;
        runs: { edges: { node: { sweepName: string } }[] };
      };
      runCount: number;
    };
  }>(
    s,
    `query($f: JSONString, $sw: JSONString) { project(name: "${P}", entityName: "${E}") {
      runCount(filters: $f)
      finished: runs(filters: $f) { totalCount edges { node { state } } }
      newest: runs(first: 1, order: "-created_at") { edges { node { name } } }
      swept: runs(filters: $sw, order: "+created_at") { edges { node { name } } }
      sweep(sweepName: "abc123xy") { state config runCount runs(first: 10) { edges { node { sweepName } } } } } }`,
    { f: JSON.stringify({ state: 'finished' }), sw: JSON.stringify({ $and: [{ sweep: 'abc123xy' }] }) },
  );
  assert.equal(d.project.finished.totalCount, 4);
  assert.equal(d.project.runCount, 4);
  assert.ok(d.project.finished.edges.every((e) => e.node.state === 'finished'));
  assert.equal(d.project.newest.edges[0]?.node.name, 'sw1run03');
  assert.deepEqual(
    d.project.swept.edges.map((e) => e.node.name),
    ['sw1run01', 'sw1run02', 'sw1run03'],
  );
  assert.equal(d.project.sweep.state, 'RUNNING');
  assert.match(d.project.sweep.config, /^method: bayes\n/);
  assert.equal(d.project.sweep.runCount, 3);
  assert.ok(d.project.sweep.runs.edges.every((e) => e.node.sweepName === 'abc123xy'));
});

interface ManifestJson {
  version: number;
  contents: Record<string, { digest: string; size: number; ref?: string }>;
}

test('artifact versions: manifest JSON, digest algorithm, dedup, reference entry, aliases', async () => {
  const d = await gqlData<{
    project: {
      artifactType: {
        artifactCollection: {
          __typename: string;
          artifacts: {
            edges: {
              version: string;
              node: {
                id: string;
                digest: string;
                aliases: { alias: string }[];
                currentManifest: { file: { directUrl: string; md5: string } };
              };
            }[];
          };
        };
      };
    };
  }>(
    s,
    `{ project(name: "${P}", entityName: "${E}") { artifactType(name: "model") { artifactCollection(name: "mnist-cnn") {
      __typename artifacts(first: 10, filters: "{\\"state\\":\\"COMMITTED\\"}") { edges { version node { id digest aliases(artifactCollectionName: "mnist-cnn") { alias }
      currentManifest { file { directUrl md5 } } } } } } } } }`,
  );
  const coll = d.project.artifactType.artifactCollection;
  assert.equal(coll.__typename, 'ArtifactSequence');
  assert.deepEqual(
    coll.artifacts.edges.map((e) => e.version),
    ['v3', 'v2', 'v1', 'v0'],
  );
  const byVersion = new Map(coll.artifacts.edges.map((e) => [e.version, e.node]));
  assert.deepEqual(
    byVersion.get('v3')?.aliases.map((a) => a.alias),
    ['latest'],
  );
  assert.deepEqual(
    byVersion.get('v1')?.aliases.map((a) => a.alias),
    ['best'],
  );
  const manifests = new Map<string, ManifestJson>();
  for (const [v, node] of byVersion) {
    const res = await fetch(node.currentManifest.file.directUrl);
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(createHash('md5').update(bytes).digest('base64'), node.currentManifest.file.md5);
    const m = JSON.parse(bytes.toString('utf8')) as ManifestJson;
    assert.equal(m.version, 1);
    const entries = Object.entries(m.contents).map(([path, e]) => ({ path, digest: e.digest }));
    assert.equal(manifestDigestHex(entries), node.digest, `digest of ${v}`);
    assert.match(node.digest, /^[0-9a-f]{32}$/);
    manifests.set(v, m);
  }
  // v3 re-uses v1's weights: same entry digest.
  assert.equal(
    manifests.get('v3')?.contents['model.pt']?.digest,
    manifests.get('v1')?.contents['model.pt']?.digest,
  );
  assert.notEqual(
    manifests.get('v2')?.contents['model.pt']?.digest,
    manifests.get('v1')?.contents['model.pt']?.digest,
  );

  const ds = await gqlData<{
    project: {
      artifact: {
        id: string;
        files: {
          edges: { node: { name: string; isReference: boolean; directUrl: string; md5: string | null } }[];
        };
      };
    };
  }>(
    s,
    `{ project(name: "${P}", entityName: "${E}") { artifact(name: "mnist:with-raw") { id files { edges { node { name isReference directUrl md5 } } } } } }`,
  );
  const ref = ds.project.artifact.files.edges.find((e) => e.node.isReference)?.node;
  assert.equal(ref?.directUrl, 's3://demo-bucket/datasets/mnist.tar.gz');
  assert.equal(ref?.md5, null);
});

test('portfolio: linked collection with its own version indexes and aliases', async () => {
  const d = await gqlData<{
    project: {
      m: {
        versionIndex: number;
        aliases: { alias: string }[];
        artifactCollection: { __typename: string };
        artifact: { id: string; versionIndex: number };
      };
    };
  }>(
    s,
    `{ project(name: "model-registry", entityName: "${E}") { m: artifactCollectionMembership(name: "mnist-production:production") {
      versionIndex aliases { alias } artifactCollection { __typename } artifact { id versionIndex } } } }`,
  );
  assert.equal(d.project.m.artifactCollection.__typename, 'ArtifactPortfolio');
  assert.equal(d.project.m.versionIndex, 1);
  assert.deepEqual(d.project.m.aliases.map((a) => a.alias).sort(), ['latest', 'production']);
  assert.equal(d.project.m.artifact.versionIndex, 3, 'index in the source sequence');
});

test('run input/output artifact links and usedBy', async () => {
  const d = await gqlData<{
    project: {
      run: {
        inputArtifacts: {
          edges: {
            usedAs: string[];
            node: { id: string; usedBy: { edges: { node: { name: string } }[] } };
          }[];
        };
        outputArtifacts: { totalCount: number };
      };
    };
  }>(
    s,
    `{ project(name: "${P}", entityName: "${E}") { run(name: "e5f6g7h8") {
      inputArtifacts { edges { usedAs node { id usedBy { edges { node { name } } } } } } outputArtifacts { totalCount } } } }`,
  );
  const input = d.project.run.inputArtifacts.edges[0];
  assert.deepEqual(input?.usedAs, ['mnist:latest']);
  assert.deepEqual(input?.node.usedBy.edges.map((e) => e.node.name).sort(), ['e5f6g7h8', 'team0001']);
  assert.equal(d.project.run.outputArtifacts.totalCount, 1);
});

test('viewer teams have no pageInfo; serverInfo features are enabled', async () => {
  const d = await gqlData<{
    viewer: { username: string; teams: { edges: { node: { name: string } }[] } };
    serverInfo: { features: { name: string; isEnabled: boolean }[] };
  }>(
    s,
    '{ viewer { username teams { edges { node { name } } } } serverInfo { features { name isEnabled } } }',
  );
  assert.equal(d.viewer.username, 'demo-user');
  assert.deepEqual(
    d.viewer.teams.edges.map((e) => e.node.name),
    ['demo-team'],
  );
  assert.ok(
    d.serverInfo.features.some((f) => f.name === 'PROJECT_ARTIFACT_COLLECTION_MEMBERSHIP' && f.isEnabled),
  );
  const r = await gql(s, '{ viewer { teams { pageInfo { hasNextPage } } } }');
  assert.match(r.errors?.[0]?.message ?? '', /Cannot query field "pageInfo" on type "EntityConnection"/);
});

test('a running run gains a file and finishes (fixture mutations are visible)', async () => {
  const added = s.fixture.addRunFile(E, P, 'q7r8s9t0', {
    name: 'media/new/late.bin',
    sizeBytes: 777,
    seed: 4242,
  });
  s.fixture.setRunState(E, P, 'q7r8s9t0', 'finished');
  const d = await gqlData<{
    project: {
      run: {
        state: string;
        fileCount: number;
        files: { edges: { node: { md5: string; sizeBytes: number } }[] };
      };
    };
  }>(
    s,
    `{ project(name: "${P}", entityName: "${E}") { run(name: "q7r8s9t0") { state fileCount files(names: ["media/new/late.bin"]) { edges { node { md5 sizeBytes } } } } } }`,
  );
  assert.equal(d.project.run.state, 'finished');
  assert.equal(d.project.run.files.edges[0]?.node.sizeBytes, 777);
  assert.equal(d.project.run.files.edges[0]?.node.md5, added.md5B64);
  assert.equal(d.project.run.fileCount, s.fixture.run(E, P, 'q7r8s9t0')?.files.length);
});

test('project order, file patterns and filesByManifestEntries', async () => {
  const d = await gqlData<{
    entity: { projects: { edges: { node: { name: string } }[] } };
    project: { run: { files: { edges: { node: { name: string } }[] } } };
  }>(
    s,
    `{ entity(name: "${E}") { projects(order: "-created_at") { edges { node { name } } } }
       project(name: "${P}", entityName: "${E}") { run(name: "a1b2c3d4") { files(pattern: "media/%") { edges { node { name } } } } } }`,
  );
  assert.deepEqual(
    d.entity.projects.edges.map((e) => e.node.name),
    ['llm-finetune', 'model-registry', 'mnist-classifier'],
  );
  assert.deepEqual(d.project.run.files.edges.map((e) => e.node.name).sort(), [
    'media/images/sample_0.png',
    'media/images/x.png',
  ]);
  const art = [...s.fixture.allArtifacts()].find(
    (a) => a.sequenceName === 'mnist-cnn' && a.versionIndex === 2,
  );
  assert.ok(art);
  const entries = art.entries.map((e) => ({ name: e.path, digest: e.digest, size: e.size }));
  const f = await gqlData<{
    artifact: { filesByManifestEntries: { edges: { node: { name: string; md5: string } }[] } };
  }>(
    s,
    `query($id: ID!, $entries: [ArtifactManifestEntryInput!]) { artifact(id: $id) {
      filesByManifestEntries(storageLayout: "V2", manifestVersion: "1", entries: $entries) { edges { node { name md5 } } } } }`,
    { id: art.id, entries: [...entries, { name: 'missing.bin', digest: 'x' }] },
  );
  assert.deepEqual(
    f.artifact.filesByManifestEntries.edges.map((e) => [e.node.name, e.node.md5]),
    entries.map((e) => [e.name, e.digest]),
  );
});

test('organizations: the org entity holds wandb-registry-* projects and is not a team', async () => {
  const d = await gqlData<{
    viewer: { organizations: { name: string; orgEntity: { name: string } | null }[] };
    organization: { orgEntity: { name: string; projects: { edges: { node: { name: string } }[] } } };
  }>(
    s,
    `{ viewer { organizations { name orgEntity { name } } }
       organization(name: "demo-org") { orgEntity { name projects { edges { node { name } } } } } }`,
  );
  assert.deepEqual(d.viewer.organizations, [{ name: 'demo-org', orgEntity: { name: 'demo-org-entity' } }]);
  assert.deepEqual(
    d.organization.orgEntity.projects.edges.map((e) => e.node.name),
    ['wandb-registry-model', 'wandb-registry-dataset', 'wandb-registry-restricted'],
  );
  assert.ok(!s.fixture.viewer.teams.includes('demo-org-entity'));
});

test('registry memberships: own index and aliases; a refusing registry answers "permission denied"', async () => {
  const files = (project: string, collection: string, alias: string) =>
    gql<{ project: { artifactCollection: { artifactMembership: unknown } } }>(
      s,
      `{ project(name: "${project}", entityName: "demo-org-entity") { artifactCollection(name: "${collection}") {
           artifactMembership(aliasName: "${alias}") {
             versionIndex artifact { versionIndex }
             files(first: 10) { edges { node { name directUrl } } } } } } }`,
    );
  const ok = await files('wandb-registry-model', 'mnist-classifier', 'production');
  assert.equal(ok.errors, undefined);
  const m = ok.data?.project.artifactCollection.artifactMembership as {
    versionIndex: number;
    artifact: { versionIndex: number };
    files: { edges: { node: { name: string } }[] };
  };
  assert.equal(m.versionIndex, 1, 'the registry numbers its own versions');
  assert.equal(m.artifact.versionIndex, 3, 'the source keeps its index');
  assert.deepEqual(m.files.edges.map((e) => e.node.name).sort(), ['config.json', 'empty.bin', 'model.pt']);
  const refused = await files('wandb-registry-restricted', 'llm-adapters', 'production');
  assert.match(refused.errors?.[0]?.message ?? '', /permission denied/);
});
