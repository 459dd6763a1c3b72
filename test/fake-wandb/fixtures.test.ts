import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateBytes } from './content.js';
import { buildDemo } from './fixtures/demo.js';
import {
  HOSTILE_ENTITY,
  HOSTILE_FILE_NAMES,
  HOSTILE_MANIFEST_PATHS,
  HOSTILE_PROJECT,
  HOSTILE_RUN_NAMES,
  NFC,
  NFD,
} from './fixtures/hostile.js';
import {
  HUGE_ENTITY,
  HUGE_FILE_NAME,
  HUGE_FILE_SEED,
  HUGE_FILE_SIZE,
  HUGE_PROJECT,
  HUGE_RUN,
} from './fixtures/huge-file.js';
import { loadFixture } from './fixtures/index.js';
import { startFakeWandb } from './server.js';
import { gqlData, runFileDirectUrl } from './test-client.js';

test('fixtures are deterministic: two builds agree on ids, digests and bytes', () => {
  const a = buildDemo();
  const b = buildDemo();
  const digests = (fx: typeof a) => [...fx.allArtifacts()].map((x) => `${x.id}:${x.digest}`);
  assert.deepEqual(digests(a), digests(b));
  const runA = a.run('demo-user', 'mnist-classifier', 'a1b2c3d4');
  const runB = b.run('demo-user', 'mnist-classifier', 'a1b2c3d4');
  assert.deepEqual(
    [...(runA?.files ?? [])].map((f) => [f.name, f.sizeBytes, f.md5B64]),
    [...(runB?.files ?? [])].map((f) => [f.name, f.sizeBytes, f.md5B64]),
  );
});

test('demo has the awkward cases clients must handle', () => {
  const fx = loadFixture('demo');
  assert.deepEqual(fx.viewer.teams, ['demo-team']);
  const runs = [...(fx.project('demo-user', 'mnist-classifier')?.runs ?? [])];
  const files = runs.flatMap((r) => [...r.files]);
  assert.ok(files.some((f) => f.sizeBytes === 0));
  assert.ok(files.some((f) => f.sizeBytes > 3 * 1024 * 1024));
  assert.ok(files.some((f) => f.name === 'media/images/x.png'));
  assert.ok(files.some((f) => f.name.startsWith('code/src/')));
  const arts = [...fx.allArtifacts()];
  assert.ok(arts.some((a) => a.entries.some((e) => e.ref?.startsWith('s3://'))));
  const kinds = fx.entities.flatMap((e) => e.projects.flatMap((p) => p.collections.map((c) => c.kind)));
  assert.ok(kinds.includes('portfolio') && kinds.includes('sequence'));
  const blobUse = new Map<string, number>();
  for (const a of arts)
    for (const e of a.entries) if (e.blobId) blobUse.set(e.blobId, (blobUse.get(e.blobId) ?? 0) + 1);
  assert.ok(
    [...blobUse.values()].some((n) => n >= 3),
    'some content is shared by several versions',
  );
});

test('hostile names survive the round trip through GraphQL unchanged', async () => {
  const s = await startFakeWandb({ fixture: 'hostile' });
  try {
    const d = await gqlData<{
      project: {
        runs: { edges: { node: { name: string } }[] };
        run: { files: { edges: { node: { name: string } }[] } };
      };
    }>(
      s,
      `{ project(name: "${HOSTILE_PROJECT}", entityName: "${HOSTILE_ENTITY}") { runs(order: "+created_at") { edges { node { name } } }
        run(name: "normal01") { files(first: 100) { edges { node { name } } } } } }`,
    );
    assert.deepEqual(
      d.project.runs.edges.map((e) => e.node.name),
      HOSTILE_RUN_NAMES,
    );
    assert.deepEqual(
      d.project.run.files.edges.map((e) => e.node.name),
      HOSTILE_FILE_NAMES,
    );
    assert.notEqual(NFC, NFD);
    assert.equal(NFC.normalize('NFC'), NFD.normalize('NFC'));
    for (const name of ['..', '', 'nul\u0000byte', NFD]) {
      const r = await gqlData<{ project: { run: { name: string } | null } }>(
        s,
        `query($n: String!) { project(name: "${HOSTILE_PROJECT}", entityName: "${HOSTILE_ENTITY}") { run(name: $n) { name } } }`,
        { n: name },
      );
      assert.equal(r.project.run?.name, name);
    }
    const coll = s.fixture.project(HOSTILE_ENTITY, HOSTILE_PROJECT)?.collections[0];
    const art = coll ? s.fixture.artifact(coll.memberships[0]?.artifactId ?? '') : undefined;
    assert.ok(art);
    const res = await fetch(
      (
        await gqlData<{ artifact: { currentManifest: { file: { directUrl: string } } } }>(
          s,
          'query($id: ID!) { artifact(id: $id) { currentManifest { file { directUrl } } } }',
          { id: art.id },
        )
      ).artifact.currentManifest.file.directUrl,
    );
    const manifest = (await res.json()) as { contents: Record<string, unknown> };
    for (const p of HOSTILE_MANIFEST_PATHS) assert.ok(p in manifest.contents, JSON.stringify(p));
  } finally {
    await s.close();
  }
});

