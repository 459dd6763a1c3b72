/**
 * Reference entries through a real mount (the `refs` fixture): https, wandb-artifact://, and s3:// /
 * gs:// through the endpoint overrides AWS and Google tools honour read right; a private or changed
 * object and one logged without a checksum fail with EACCES and exactly one log line naming the URI
 * (never its signed query string); a read after a remount comes from the cache; the W&B SDK's
 * `obj/etag/` layout is reused without a download and filled after one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startApp, type RunningApp } from '../../src/app.js';
import { etagDigest } from '../../src/core/digest.js';
import { createLogger } from '../../src/core/log.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { REFS_ENTITY, REFS_OBJECTS, REFS_PROJECT, REFS_SECRET_QUERY } from '../fake-wandb/fixtures/refs.js';
import { testAppConfig } from '../helpers/app-mount.js';
import { forceCleanup, run, tempMountDir } from '../helpers/mount.js';
import { waitUntil } from '../helpers/wait.js';

const ENV = ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL', 'STORAGE_EMULATOR_HOST'] as const;
const FILES = `${REFS_ENTITY}/${REFS_PROJECT}/artifacts/external-data/v0/files`;

interface Mounted {
  dir: string;
  app: RunningApp;
  lines: string[];
}

describe('reference entries through a real mount', () => {
  let server: FakeWandb;
  let cacheDir: string;
  let sdkDir: string;
  const savedEnv: Partial<Record<(typeof ENV)[number], string>> = {};
  const mounts: Mounted[] = [];

  before(async () => {
    server = await startFakeWandb({ fixture: 'refs' });
    cacheDir = await mkdtemp(join(tmpdir(), 'wandbfs-refs-cache-'));
    sdkDir = await mkdtemp(join(tmpdir(), 'wandbfs-refs-sdk-'));
    // an SDK cache that exists (wandbfs fills only those, it never creates one)
    await mkdir(join(sdkDir, 'artifacts'));
    for (const k of ENV) {
      const v = process.env[k];
      if (v !== undefined) savedEnv[k] = v;
      delete process.env[k];
    }
    // the forms users set: a full endpoint URL for S3, a bare host:port for the GCS emulator
    process.env.AWS_ENDPOINT_URL_S3 = server.url;
    process.env.STORAGE_EMULATOR_HOST = server.url.replace(/^http:\/\//, '');
  });

  after(async () => {
    for (const m of mounts) {
      await m.app.stop().catch(() => undefined);
      await forceCleanup(m.dir);
    }
    for (const k of ENV) {
      delete process.env[k];
      const v = savedEnv[k];
      if (v !== undefined) process.env[k] = v;
    }
    await server?.close();
    await rm(cacheDir, { recursive: true, force: true });
    await rm(sdkDir, { recursive: true, force: true });
  });

  async function mount(label: string): Promise<Mounted> {
    const dir = await tempMountDir(label);
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', sink: { write: (l) => lines.push(l) } });
    const app = await startApp(
      {
        ...testAppConfig(server, dir, cacheDir),
        // a W&B SDK cache of the test's own, never the machine's ~/.cache/wandb
        tuning: { blobs: { sdkCacheDir: sdkDir } },
      },
      log,
    );
    const m = { dir, app, lines };
    mounts.push(m);
    return m;
  }

  async function unmount(m: Mounted): Promise<void> {
    await m.app.stop();
    mounts.splice(mounts.indexOf(m), 1);
    await forceCleanup(m.dir);
  }

  /** hex MD5 of a stand-in store object (what its ETag and the manifest say) */
  function objectMd5(where: string): string {
    const blobId = server.fixture.external.get(where)?.blobId;
    const b64 = blobId === undefined ? undefined : server.fixture.contentOf(blobId)?.md5B64;
    assert.ok(b64, `fixture object ${where}`);
    return Buffer.from(b64, 'base64').toString('hex');
  }

  async function md5sum(m: Mounted, file: string): Promise<string> {
    const r = await run('md5sum', [join(m.dir, FILES, file)]);
    assert.equal(r.code, 0, `md5sum ${file}: ${r.stderr}`);
    return r.stdout.split(' ')[0] ?? '';
  }

  const downloads = (where: string): number => server.counters.externalByPath[where] ?? 0;

  it('https (also redirected), s3:// and gs:// via the endpoint overrides, and wandb-artifact:// read right', async () => {
    const m = await mount('refs-a');
    for (const [file, where] of [
      ['web/data.bin', REFS_OBJECTS['web/data.bin']],
      ['web/moved.bin', REFS_OBJECTS['web/data.bin']],
      ['s3/train.bin', REFS_OBJECTS['s3/train.bin']],
      ['gs/head.bin', REFS_OBJECTS['gs/head.bin']],
    ] as const) {
      assert.equal(await md5sum(m, file), objectMd5(where), `content of ${file}`);
    }
    assert.ok(
      downloads('wandbfs-gcs/models/head.bin') > 0,
      'gs:// went to the STORAGE_EMULATOR_HOST stand-in',
    );
    assert.ok(downloads('web/moved.bin') > 0, 'the redirecting URL was asked first');

    const base = [...server.fixture.allArtifacts()].find((a) => a.sequenceName === 'base-model');
    const weights = base?.entries[0];
    assert.ok(weights, 'base-model v0 weights.bin');
    assert.equal(
      await md5sum(m, 'linked/weights.bin'),
      Buffer.from(weights.digest, 'base64').toString('hex'),
      'a wandb-artifact:// entry reads the other artifact stored file',
    );

    const xattr = await run('getfattr', [
      '--only-values',
      '-n',
      'user.wandb.ref',
      join(m.dir, FILES, 'web/data.bin'),
    ]);
    assert.equal(xattr.code, 0, xattr.stderr);
    assert.equal(
      xattr.stdout,
      `${server.url}/web/data.bin`,
      'user.wandb.ref shows the URI without its query',
    );
    assert.ok(
      !m.lines.some((l) => l.includes(REFS_SECRET_QUERY)),
      'the signed query string never reaches a log',
    );
  });

  it('a private object, a changed one and one without a checksum fail with EACCES and one log line each', async () => {
    const m = mounts[0] ?? (await mount('refs-b'));
    // the changed one: the store now holds other bytes under that key (another ETag)
    const cases = [
      { file: 's3/secret.bin', uri: `s3://${REFS_OBJECTS['s3/secret.bin']}`, why: /HTTP 403/ },
      { file: 'unchecked.bin', uri: `s3://${REFS_OBJECTS['s3/train.bin']}`, why: /no ETag was recorded/ },
      { file: 's3/sdk-cached.bin', uri: `s3://${REFS_OBJECTS['s3/sdk-cached.bin']}`, why: /changed since/ },
    ];
    const obj = server.fixture.external.get(REFS_OBJECTS['s3/sdk-cached.bin']);
    assert.ok(obj);
    const original = obj.blobId;
    obj.blobId = server.fixture.external.get(REFS_OBJECTS['gs/head.bin'])?.blobId ?? original;
    try {
      for (const c of cases) {
        const before = m.lines.length;
        const r = await run('cat', [join(m.dir, FILES, c.file)]);
        assert.notEqual(r.code, 0, `${c.file} must not read`);
        assert.match(r.stderr, /Permission denied/, `${c.file}: EACCES, got ${r.stderr}`);
        const warned = m.lines.slice(before).filter((l) => /^\S+ (WARN|ERROR)/.test(l));
        assert.equal(warned.length, 1, `one log line for ${c.file}: ${warned.join('')}`);
        assert.ok(warned[0]?.includes(c.uri), `the line names ${c.uri}: ${warned[0]}`);
        assert.match(warned[0] ?? '', c.why);
      }
    } finally {
      obj.blobId = original;
    }
  });

  it('after a remount, reads come from the cache: no second download', async () => {
    for (const m of [...mounts]) await unmount(m);
    const counted = ['web/data.bin', REFS_OBJECTS['s3/train.bin'], REFS_OBJECTS['gs/head.bin']];
    const before = counted.map(downloads);
    assert.ok(
      before.every((n) => n > 0),
      `each was downloaded once already: ${before.join(', ')}`,
    );
    const m = await mount('refs-c');
    assert.equal(await md5sum(m, 'web/data.bin'), objectMd5('web/data.bin'));
    assert.equal(await md5sum(m, 's3/train.bin'), objectMd5(REFS_OBJECTS['s3/train.bin']));
    assert.equal(await md5sum(m, 'gs/head.bin'), objectMd5(REFS_OBJECTS['gs/head.bin']));
    assert.deepEqual(counted.map(downloads), before, 'no reference object was fetched again');
  });

  it("reuses a file in the W&B SDK's obj/etag layout without a download, and leaves its own there", async () => {
    const uri = `s3://${REFS_OBJECTS['s3/sdk-cached.bin']}`;
    const where = REFS_OBJECTS['s3/sdk-cached.bin'];
    const blobId = server.fixture.external.get(where)?.blobId ?? '';
    const bytes = server.fixture.contentOf(blobId)?.read(0, 10_000);
    assert.ok(bytes, 'fixture bytes of the SDK-cached object');
    const etag = objectMd5(where);
    const h = etagDigest(uri, etag).hex;
    // the SDK's own name: sha256(sha256(uri) || sha256(etag)), computed here independently
    const sha = (s: string) => createHash('sha256').update(s).digest();
    assert.equal(h, createHash('sha256').update(sha(uri)).update(sha(etag)).digest('hex'));
    const placed = join(sdkDir, 'artifacts', 'obj', 'etag', h.slice(0, 2), h.slice(2));
    await mkdir(dirname(placed), { recursive: true });
    await writeFile(placed, bytes);
    const before = downloads(where);
    const m = mounts[0] ?? (await mount('refs-d'));
    assert.equal(await md5sum(m, 's3/sdk-cached.bin'), etag);
    assert.equal(downloads(where), before, 'served from the SDK cache, not the store');

    // and the other way round: what wandbfs downloaded is where the SDK would look for it
    const train = REFS_OBJECTS['s3/train.bin'];
    const t = etagDigest(`s3://${train}`, objectMd5(train)).hex;
    const left = join(sdkDir, 'artifacts', 'obj', 'etag', t.slice(0, 2), t.slice(2));
    await waitUntil('the SDK cache copy of s3/train.bin', () =>
      readFile(left).then(
        (b) => createHash('md5').update(b).digest('hex') === objectMd5(train),
        () => false,
      ),
    );
  });
});
