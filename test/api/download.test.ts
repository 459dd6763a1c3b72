import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import { NotFoundError, PermanentError, TransientError, UrlExpiredError } from '../../src/api/errors.js';
import type { FileLocator } from '../../src/api/types.js';
import { AbortedError } from '../../src/core/errors.js';
import type { RunFileFx } from '../fake-wandb/fixture-types.js';
import type { FakeWandb } from '../fake-wandb/server.js';
import { startFakeWandb } from '../fake-wandb/server.js';
import { apiFor, largestRunFile, readRange } from './helpers.js';

const E = 'demo-user';
const P = 'mnist-classifier';

function md5b64(b: Buffer): string {
  return createHash('md5').update(b).digest('base64');
}

describe('ranged downloads (demo fixture)', () => {
  let fake: FakeWandb;
  let big: { run: string; file: RunFileFx };
  const loc = (run: string, name: string): FileLocator => ({
    kind: 'run-file',
    entity: E,
    project: P,
    run,
    name,
  });

  before(async () => {
    fake = await startFakeWandb({ fixture: 'demo' });
    big = largestRunFile(fake, E, P);
    assert.ok(big.file.sizeBytes > 2 * 1024 * 1024, 'a multi-MiB file to test with');
  });
  after(async () => fake.close());
  beforeEach(async () => {
    await fake.settled();
    fake.resetFaults();
    fake.resetCounters();
  });

  it('every run file and artifact file downloads byte-exact (md5 = fixture digest)', async () => {
    const api = apiFor(fake, { sinkBatchBytes: 256 * 1024 });
    const p = fake.fixture.project(E, P)!;
    for (const r of p.runs) {
      for (const f of r.files) {
        const bytes = await readRange(api.rangeSource(loc(r.name, f.name), f.name), 0, f.sizeBytes);
        assert.equal(bytes.length, f.sizeBytes, f.name);
        assert.equal(md5b64(bytes), f.md5B64, `${r.name}/${f.name}`);
      }
    }
    for (const c of p.collections) {
      for (const m of c.memberships) {
        const art = fake.fixture.artifact(m.artifactId)!;
        for (const e of art.entries) {
          if (e.ref !== null) continue;
          const src = api.rangeSource({ kind: 'artifact-file', artifactId: art.id, path: e.path }, e.path);
          const bytes = await readRange(src, 0, e.size);
          assert.equal(md5b64(bytes), e.digest, `${c.name}:v${m.versionIndex}/${e.path}`);
        }
      }
    }
    api.close();
  });

  it('sub-ranges are byte-exact, chunks arrive in order, batches bounded', async () => {
    const api = apiFor(fake, { sinkBatchBytes: 100_000 });
    const content = fake.fixture.contentOf(big.file.blobId)!;
    const size = big.file.sizeBytes;
    const src = api.rangeSource(loc(big.run, big.file.name), big.file.name);
    for (const [s, e] of [
      [0, 1],
      [size - 1, size],
      [12345, 1_048_576 + 77],
      [1_048_576, 2_097_152],
      [5, 5],
    ] as const) {
      const sizes: number[] = [];
      const parts: Buffer[] = [];
      await src.fetchRange(
        s,
        e,
        async (c) => {
          sizes.push(c.length);
          parts.push(Buffer.from(c));
        },
        new AbortController().signal,
      );
      assert.ok(Buffer.concat(parts).equals(content.read(s, e)), `[${s}, ${e})`);
      assert.ok(
        sizes.every((n) => n <= 100_000 + 1_048_576),
        'no unbounded buffering',
      );
    }
    await assert.rejects(
      src.fetchRange(10, 5, async () => {}, new AbortController().signal),
      PermanentError,
    );
    api.close();
  });

  it('parallel chunks of one file share one signed-URL lookup', async () => {
    const api = apiFor(fake);
    const content = fake.fixture.contentOf(big.file.blobId)!;
    const src = api.rangeSource(loc(big.run, big.file.name), big.file.name);
    const chunk = 256 * 1024;
    const n = Math.floor(big.file.sizeBytes / chunk);
    const parts = await Promise.all(
      Array.from({ length: n }, (_, i) => readRange(src, i * chunk, (i + 1) * chunk)),
    );
    assert.ok(Buffer.concat(parts).equals(content.read(0, n * chunk)));
    assert.equal(fake.counters.graphqlOps.RunFileUrls, 1);
    assert.equal(fake.counters.storageRanges, n);
    api.close();
  });

  it('one range after another reuses one keep-alive connection (each body is read to its end)', async () => {
    const api = apiFor(fake);
    const content = fake.fixture.contentOf(big.file.blobId)!;
    const src = api.rangeSource(loc(big.run, big.file.name), big.file.name);
    const before = fake.counters.connections;
    for (let i = 0; i < 10; i++) {
      const got = await readRange(src, i * 64 * 1024, (i + 1) * 64 * 1024);
      assert.ok(got.equals(content.read(i * 64 * 1024, (i + 1) * 64 * 1024)), `range ${i} differs`);
    }
    const opened = fake.counters.connections - before;
    // before, every range destroyed its socket: 10 ranges, 10 handshakes
    assert.ok(opened <= 2, `10 sequential ranges opened ${opened} connections`);
    api.close();
  });

  it('never more than the download limit in flight', async () => {
    const api = apiFor(fake, { downloadConcurrency: 3 });
    fake.faults.storage.latencyMs = 10;
    const src = api.rangeSource(loc(big.run, big.file.name), big.file.name);
    await Promise.all(Array.from({ length: 40 }, (_, i) => readRange(src, i * 1000, i * 1000 + 500)));
    assert.equal(fake.counters.maxInFlight.storage, 3);
    api.close();
  });

  it('connection resets mid-body: resumes from the bytes delivered, result byte-exact', async () => {
    const api = apiFor(fake);
    fake.faults.storage.resetAfterBytes = 700_000;
    const content = fake.fixture.contentOf(big.file.blobId)!;
    const size = big.file.sizeBytes;
    const bytes = await readRange(api.rangeSource(loc(big.run, big.file.name), 'big'), 0, size);
    assert.ok(bytes.equals(content.read(0, size)));
    const requests = Math.ceil(size / 700_000);
    assert.ok(api.stats().storageRequests >= requests, `${api.stats().storageRequests} requests`);
    // Resumed, not restarted: the server sent each byte about once.
    assert.ok(fake.counters.storageBytes < size + 700_000 * 2, `${fake.counters.storageBytes} bytes served`);
    api.close();
  });

  it('a stalled body times out and resumes; a body that never starts gives up as TransientError', async () => {
    const api = apiFor(fake, {
      stallTimeoutMs: 150,
      downloadRetry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10, deadlineMs: 10_000 },
    });
    const content = fake.fixture.contentOf(big.file.blobId)!;
    const size = big.file.sizeBytes;
    fake.faults.storage.stall = true;
    fake.faults.storage.stallAfterBytes = 1_000_000;
    const bytes = await readRange(api.rangeSource(loc(big.run, big.file.name), 'big'), 0, size);
    assert.ok(bytes.equals(content.read(0, size)));

    fake.faults.storage.stallAfterBytes = 0;
    const t0 = Date.now();
    await assert.rejects(
      readRange(api.rangeSource(loc(big.run, big.file.name), 'big'), 0, size),
      TransientError,
    );
    assert.ok(Date.now() - t0 >= 3 * 150);
    api.close();
  });

  it('AbortSignal cancels a stalled download promptly', async () => {
    const api = apiFor(fake, { stallTimeoutMs: 60_000 });
    fake.faults.storage.stall = true;
    fake.faults.storage.stallAfterBytes = 1000;
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 200);
    await assert.rejects(
      readRange(api.rangeSource(loc(big.run, big.file.name), 'big'), 0, big.file.sizeBytes, ac.signal),
      AbortedError,
    );
    assert.ok(Date.now() - t0 < 5000);
    api.close();
  });

  it('a download cancelled while queued behind the limit returns at once', async () => {
    const api = apiFor(fake, { downloadConcurrency: 1, stallTimeoutMs: 60_000 });
    fake.faults.storage.stall = true;
    fake.faults.storage.stallAfterBytes = 0;
    const src = api.rangeSource(loc(big.run, big.file.name), 'big');
    const holder = new AbortController();
    const blocking = readRange(src, 0, 1000, holder.signal);
    // This test's own request on the server, not just any response still open: started later, it
    // could reach the server after holder.abort() and land in the next test's counters.
    while ((fake.counters.requests.storage ?? 0) < 1) await sleep(5);
    const ac = new AbortController();
    const queued = readRange(src, 0, 1000, ac.signal);
    await sleep(20);
    const t0 = Date.now();
    ac.abort();
    await assert.rejects(queued, AbortedError);
    assert.ok(Date.now() - t0 < 100);
    holder.abort();
    await assert.rejects(blocking, AbortedError);
    api.close();
  });

  for (const style of ['gcs', 's3'] as const) {
    it(`expired URLs (${style}): one fresh URL, then the authenticated File.url serves the bytes`, async () => {
      const api = apiFor(fake);
      fake.faults.storage.expiryStyle = style;
      fake.faults.storage.expireUrls = true;
      const size = 100_000;
      const bytes = await readRange(api.rangeSource(loc(big.run, big.file.name), 'big'), 0, size);
      assert.ok(bytes.equals(fake.fixture.contentOf(big.file.blobId)!.read(0, size)));
      assert.equal(fake.counters.graphqlOps.RunFileUrls, 2, 'the cached URL and one fresh one');
      assert.equal(fake.counters.requests.storage, 2);
      assert.equal(fake.counters.statusCounts[style === 'gcs' ? '400' : '403'], 2);
      assert.equal(fake.counters.requests['files-redirect'], 1, 'then File.url with W&B auth');
      api.close();
    });
  }

  it('when File.url fails too, the error says that the signed, fresh and fallback URLs all failed', async () => {
    const api = apiFor(fake);
    fake.faults.storage.expiryStyle = 'gcs';
    fake.faults.storage.expireUrls = true;
    fake.faults.storage.fallbackStatus = 403;
    await assert.rejects(
      readRange(api.rangeSource(loc(big.run, big.file.name), 'big'), 0, 100),
      (e) =>
        e instanceof UrlExpiredError &&
        /fresh one, and the authenticated fallback URL answered HTTP 403, for big/.test(e.message) &&
        !e.message.includes('Signature'),
    );
    assert.equal(fake.counters.graphqlOps.RunFileUrls, 2);
    api.close();
  });

  it('an artifact file falls back to its /artifactsV2/ URL', async () => {
    const api = apiFor(fake);
    const art = fake.fixture.artifact(
      fake.fixture.project(E, P)!.collections[0]!.memberships[0]!.artifactId,
    )!;
    const e = art.entries.find((x) => x.ref === null && x.size > 0)!;
    fake.faults.storage.expiryStyle = 'gcs';
    fake.faults.storage.expireUrls = true;
    const src = api.rangeSource({ kind: 'artifact-file', artifactId: art.id, path: e.path }, e.path);
    assert.equal(md5b64(await readRange(src, 0, e.size)), e.digest);
    assert.equal(fake.counters.requests['artifacts-v2'], 1);
    api.close();
  });

  it('an expired manifest URL is refreshed once, then read through its File.url', async () => {
    const api = apiFor(fake);
    const art = fake.fixture.project(E, P)!.collections[0]!.memberships[0]!.artifactId;
    fake.faults.storage.expiryStyle = 'gcs';
    fake.faults.storage.expireUrls = true;
    assert.ok((await api.manifest(art)).entries.length > 0);
    assert.equal(fake.counters.graphqlOps.ArtifactManifest, 2);
    assert.equal(fake.counters.requests['files-redirect'], 1);
    fake.faults.storage.fallbackStatus = 401;
    await assert.rejects(api.manifest(art), /authenticated fallback URL answered HTTP 401/);
    api.close();
  });

  it('a URL that expires between ranges is refreshed without re-reading delivered bytes', async () => {
    const api = apiFor(fake, { sinkBatchBytes: 64 * 1024 });
    fake.faults.storage.expiryStyle = 'gcs';
    const src = api.rangeSource(loc(big.run, big.file.name), 'big');
    const half = Math.floor(big.file.sizeBytes / 2);
    const first = await readRange(src, 0, half);
    fake.faults.storage.expireIssuedAtBytes = fake.counters.storageBytes;
    const rest = await readRange(src, half, big.file.sizeBytes);
    assert.equal(md5b64(Buffer.concat([first, rest])), big.file.md5B64);
    assert.equal(fake.counters.bytesByBlob[big.file.blobId], big.file.sizeBytes, 'no byte sent twice');
    assert.equal(fake.counters.requests['files-redirect'] ?? 0, 0, 'a fresh signed URL was enough');
    assert.equal(fake.counters.graphqlOps.RunFileUrls, 2);
    api.close();
  });

  it('missing files are NotFoundError without touching storage', async () => {
    const api = apiFor(fake);
    await assert.rejects(readRange(api.rangeSource(loc(big.run, 'no/such/file'), 'x'), 0, 1), NotFoundError);
    await assert.rejects(
      readRange(
        api.rangeSource({ kind: 'artifact-file', artifactId: 'QXJ0aWZhY3Q6MQ==', path: 'nope' }, 'x'),
        0,
        1,
      ),
      NotFoundError,
    );
    assert.equal(fake.counters.requests.storage ?? 0, 0);
    api.close();
  });
});

describe('signed URL expiry over time', () => {
  it('a cached URL that expired is replaced transparently', async () => {
    const fake = await startFakeWandb({ fixture: 'demo', signedUrlTtlMs: 1000 });
    const api = apiFor(fake, { signedUrlTtlMs: 60_000 });
    try {
      const p = fake.fixture.project(E, P)!;
      const run = [...p.runs][0]!;
      const f = [...run.files].find((x) => x.sizeBytes > 100)!;
      const l: FileLocator = { kind: 'run-file', entity: E, project: P, run: run.name, name: f.name };
      const src = api.rangeSource(l, f.name);
      const content = fake.fixture.contentOf(f.blobId)!;
      assert.ok((await readRange(src, 0, 50)).equals(content.read(0, 50)));
      await sleep(1300);
      assert.ok((await readRange(src, 50, 100)).equals(content.read(50, 100)));
      assert.equal(fake.counters.graphqlOps.RunFileUrls, 2);
      assert.equal(fake.counters.statusCounts['403'], 1);
    } finally {
      api.close();
      await fake.close();
    }
  });
});
