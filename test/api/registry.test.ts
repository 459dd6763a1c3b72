/**
 * The W&B Registry at the API layer against the fake (demo fixture): organization entities from
 * the viewer, registry versions naming their source, and a registry role that refuses downloads
 * becoming RegistryDownloadDeniedError without being routed around through the artifact id.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WandbApiClient } from '../../src/api/client.js';
import { ForbiddenError, RegistryDownloadDeniedError } from '../../src/api/errors.js';
import type { FileLocator } from '../../src/api/types.js';
import { DEMO_ORG_ENTITY, DEMO_RESTRICTED_REGISTRY } from '../fake-wandb/fixtures/demo-registry.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { gql } from '../fake-wandb/test-client.js';
import { apiFor, collect, readRange } from './helpers.js';

describe('W&B Registry through WandbApi', () => {
  let fake: FakeWandb;
  let api: WandbApiClient;
  before(async () => {
    fake = await startFakeWandb({ fixture: 'demo' });
    api = apiFor(fake);
  });
  after(async () => {
    api.close();
    await fake.close();
  });

  /** A file of the version at `alias` of a registry collection, located through its membership. */
  async function registryFile(project: string, collection: string, alias: string, path: string) {
    const versions = await collect(api.listVersions(DEMO_ORG_ENTITY, project, 'model', collection));
    const v = versions.find((x) => x.aliases.includes(alias));
    assert.ok(v, `${collection} has ${alias}`);
    const locator: FileLocator = {
      kind: 'artifact-file',
      artifactId: v.id,
      path,
      via: { entity: DEMO_ORG_ENTITY, project, collection, version: `v${v.versionIndex}` },
    };
    return { version: v, locator };
  }

  it("the viewer names its organizations' entities apart from its teams", async () => {
    const viewer = await api.viewer();
    assert.deepEqual(viewer.teams, ['demo-team']);
    assert.deepEqual(viewer.orgEntities, [DEMO_ORG_ENTITY]);
  });

  it('a server without User.organizations still gives the viewer, without org entities', async () => {
    // what a W&B Server older than the field answers: the whole query fails validation
    const old = apiFor(fake, {
      fetch: async (input, init) => {
        if (typeof init?.body === 'string' && init.body.includes('organizations')) {
          const errors = [{ message: 'Cannot query field "organizations" on type "User".' }];
          return new Response(JSON.stringify({ errors }), {
            status: 400,
            headers: { 'content-type': 'application/json' },
          });
        }
        return fetch(input, init);
      },
    });
    try {
      const viewer = await old.viewer();
      assert.deepEqual(viewer.teams, ['demo-team']);
      assert.deepEqual(viewer.orgEntities, []);
    } finally {
      old.close();
    }
  });

  it('registry versions carry their own index and aliases, and name their source', async () => {
    const { version } = await registryFile(
      'wandb-registry-model',
      'mnist-classifier',
      'production',
      'model.pt',
    );
    assert.equal(version.versionIndex, 1);
    assert.deepEqual(version.source, {
      entityName: 'demo-user',
      projectName: 'mnist-classifier',
      collectionName: 'mnist-cnn',
      versionIndex: 3,
    });
    const own = await collect(api.listVersions('demo-user', 'mnist-classifier', 'model', 'mnist-cnn'));
    assert.ok(
      own.every((v) => v.source === undefined),
      "a sequence's own versions name no source",
    );
  });

  it('a readable registry admits the download and serves the bytes', async () => {
    const { locator } = await registryFile(
      'wandb-registry-model',
      'mnist-classifier',
      'staging',
      'config.json',
    );
    await api.admitDownload(locator, 'staging/config.json');
    const bytes = await readRange(api.rangeSource(locator, 'staging/config.json'), 0, 29);
    assert.equal(bytes.toString(), '{"layers": 4, "hidden": 128}\n');
  });

  it('a refusing registry is RegistryDownloadDeniedError, asked once through the membership', async () => {
    const { locator } = await registryFile(
      DEMO_RESTRICTED_REGISTRY,
      'llm-adapters',
      'production',
      'adapter/adapter_config.json',
    );
    fake.resetCounters();
    await assert.rejects(api.admitDownload(locator, 'adapter_config.json'), (err: unknown) => {
      assert.ok(err instanceof RegistryDownloadDeniedError, String(err));
      assert.match(
        err.message,
        /registry role does not allow downloads: demo-org-entity\/wandb-registry-restricted\/llm-adapters:v0/,
      );
      assert.ok(err.cause instanceof ForbiddenError);
      return true;
    });
    assert.equal(fake.counters.graphqlOps.MembershipFileUrls, 1);
    assert.equal(fake.counters.graphqlOps.ArtifactFileUrl, undefined, 'no request by artifact id');
    // the artifact itself is readable by id (its source project is the viewer's): only the
    // registry's role refuses, which is why the client must not ask around it
    const byId = await gql(
      fake,
      `{ artifact(id: "${locator.kind === 'artifact-file' ? locator.artifactId : ''}") { files(first: 1) { edges { node { name } } } } }`,
    );
    assert.equal(byId.errors, undefined);
  });

  it('files outside a registry are admitted without a request', async () => {
    fake.resetCounters();
    await api.admitDownload(
      {
        kind: 'artifact-file',
        artifactId: 'x',
        path: 'p',
        via: { entity: 'demo-user', project: 'mnist-classifier', collection: 'mnist-cnn', version: 'v0' },
      },
      'p',
    );
    await api.admitDownload(
      {
        kind: 'run-file',
        entity: 'demo-user',
        project: 'mnist-classifier',
        run: 'a1b2c3d4',
        name: 'output.log',
      },
      'o',
    );
    assert.equal(fake.counters.requests.graphql, undefined);
  });
});
