/**
 * The W&B Registry through a real mount of the demo fixture: the organization's own entity at the
 * root, registry collections (portfolios) with their own version numbers and aliases, metadata.json
 * naming the linked source, blobs shared with the source by digest, a registry whose role refuses
 * downloads (EACCES at open, one log line), `--entity <org-entity>`, and a newly linked version
 * appearing within the listing TTL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLogger } from '../../src/core/log.js';
import { DEMO_ORG_ENTITY, DEMO_RESTRICTED_REGISTRY } from '../fake-wandb/fixtures/demo-registry.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { mountApp, type AppMount } from '../helpers/app-mount.js';
import { run } from '../helpers/mount.js';
import { waitUntil } from '../helpers/wait.js';

const LISTING_TTL_MS = 3_000;
const MODELS = `${DEMO_ORG_ENTITY}/wandb-registry-model/artifacts/mnist-classifier`;
const ADAPTERS = `${DEMO_ORG_ENTITY}/${DEMO_RESTRICTED_REGISTRY}/artifacts/llm-adapters`;

async function ls(path: string): Promise<string[]> {
  const r = await run('ls', ['-A', path]);
  assert.equal(r.code, 0, `ls ${path}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

async function readlink(path: string): Promise<string> {
  const r = await run('readlink', [path]);
  assert.equal(r.code, 0, `readlink ${path}: ${r.stderr}`);
  return r.stdout.trim();
}

async function md5sum(path: string): Promise<string> {
  const r = await run('md5sum', [path], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `md5sum ${path}: ${r.stderr}`);
  return r.stdout.split(' ')[0] ?? '';
}

/** The blob id and size of a stored entry of `entity/project/collection:vN` in the fixture. */
function blobOf(server: FakeWandb, where: [string, string, string, number], path: string) {
  const [entity, project, collection, version] = where;
  const coll = server.fixture.project(entity, project)?.collections.find((c) => c.name === collection);
  const m = coll?.memberships.find((x) => x.versionIndex === version);
  const entry = m ? server.fixture.artifact(m.artifactId)?.entries.find((e) => e.path === path) : undefined;
  assert.ok(entry?.blobId, `fixture has ${collection}:v${version}/${path}`);
  return { blobId: entry.blobId, size: entry.size };
}

