import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Agent, get } from 'node:http';
import { after, afterEach, before, test } from 'node:test';
import { startFakeWandb, type FakeWandb } from './server.js';
import { gql, runFileDirectUrl } from './test-client.js';

const E = 'demo-user';
const P = 'mnist-classifier';
const R = 'a1b2c3d4';
const PNG = 'media/images/sample_0.png'; // 65,536 bytes

let s: FakeWandb;
before(async () => {
  s = await startFakeWandb({ fixture: 'demo' });
});
afterEach(() => {
  s.resetFaults();
  s.resetCounters();
});
after(async () => {
  await s.close();
});

const VIEWER = 'query V { viewer { username } }';

test('latency applies per route', async () => {
  s.faults.graphql.latencyMs = 200;
  let t0 = Date.now();
  assert.equal((await gql(s, VIEWER)).status, 200);
  assert.ok(Date.now() - t0 >= 190, 'graphql delayed');
  const f = await runFileDirectUrl(s, E, P, R, 'output.log');
  s.faults.graphql.latencyMs = 0;
  s.faults.storage.latencyMs = 200;
  t0 = Date.now();
  await (await fetch(f.directUrl)).arrayBuffer();
  assert.ok(Date.now() - t0 >= 190, 'storage delayed');
  t0 = Date.now();
  await gql(s, VIEWER);
  assert.ok(Date.now() - t0 < 190, 'graphql not delayed by storage latency');
});

test('bandwidth cap per connection', async () => {
  const f = await runFileDirectUrl(s, E, P, R, PNG);
  s.faults.storage.bandwidthBytesPerSec = 131_072;
  const t0 = Date.now();
  const body = Buffer.from(await (await fetch(f.directUrl)).arrayBuffer());
  const ms = Date.now() - t0;
  assert.equal(body.length, 65_536);
  assert.ok(ms >= 420, `65 KiB at 128 KiB/s took only ${ms} ms`);
  assert.equal(createHash('md5').update(body).digest('base64'), f.md5);
});

test('429 with Retry-After, 500 and 503, separately for graphql and storage', async () => {
  const f = await runFileDirectUrl(s, E, P, R, 'output.log');
  s.faults.graphql.rate429 = 1;
  s.faults.graphql.retryAfterSec = 7;
  const r = await gql(s, VIEWER);
  assert.equal(r.status, 429);
  assert.equal(r.headers.get('retry-after'), '7');
  const ok = await fetch(f.directUrl);
  assert.equal(ok.status, 200, 'storage unaffected by graphql faults');
  await ok.arrayBuffer();
  s.resetFaults();
  for (const [knob, status] of [
    ['rate500', 500],
    ['rate503', 503],
    ['rate429', 429],
  ] as const) {
    s.resetFaults();
    s.faults.storage[knob] = 1;
    const res = await fetch(f.directUrl);
    assert.equal(res.status, status);
    await res.arrayBuffer();
    assert.equal((await gql(s, VIEWER)).status, 200, 'graphql unaffected by storage faults');
    s.resetFaults();
    s.faults.graphql[knob] = 1;
    assert.equal((await gql(s, VIEWER)).status, status);
  }
  assert.equal(s.counters.statusCounts['503'], 2);
});

test('fault draws are seeded: the same requests see the same faults after resetFaults()', async () => {
  const run = async (): Promise<number[]> => {
    s.resetFaults();
    s.faults.graphql.rate500 = 0.5;
    const out: number[] = [];
    for (let i = 0; i < 24; i++) out.push((await gql(s, VIEWER)).status);
    return out;
  };
  const a = await run();
  const b = await run();
  assert.deepEqual(a, b);
  assert.ok(a.includes(200) && a.includes(500), `mixed outcomes expected: ${a.join(',')}`);
});

test('resetRate destroys the connection without a response', async () => {
  s.faults.graphql.resetRate = 1;
  await assert.rejects(gql(s, VIEWER));
  s.resetFaults();
  const f = await runFileDirectUrl(s, E, P, R, 'output.log');
  s.faults.storage.resetRate = 1;
  await assert.rejects(fetch(f.directUrl));
  assert.equal(s.counters.statusCounts.reset, 2);
});

test('resetAfterBytes cuts the body after N bytes', async () => {
  const f = await runFileDirectUrl(s, E, P, R, PNG);
  s.faults.storage.resetAfterBytes = 10_000;
  const before = s.counters.storageBytes;
  const res = await fetch(f.directUrl);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), '65536');
  await assert.rejects(res.arrayBuffer());
  assert.equal(s.counters.storageBytes - before, 10_000);
  s.faults.storage.resetAfterBytes = 0;
  const res0 = await fetch(f.directUrl).catch(() => null);
  if (res0 !== null) await assert.rejects(res0.arrayBuffer());
});

test('corrupt flips bytes: same length, digest mismatch', async () => {
  const f = await runFileDirectUrl(s, E, P, R, PNG);
  s.faults.storage.corrupt = true;
  const body = Buffer.from(await (await fetch(f.directUrl)).arrayBuffer());
  assert.equal(body.length, 65_536);
  assert.notEqual(createHash('md5').update(body).digest('base64'), f.md5);
  s.faults.storage.corrupt = false;
  const clean = Buffer.from(await (await fetch(f.directUrl)).arrayBuffer());
  assert.equal(createHash('md5').update(clean).digest('base64'), f.md5);
});

