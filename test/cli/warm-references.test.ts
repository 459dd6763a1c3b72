/**
 * `wandbfs warm` of reference entries through a real daemon mount (the `refs` fixture): https, s3://
 * and gs:// objects are fetched from their stand-in stores through the same blob cache path a read
 * takes, so a later read downloads nothing; a reference that cannot be fetched (no ETag recorded) is
 * counted as skipped, and a private one is a per-file failure.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMount } from '../../src/admin/mountinfo.js';
import { packageRoot } from '../../src/core/package-root.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { REFS_ENTITY, REFS_OBJECTS, REFS_PROJECT } from '../fake-wandb/fixtures/refs.js';
import { forceCleanup, run, tempMountDir, waitFor } from '../helpers/mount.js';

const mainJs = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

describe('wandbfs warm of reference entries', () => {
  let server: FakeWandb;
  let home: string;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[], timeoutMs = 120_000) =>
    run(process.execPath, [mainJs, ...args], { env, timeoutMs });
  const files = (p: string) =>
    join(dir, REFS_ENTITY, REFS_PROJECT, 'artifacts', 'external-data', 'v0', 'files', p);
  const downloads = (where: string): number => server.counters.externalByPath[where] ?? 0;
  const WARMED = ['web/data.bin', REFS_OBJECTS['s3/train.bin'], REFS_OBJECTS['gs/head.bin']];

  before(async () => {
    server = await startFakeWandb({ fixture: 'refs' });
    home = await mkdtemp(join(tmpdir(), 'wandbfs-warm-refs-'));
    dir = await tempMountDir('warm-refs');
    env = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CACHE_HOME: join(home, 'xdg'),
      WANDB_API_KEY: server.apiKey,
      WANDB_BASE_URL: server.url,
      WANDB_CACHE_DIR: join(home, 'no-sdk-cache'),
      // the reference stores' stand-ins, as AWS and Google tools are pointed at them
      AWS_ENDPOINT_URL_S3: server.url,
      STORAGE_EMULATOR_HOST: server.url.replace(/^http:\/\//, ''),
    };
    const r = await cli(['mount', dir, '--cache-dir', join(home, 'cache'), '--min-free-space', '0']);
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    if (await findMount(dir)) await cli(['unmount', '--lazy', dir]);
    await forceCleanup(dir);
    await server?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('fetches https, s3:// and gs:// references and skips one without an ETag; reads then download nothing', async () => {
    const r = await cli(['warm', files('web'), files('s3/train.bin'), files('gs'), files('unchecked.bin')]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    // web/data.bin and web/moved.bin (a redirect to it) are two URIs, so two blobs
    assert.match(r.stdout, /fetched 4 file\(s\)/);
    assert.match(r.stdout, /skipped 1 entr\(ies\) that cannot be fetched/);
    const fetched = WARMED.map(downloads);
    assert.ok(
      fetched.every((n) => n > 0),
      `each store object was downloaded: ${fetched.join(', ')}`,
    );

    const again = await cli(['warm', files('web'), files('s3/train.bin'), files('gs')]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /fetched 0 file\(s\), 0 B .*4 file\(s\), .* were cached already/);
    for (const f of ['web/data.bin', 's3/train.bin', 'gs/head.bin']) {
      const cat = await run('cat', [files(f)]);
      assert.equal(cat.code, 0, `${f}: ${cat.stderr}`);
    }
    assert.deepEqual(WARMED.map(downloads), fetched, 'reads after the warm-up come from the cache');
  });

  it('a private reference is a per-file failure naming its path', async () => {
    const r = await cli(['warm', files('s3/secret.bin')]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /failed: .*s3\/secret\.bin: .*HTTP 403/);
  });

  it('unmounts cleanly', async () => {
    const r = await cli(['unmount', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await waitFor(async () => (await findMount(dir)) === null, 10_000), 'mount gone');
  });
});
