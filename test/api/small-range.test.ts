/**
 * ApiRangeSource.fetchSmall against the fake server: the one-shot GET behind a random reader's
 * urgent miss (blobs/urgent-ranges.ts). Its misbehaving-storage cases are in download-edge.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { TransientError } from '../../src/api/errors.js';
import type { FileLocator, RangeSource } from '../../src/api/types.js';
import { ManualClock } from '../../src/core/clock.js';
import type { RunFileFx } from '../fake-wandb/fixture-types.js';
import type { FakeWandb } from '../fake-wandb/server.js';
import { startFakeWandb } from '../fake-wandb/server.js';
import { apiFor, largestRunFile, readRange } from './helpers.js';

const E = 'demo-user';
const P = 'mnist-classifier';

function small(src: RangeSource, start: number, end: number): Promise<Buffer> {
  const buf = Buffer.alloc(end - start);
  const p = src.fetchSmall?.(start, end, buf);
  if (!p) return Promise.reject(new Error('no small fetch offered'));
  return p.then(() => buf);
}

describe('one-shot small range fetches (demo fixture)', () => {
  let fake: FakeWandb;
  let big: { run: string; file: RunFileFx };
  const loc = (): FileLocator => ({
    kind: 'run-file',
    entity: E,
    project: P,
    run: big.run,
    name: big.file.name,
  });

  before(async () => {
    fake = await startFakeWandb({ fixture: 'demo' });
    big = largestRunFile(fake, E, P);
  });
  after(async () => fake.close());
  beforeEach(() => {
    fake.resetFaults();
    fake.resetCounters();
  });

  it('reads exact bytes, one request each, on one keep-alive connection', async () => {
    const api = apiFor(fake);
    const content = fake.fixture.contentOf(big.file.blobId)!;
    const src = api.rangeSource(loc(), big.file.name, big.file.sizeBytes);
    const before = fake.counters.connections;
    for (let i = 0; i < 10; i++) {
      const start = (i * 7919 * 16) % (big.file.sizeBytes - 16384);
      assert.ok((await small(src, start, start + 16384)).equals(content.read(start, start + 16384)), `${i}`);
    }
    assert.equal(fake.counters.requests.storage, 10);
    assert.equal(fake.counters.graphqlOps.RunFileUrls, 1, 'the URL is looked up once');
    assert.ok(fake.counters.connections - before <= 2, `${fake.counters.connections - before} connections`);
    api.close();
  });

  it('is not queued behind a download holding the only download slot', async () => {
    const api = apiFor(fake, { downloadConcurrency: 1 });
    const content = fake.fixture.contentOf(big.file.blobId)!;
    const src = api.rangeSource(loc(), big.file.name, big.file.sizeBytes);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const background = src.fetchRange(0, 1 << 20, () => held, new AbortController().signal);
    try {
      assert.ok((await small(src, 5000, 6000)).equals(content.read(5000, 6000)));
    } finally {
      release();
      await background;
    }
    api.close();
  });

  it('a rejected signed URL fails this fetch and drops the URL: the next one asks W&B for a fresh one', async () => {
    const api = apiFor(fake);
    const content = fake.fixture.contentOf(big.file.blobId)!;
    const src = api.rangeSource(loc(), big.file.name, big.file.sizeBytes);
    assert.ok((await small(src, 0, 100)).equals(content.read(0, 100)));
    // every URL issued so far expires at the next storage request, GCS-style (400)
    fake.faults.storage.expiryStyle = 'gcs';
    fake.faults.storage.expireIssuedAtBytes = 0;
    await assert.rejects(small(src, 100, 200));
    assert.equal(fake.counters.statusCounts['400'], 1);
    assert.ok((await small(src, 200, 300)).equals(content.read(200, 300)));
    assert.equal(fake.counters.graphqlOps.RunFileUrls, 2, 'one fresh URL');
    api.close();
  });

  it('once the file is read from its fallback URL, it leaves small fetches to fetchRange', async () => {
    const api = apiFor(fake);
    fake.faults.storage.expireUrls = true;
    const src = api.rangeSource(loc(), big.file.name, big.file.sizeBytes);
    const content = fake.fixture.contentOf(big.file.blobId)!;
    assert.ok((await readRange(src, 0, 1000)).equals(content.read(0, 1000)), 'via File.url');
    assert.equal(src.fetchSmall?.(0, 10, Buffer.alloc(10)), null);
    api.close();
  });

  it('steps aside after storage throttles or fails it, until Retry-After (else 1 s) has passed', async () => {
    const clock = new ManualClock(Date.now());
    const api = apiFor(fake, { clock });
    const content = fake.fixture.contentOf(big.file.blobId)!;
    const src = api.rangeSource(loc(), big.file.name, big.file.sizeBytes);
    fake.faults.storage.rate429 = 1;
    fake.faults.storage.retryAfterSec = 2;
    await assert.rejects(small(src, 0, 100));
    assert.equal(
      src.fetchSmall?.(0, 100, Buffer.alloc(100)),
      null,
      'throttled: fetchRange backs off instead',
    );
    fake.faults.storage.rate429 = 0;
    clock.advance(1900);
    assert.equal(src.fetchSmall?.(0, 100, Buffer.alloc(100)), null, 'still within Retry-After');
    clock.advance(200);
    assert.ok((await small(src, 0, 100)).equals(content.read(0, 100)));
    fake.faults.storage.rate500 = 1;
    await assert.rejects(small(src, 100, 200));
    assert.equal(src.fetchSmall?.(100, 200, Buffer.alloc(100)), null, 'a 5xx pauses them too');
    fake.faults.storage.rate500 = 0;
    clock.advance(1001);
    assert.ok((await small(src, 100, 200)).equals(content.read(100, 200)));
    api.close();
  });

  it('a body that stalls or ends early fails the fetch as TransientError (the reader then waits for its chunk)', async () => {
    const api = apiFor(fake, { stallTimeoutMs: 300 });
    const src = api.rangeSource(loc(), big.file.name, big.file.sizeBytes);
    fake.faults.storage.stall = true;
    fake.faults.storage.stallAfterBytes = 100;
    await assert.rejects(small(src, 0, 1000), TransientError, 'stalled after 100 of 1000 bytes');
    fake.faults.storage.stall = false;
    fake.faults.storage.resetAfterBytes = 100;
    await assert.rejects(small(src, 0, 1000), TransientError, 'connection reset after 100 bytes');
    fake.faults.storage.resetAfterBytes = null;
    const content = fake.fixture.contentOf(big.file.blobId)!;
    assert.ok((await small(src, 0, 1000)).equals(content.read(0, 1000)), 'and the next one reads');
    api.close();
  });
});