describe('W&B Registry over a real mount', () => {
  let server: FakeWandb;
  let m: AppMount;
  const lines: string[] = [];
  const at = (p: string) => join(m.dir, p);

  before(async () => {
    server = await startFakeWandb({ fixture: 'demo' });
    const log = createLogger({ level: 'info', sink: { write: (l) => void lines.push(l) } });
    m = await mountApp(server, 'registry', { listingMs: LISTING_TTL_MS }, { log });
  });
  after(async () => {
    await m?.cleanup();
    await server?.close();
  });

  it('lists the organization entity at the root, its registries, collections, versions and aliases', async () => {
    assert.deepEqual(await ls(m.dir), ['.wandbfs', DEMO_ORG_ENTITY, 'demo-team', 'demo-user']);
    assert.deepEqual(await ls(at(DEMO_ORG_ENTITY)), [
      'wandb-registry-dataset',
      'wandb-registry-model',
      DEMO_RESTRICTED_REGISTRY,
    ]);
    assert.deepEqual(await ls(at(`${DEMO_ORG_ENTITY}/wandb-registry-dataset/artifacts`)), [
      'eval-sets',
      'mnist',
    ]);
    // the registry's own numbering: v0 links mnist-cnn:v1, v1 links mnist-cnn:v3
    assert.deepEqual(await ls(at(MODELS)), ['production', 'staging', 'v0', 'v1']);
    assert.equal(await readlink(at(`${MODELS}/production`)), 'v1');
    assert.equal(await readlink(at(`${MODELS}/staging`)), 'v0');
    assert.deepEqual(await ls(at(`${MODELS}/production/files`)), ['config.json', 'empty.bin', 'model.pt']);
  });

  it('metadata.json of a linked version names its source artifact', async () => {
    const r = await run('cat', [at(`${MODELS}/v1/metadata.json`)]);
    assert.equal(r.code, 0, r.stderr);
    const meta = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(meta.entity, DEMO_ORG_ENTITY);
    assert.equal(meta.project, 'wandb-registry-model');
    assert.equal(meta.collection, 'mnist-classifier');
    assert.equal(meta.version, 'v1');
    assert.deepEqual(meta.aliases, ['production']);
    assert.deepEqual(meta.source, {
      name: 'demo-user/mnist-classifier/mnist-cnn:v3',
      entity: 'demo-user',
      project: 'mnist-classifier',
      collection: 'mnist-cnn',
      version: 'v3',
    });
    const team = JSON.parse(
      (
        await run('cat', [
          at(`${DEMO_ORG_ENTITY}/wandb-registry-dataset/artifacts/eval-sets/v0/metadata.json`),
        ])
      ).stdout,
    ) as { source: { name: string } };
    assert.equal(team.source.name, 'demo-team/shared-research/eval-set:v0');
    // a version of its own sequence names no source
    const own = JSON.parse(
      (await run('cat', [at('demo-user/mnist-classifier/artifacts/mnist-cnn/v3/metadata.json')])).stdout,
    ) as Record<string, unknown>;
    assert.equal('source' in own, false);
  });

  it('a linked version and its source share one download', async () => {
    const { blobId, size } = blobOf(server, ['demo-user', 'mnist-classifier', 'mnist-cnn', 3], 'model.pt');
    assert.equal(server.counters.bytesByBlob[blobId], undefined, 'nothing read this blob before');
    const viaRegistry = await md5sum(at(`${MODELS}/production/files/model.pt`));
    const viaSource = await md5sum(at('demo-user/mnist-classifier/artifacts/mnist-cnn/v3/files/model.pt'));
    assert.equal(viaRegistry, viaSource);
    assert.equal(server.counters.bytesByBlob[blobId], size, 'the blob was downloaded exactly once');
    assert.ok((server.counters.graphqlOps.MembershipFileUrls ?? 0) >= 1, 'URLs asked through the membership');
  });

  it('a registry whose role refuses downloads lists normally; open gives EACCES and one log line', async () => {
    const { blobId } = blobOf(
      server,
      ['demo-user', 'llm-finetune', 'tiny-llama-lora', 0],
      'adapter/adapter_config.json',
    );
    assert.deepEqual(await ls(at(`${ADAPTERS}/v0/files/adapter`)), [
      'adapter_config.json',
      'adapter_model.safetensors',
    ]);
    assert.equal(await readlink(at(`${ADAPTERS}/production`)), 'v0');
    const stat = await run('stat', ['-c', '%s', at(`${ADAPTERS}/v0/files/adapter/adapter_config.json`)]);
    assert.equal(stat.stdout.trim(), String('{"r": 8, "alpha": 16}\n'.length));
    assert.equal((await run('cat', [at(`${ADAPTERS}/v0/metadata.json`)])).code, 0, 'metadata stays readable');

    const before = lines.length;
    // open(2) alone fails, before any read
    const file = at(`${ADAPTERS}/v0/files/adapter/adapter_config.json`);
    const r = await run('python3', ['-c', 'import sys; open(sys.argv[1], "rb")', file]);
    assert.notEqual(r.code, 0, 'open succeeded');
    assert.match(r.stderr, /PermissionError: \[Errno 13\]/);
    const refusal = /the registry role does not allow downloads/;
    await waitUntil('the refusal in the mount log', () => lines.slice(before).some((l) => refusal.test(l)));
    const logged = lines.slice(before).filter((l) => /WARN|ERROR/.test(l));
    assert.equal(logged.length, 1, logged.join(''));
    assert.match(logged[0] ?? '', refusal);
    assert.match(logged[0] ?? '', /EACCES/);
    assert.equal(server.counters.bytesByBlob[blobId], undefined, 'no byte of it was served');
    assert.equal(server.counters.graphqlOps.ArtifactFileUrl, undefined, 'the refusal was not routed around');
  });

  it('a refused registry file whose bytes are cached (read through its source) opens without asking', async () => {
    const rel = 'files/adapter/adapter_config.json';
    const viaSource = await md5sum(at(`demo-user/llm-finetune/artifacts/tiny-llama-lora/v0/${rel}`));
    const asked = server.counters.graphqlOps.MembershipFileUrls ?? 0;
    const viaRegistry = await md5sum(at(`${ADAPTERS}/v0/${rel}`));
    assert.equal(viaRegistry, viaSource);
    assert.equal(server.counters.graphqlOps.MembershipFileUrls ?? 0, asked, 'a cached open asked W&B');
  });

  it('a version linked into a registry collection appears within the listing TTL', async () => {
    assert.deepEqual(await ls(at(MODELS)), ['production', 'staging', 'v0', 'v1']);
    const index = server.fixture.linkNow(
      { entity: DEMO_ORG_ENTITY, project: 'wandb-registry-model', collection: 'mnist-classifier' },
      { entity: 'demo-user', project: 'mnist-classifier', collection: 'mnist-cnn', version: 2 },
      ['production'],
    );
    assert.equal(index, 2);
    await waitUntil(
      'v2 in the registry collection with production pointing at it',
      async () =>
        (await ls(at(MODELS))).includes('v2') && (await readlink(at(`${MODELS}/production`))) === 'v2',
      { timeoutMs: LISTING_TTL_MS + 20_000, stepMs: 250 },
    );
    const meta = JSON.parse((await run('cat', [at(`${MODELS}/v2/metadata.json`)])).stdout) as {
      source: { name: string };
    };
    assert.equal(meta.source.name, 'demo-user/mnist-classifier/mnist-cnn:v2');
  });
});

describe('--entity <org-entity>', () => {
  it('scopes the root to the organization entity, whose registries list like projects', async () => {
    const server = await startFakeWandb({ fixture: 'demo' });
    let m: AppMount | null = null;
    try {
      m = await mountApp(server, 'registry-entity', {}, { config: { entity: DEMO_ORG_ENTITY } });
      assert.deepEqual(await ls(m.dir), [
        '.wandbfs',
        'wandb-registry-dataset',
        'wandb-registry-model',
        DEMO_RESTRICTED_REGISTRY,
      ]);
      assert.deepEqual(await ls(join(m.dir, 'wandb-registry-dataset/artifacts/mnist')), [
        'production',
        'v0',
        'v1',
      ]);
    } finally {
      await m?.cleanup();
      await server.close();
    }
  });
});
