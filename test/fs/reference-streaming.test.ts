/**
 * Large reference entries through a real mount (the `refs` fixture, its store throttled so a whole
 * download outlasts the open deadline): the open returns at once and `md5sum` reads the object while
 * it downloads; an object replaced mid-download (another ETag on the later ranged responses) fails
 * the read with EACCES and leaves neither a blob nor a partial file in the cache.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type RunningApp } from '../../src/app.js';
import { blobPath, partialPath } from '../../src/blobs/path.js';
import { etagDigest } from '../../src/core/digest.js';
import { createLogger } from '../../src/core/log.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { REFS_BIG_BYTES, REFS_ENTITY, REFS_OBJECTS, REFS_PROJECT } from '../fake-wandb/fixtures/refs.js';
import { testAppConfig } from '../helpers/app-mount.js';
import { forceCleanup, run, tempMountDir } from '../helpers/mount.js';
import { waitUntil } from '../helpers/wait.js';

const MiB = 1024 * 1024;
const FILES = `${REFS_ENTITY}/${REFS_PROJECT}/artifacts/external-data/v0/files`;
/** the open deadline of these mounts: far shorter than a whole 48 MiB download at the throttled rate */
const OPEN_DEADLINE_MS = 2000;
const STREAMS = 4;
/** per connection: 4 streams x 2 MiB/s = 8 MiB/s, so a whole object takes ~6 s */
const BANDWIDTH = 2 * MiB;

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('large reference entries through a real mount', () => {
  let server: FakeWandb;
  let cacheDir: string;
  let dir = '';
  let app: RunningApp | null = null;
  const saved = process.env.AWS_ENDPOINT_URL_S3;

  before(async () => {
    server = await startFakeWandb({ fixture: 'refs' });
    cacheDir = await mkdtemp(join(tmpdir(), 'wandbfs-refstream-cache-'));
    process.env.AWS_ENDPOINT_URL_S3 = server.url;
    dir = await tempMountDir('refstream');
    const log = createLogger({ level: 'warn', sink: { write: () => undefined } });
    app = await startApp(
      {
        ...testAppConfig(server, dir, cacheDir),
        timeouts: { otherMs: OPEN_DEADLINE_MS },
        // small chunks: many ranged requests per object, so some start after a mid-download change
        tuning: { blobs: { sdkCacheDir: null, chunkBytes: 2 * MiB, streams: STREAMS } },
      },
      log,
    );
    // the listing is fetched before the store is throttled, so only the reference downloads are slow
    const ls = await run('ls', [join(dir, FILES, 's3')]);
    assert.equal(ls.code, 0, ls.stderr);
    server.faults.external.bandwidthBytesPerSec = BANDWIDTH;
  });

  after(async () => {
    server.faults.external.bandwidthBytesPerSec = 0;
    await app?.stop().catch(() => undefined);
    await forceCleanup(dir);
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_S3;
    else process.env.AWS_ENDPOINT_URL_S3 = saved;
    await server?.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  function digestOf(file: 's3/big.bin' | 's3/changing.bin') {
    const where = REFS_OBJECTS[file];
    const blobId = server.fixture.external.get(where)?.blobId ?? '';
    const b64 = server.fixture.contentOf(blobId)?.md5B64;
    assert.ok(b64, `fixture object ${where}`);
    const md5 = Buffer.from(b64, 'base64').toString('hex');
    return { md5, digest: etagDigest(`s3://${where}`, md5) };
  }

  it('opens at once and reads right while a download longer than the open deadline runs', async () => {
    const { md5, digest } = digestOf('s3/big.bin');
    const started = Date.now();
    const r = await run('md5sum', [join(dir, FILES, 's3/big.bin')], { timeoutMs: 120_000 });
    const tookMs = Date.now() - started;
    assert.equal(r.code, 0, `md5sum: ${r.stderr}`);
    assert.equal(r.stdout.split(' ')[0], md5, 'content of s3/big.bin');
    assert.ok(
      tookMs > OPEN_DEADLINE_MS,
      `the whole download (${tookMs} ms) outlasted the ${OPEN_DEADLINE_MS} ms open deadline`,
    );
    await waitUntil('the 48 MiB reference blob to be committed', () => exists(blobPath(cacheDir, digest)));
  });

  it('an object replaced mid-download fails the read with EACCES and caches nothing', async () => {
    const { digest } = digestOf('s3/changing.bin');
    const where = REFS_OBJECTS['s3/changing.bin'];
    const obj = server.fixture.external.get(where);
    const other = server.fixture.external.get(REFS_OBJECTS['s3/big.bin'])?.blobId;
    assert.ok(obj && other);
    const original = obj.blobId;
    const requests = () => server.counters.externalByPath[where] ?? 0;
    try {
      const reading = run('md5sum', [join(dir, FILES, 's3/changing.bin')], { timeoutMs: 120_000 });
      // past the first round of chunks: the download is under way, most of it still to fetch
      await waitUntil('the download of s3/changing.bin to get going', () => requests() > STREAMS + 1);
      obj.blobId = other; // same size, other bytes: another ETag
      const r = await reading;
      assert.notEqual(r.code, 0, 'md5sum must fail');
      assert.match(r.stderr, /Permission denied/, `EACCES, got ${r.stderr}`);
      assert.ok(requests() * 2 * MiB < 2 * REFS_BIG_BYTES, 'the failed fill stopped (no endless retries)');
    } finally {
      obj.blobId = original;
    }
    await waitUntil(
      'the failed fill to drop its partial file',
      async () => !(await exists(partialPath(cacheDir, digest))),
    );
    assert.equal(await exists(blobPath(cacheDir, digest)), false, 'no blob of the changed object');
  });
});
