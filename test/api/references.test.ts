/**
 * Reference entries' URLs and byte sources: which URL each ref maps to (and which it refuses, so
 * nothing a manifest says can leave the bucket), and the trust rule of RefRangeSource against the
 * fake's stand-in stores (ETag and size must be the logged ones, redirects are capped).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RefUnreadableError } from '../../src/api/errors.js';
import { createReferenceSources, type ReferenceSources } from '../../src/api/ref-sources.js';
import { refEndpointsFromEnv, refHttpUrl } from '../../src/api/ref-url.js';
import { silentLogger } from '../../src/core/log.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { REFS_OBJECTS } from '../fake-wandb/fixtures/refs.js';

const NONE = { s3: null, gcs: null };

describe('reference URLs', () => {
  it('maps s3:// and gs:// to the public endpoints, or to the overrides from the environment', () => {
    assert.equal(
      refHttpUrl('s3://my-bucket/a/b c.bin', NONE),
      'https://my-bucket.s3.amazonaws.com/a/b%20c.bin',
    );
    // a dotted bucket cannot be a virtual host under the *.s3.amazonaws.com certificate
    assert.equal(refHttpUrl('s3://my.bucket/k', NONE), 'https://s3.amazonaws.com/my.bucket/k');
    assert.equal(
      refHttpUrl('gs://gbk/x/y.bin', NONE),
      'https://storage.googleapis.com/download/storage/v1/b/gbk/o/x%2Fy.bin?alt=media',
    );
    const ep = refEndpointsFromEnv({
      AWS_ENDPOINT_URL: 'http://minio:9000/',
      STORAGE_EMULATOR_HOST: 'localhost:4443',
    });
    assert.equal(refHttpUrl('s3://bk1/k/1', ep), 'http://minio:9000/bk1/k/1');
    assert.equal(
      refHttpUrl('gs://bk1/k/1', ep),
      'http://localhost:4443/download/storage/v1/b/bk1/o/k%2F1?alt=media',
    );
    // the service-specific variable wins over the general one, as in the AWS tools
    const both = refEndpointsFromEnv({ AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_S3: 'http://s3only' });
    assert.equal(refHttpUrl('s3://bk1/k', both), 'http://s3only/bk1/k');
    assert.equal(refHttpUrl('https://h.example/p?sig=1', NONE), 'https://h.example/p?sig=1');
  });

  it('refuses what could leave the bucket or is no object at all', () => {
    for (const ref of [
      'gs://bucket/../../x',
      's3://bucket/a/./b',
      's3://bucket/a/%2e%2e/b/../c',
      's3://bucket/',
      's3://bucket',
      's3://ab/k',
      's3://Bad_Bucket!/k',
      's3://bucket/a\u0000b',
      'file:///etc/passwd',
      'ftp://h/x',
      'wandb-artifact://abcd/x',
    ]) {
      assert.equal(refHttpUrl(ref, NONE), null, ref);
    }
  });
});

describe('RefRangeSource against the stand-in stores', () => {
  let server: FakeWandb;
  let refs: ReferenceSources;

  before(async () => {
    server = await startFakeWandb({ fixture: 'refs' });
    refs = createReferenceSources({
      endpoints: { s3: server.url, gcs: server.url },
      logger: silentLogger,
      retry: { maxAttempts: 2, baseDelayMs: 10, deadlineMs: 2000 },
    });
  });
  after(async () => {
    refs?.close();
    await server?.close();
  });

  function object(where: string): { etag: string; size: number; md5: string } {
    const blobId = server.fixture.external.get(where)?.blobId ?? '';
    const c = server.fixture.contentOf(blobId);
    assert.ok(c, where);
    const md5 = Buffer.from(c.md5B64, 'base64').toString('hex');
    return { etag: md5, size: c.sizeBytes, md5 };
  }

  async function read(uri: string, etag: string, size: number, start = 0, end = size): Promise<Buffer> {
    const parts: Buffer[] = [];
    await refs.source({ uri, etag, sizeBytes: size }).fetchRange(
      start,
      end,
      async (b) => {
        parts.push(Buffer.from(b));
      },
      new AbortController().signal,
    );
    return Buffer.concat(parts);
  }

  it('reads whole objects and byte ranges', async () => {
    const o = object(REFS_OBJECTS['s3/train.bin']);
    const all = await read(`s3://${REFS_OBJECTS['s3/train.bin']}`, o.etag, o.size);
    assert.equal(createHash('md5').update(all).digest('hex'), o.md5);
    const mid = await read(`s3://${REFS_OBJECTS['s3/train.bin']}`, o.etag, o.size, 1000, 5000);
    assert.deepEqual(mid, all.subarray(1000, 5000));
    // a quoted ETag in the manifest (extra.etag form) is the same ETag
    const g = object(REFS_OBJECTS['gs/head.bin']);
    const gs = await read(`gs://${REFS_OBJECTS['gs/head.bin']}`, `"${g.etag}"`, g.size);
    assert.equal(createHash('md5').update(gs).digest('hex'), g.md5);
  });

  it('one range after another reuses one keep-alive connection (each body is read to its end)', async () => {
    const o = object(REFS_OBJECTS['s3/train.bin']);
    const uri = `s3://${REFS_OBJECTS['s3/train.bin']}`;
    const all = await read(uri, o.etag, o.size);
    const before = server.counters.connections;
    const step = Math.floor(o.size / 10);
    for (let i = 0; i < 10; i++) {
      const got = await read(uri, o.etag, o.size, i * step, (i + 1) * step);
      assert.deepEqual(got, all.subarray(i * step, (i + 1) * step), `range ${i}`);
    }
    const opened = server.counters.connections - before;
    assert.ok(opened <= 2, `10 sequential ranges opened ${opened} connections`);
  });

  it('refuses another ETag, another size, a private object and too many redirects', async () => {
    const o = object(REFS_OBJECTS['s3/train.bin']);
    const uri = `s3://${REFS_OBJECTS['s3/train.bin']}`;
    await assert.rejects(
      read(uri, 'deadbeef', o.size),
      (e) => e instanceof RefUnreadableError && /changed since/.test(e.message),
    );
    await assert.rejects(
      read(uri, o.etag, o.size + 1),
      (e) => e instanceof RefUnreadableError && /bytes, the artifact logged/.test(e.message),
    );
    const p = object(REFS_OBJECTS['s3/secret.bin']);
    await assert.rejects(read(`s3://${REFS_OBJECTS['s3/secret.bin']}`, p.etag, p.size), /HTTP 403/);
    const w = object('web/data.bin');
    for (let i = 0; i < 7; i++) server.fixture.external.redirects.set(`web/hop${i}`, `web/hop${i + 1}`);
    server.fixture.external.redirects.set('web/hop7', 'web/data.bin');
    await assert.rejects(read(`${server.url}/web/hop0`, w.etag, w.size), /redirected more than 5 times/);
    const ok = await read(`${server.url}/web/hop3`, w.etag, w.size);
    assert.equal(createHash('md5').update(ok).digest('hex'), w.md5, 'five hops are followed');
  });
});