test('stall sends headers and some bytes, then never finishes', async () => {
  const f = await runFileDirectUrl(s, E, P, R, PNG);
  s.faults.storage.stall = true;
  s.faults.storage.stallAfterBytes = 1000;
  const ac = new AbortController();
  const res = await fetch(f.directUrl, { signal: ac.signal });
  assert.equal(res.status, 200);
  const reader = res.body?.getReader();
  assert.ok(reader);
  let got = 0;
  const timer = setTimeout(() => ac.abort(), 400);
  await assert.rejects(
    (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        got += value.length;
      }
    })(),
  );
  clearTimeout(timer);
  assert.equal(got, 1000);
});

test('stall: a range that ends before the stall point is answered whole, and the socket serves more', async () => {
  const f = await runFileDirectUrl(s, E, P, R, PNG);
  s.faults.storage.stall = true;
  s.faults.storage.stallAfterBytes = 1000;
  // One keep-alive socket: a response left open after its last byte would hold the second one.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (const range of ['bytes=0-499', 'bytes=500-999']) {
      const body = await new Promise<Buffer>((resolve, reject) => {
        const req = get(f.directUrl, { agent, headers: { range }, timeout: 3000 }, (res) => {
          assert.equal(res.statusCode, 206);
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve(Buffer.concat(parts)));
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`no answer to ${range} within 3 s`)));
        req.on('error', reject);
      });
      assert.equal(body.length, 500, range);
    }
  } finally {
    agent.destroy();
  }
});

test('expireUrls makes every signed URL answer 403', async () => {
  const f = await runFileDirectUrl(s, E, P, R, 'output.log');
  s.faults.storage.expireUrls = true;
  assert.equal((await fetch(f.directUrl)).status, 403);
  s.faults.storage.expireUrls = false;
  const res = await fetch(f.directUrl);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
});

test('stop() is an outage on the same port; start() serves again with state kept', async () => {
  const url = s.url;
  await gql(s, VIEWER);
  await s.stop();
  await assert.rejects(gql(s, VIEWER));
  await s.start();
  assert.equal(s.url, url);
  assert.equal((await gql(s, VIEWER)).status, 200);
  assert.equal(s.counters.graphqlOps.V, 2);
});

test('counters: requests, operations, bytes, ranges, in-flight maxima, statuses', async () => {
  const f = await runFileDirectUrl(s, E, P, R, PNG);
  s.faults.graphql.latencyMs = 150;
  await Promise.all([
    gql(s, VIEWER),
    gql(s, VIEWER),
    gql(s, 'query Other { serverInfo { cliVersionInfo } }'),
  ]);
  assert.ok(s.counters.maxInFlight.graphql >= 3);
  assert.equal(s.counters.inFlight.graphql, 0);
  assert.equal(s.counters.graphqlOps.V, 2);
  assert.equal(s.counters.graphqlOps.Other, 1);
  assert.equal(s.counters.graphqlOps.F, 1);
  await (await fetch(f.directUrl)).arrayBuffer();
  await (await fetch(f.directUrl, { headers: { range: 'bytes=0-99' } })).arrayBuffer();
  assert.equal(s.counters.storageBytes, 65_536 + 100);
  assert.equal(s.counters.storageRanges, 1);
  assert.equal(s.counters.requests.storage, 2);
  assert.equal(s.counters.requests.graphql, 4);
  assert.equal(s.counters.statusCounts['206'], 1);
  assert.equal(s.counters.statusCounts['200'], 5);
  assert.equal(s.counters.inFlight.storage, 0);
  const blob = s.fixture.run(E, P, R)?.files.get(PNG)?.blobId ?? '';
  assert.equal(s.counters.storageByBlob[blob], 2);
  s.resetCounters();
  assert.deepEqual(s.counters.requests, {});
  assert.equal(s.counters.storageBytes, 0);
});

test('a quota sends RateLimit-Remaining/-Reset on every answer and 429 past it, with the chosen headers', async () => {
  s.faults.graphql.quota = { limit: 2, windowMs: 60_000 };
  s.faults.graphql.rateLimitHeaders = 'ratelimit';
  const a = await gql(s, VIEWER);
  assert.equal(a.status, 200);
  assert.equal(a.headers.get('ratelimit-remaining'), '1');
  assert.ok(Number(a.headers.get('ratelimit-reset')) > 59);
  assert.equal((await gql(s, VIEWER)).headers.get('ratelimit-remaining'), '0');
  const over = await gql(s, VIEWER);
  assert.equal(over.status, 429);
  assert.equal(over.headers.get('ratelimit-remaining'), '0');
  assert.equal(over.headers.get('retry-after'), null, "'ratelimit' sends no Retry-After");
  s.faults.graphql.rateLimitHeaders = 'both';
  const both = await gql(s, VIEWER);
  assert.equal(both.status, 429);
  assert.ok(Number(both.headers.get('retry-after')) >= 59);
  s.faults.graphql.rateLimitHeaders = 'retry-after';
  assert.equal((await gql(s, VIEWER)).headers.get('retry-after') !== null, true);
});