test('huge-file: a 5 GiB + 123 byte file served by range without materializing it', async () => {
  const s = await startFakeWandb({ fixture: 'huge-file' });
  try {
    const file = s.fixture.run(HUGE_ENTITY, HUGE_PROJECT, HUGE_RUN)?.files.get(HUGE_FILE_NAME);
    assert.equal(file?.sizeBytes, HUGE_FILE_SIZE);
    const d = await gqlData<{
      project: { run: { files: { edges: { node: { directUrl: string; sizeBytes: number } }[] } } };
    }>(
      s,
      `{ project(name: "${HUGE_PROJECT}", entityName: "${HUGE_ENTITY}") { run(name: "${HUGE_RUN}") {
        files(names: ["${HUGE_FILE_NAME}"]) { edges { node { directUrl sizeBytes } } } } } }`,
    );
    const node = d.project.run.files.edges[0]?.node;
    assert.equal(node?.sizeBytes, HUGE_FILE_SIZE);
    const tail = await fetch(node?.directUrl ?? '', { headers: { range: 'bytes=-1000' } });
    assert.equal(tail.status, 206);
    assert.equal(
      tail.headers.get('content-range'),
      `bytes ${HUGE_FILE_SIZE - 1000}-${HUGE_FILE_SIZE - 1}/${HUGE_FILE_SIZE}`,
    );
    // Big blobs get a multipart-style ETag (no MD5 pass needed to serve them).
    assert.match(tail.headers.get('etag') ?? '', /^"[0-9a-f]{32}-\d+"$/);
    const body = Buffer.from(await tail.arrayBuffer());
    assert.ok(body.equals(generateBytes(HUGE_FILE_SEED, HUGE_FILE_SIZE - 1000, HUGE_FILE_SIZE)));
    const mid = 4 * 1024 ** 3 + 5;
    const r = await fetch(node?.directUrl ?? '', { headers: { range: `bytes=${mid}-${mid + 99}` } });
    assert.ok(Buffer.from(await r.arrayBuffer()).equals(generateBytes(HUGE_FILE_SEED, mid, mid + 100)));
    assert.ok(process.memoryUsage().rss < 1024 ** 3, 'the file is never held in memory');
  } finally {
    await s.close();
  }
});

test('addRunFile on a lazily generated run persists', () => {
  const fx = loadFixture('large');
  fx.addRunFile('large-user', 'big-project', 'r0000001', { name: 'late/new.bin', sizeBytes: 12, seed: 1 });
  fx.setRunState('large-user', 'big-project', 'r0000001', 'running');
  const run = fx.run('large-user', 'big-project', 'r0000001');
  assert.equal(run?.state, 'running');
  assert.equal(run?.files.length, 11);
  assert.equal(run?.files.get('late/new.bin')?.sizeBytes, 12);
  assert.throws(() => fx.setRunState('large-user', 'big-project', 'nope', 'finished'));
});

test('standalone runFileDirectUrl helper rejects unknown files', async () => {
  const s = await startFakeWandb();
  try {
    await assert.rejects(
      runFileDirectUrl(s, 'demo-user', 'mnist-classifier', 'a1b2c3d4', 'nope.txt'),
      /no file/,
    );
  } finally {
    await s.close();
  }
});
