import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateBytes } from './content.js';
import { startFakeWandb, type FakeWandb } from './server.js';
import { basicAuth, gqlData, runFileDirectUrl } from './test-client.js';

const E = 'demo-user';
const P = 'mnist-classifier';
const R = 'a1b2c3d4';
const CKPT = 'checkpoints/model.pt';

let s: FakeWandb;
before(async () => {
  s = await startFakeWandb({ fixture: 'demo' });
});
after(async () => {
  await s.close();
});

async function bytesOf(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer());
}

test('full GET: Content-Length, ETag, Accept-Ranges, bytes match the fixture and File.md5', async () => {
  const f = await runFileDirectUrl(s, E, P, R, CKPT);
  const file = s.fixture.run(E, P, R)?.files.get(CKPT);
  assert.ok(file);
  const res = await fetch(f.directUrl);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(file.sizeBytes));
  assert.equal(res.headers.get('accept-ranges'), 'bytes');
  const body = await bytesOf(res);
  const md5 = createHash('md5').update(body).digest();
  assert.equal(res.headers.get('etag'), `"${md5.toString('hex')}"`);
  assert.equal(md5.toString('base64'), f.md5);
  assert.equal(md5.toString('base64'), file.md5B64);
  assert.ok(body.equals(s.fixture.contentOf(file.blobId)?.read(0, file.sizeBytes) ?? Buffer.alloc(0)));
});

test('Range: a-b, a-, -n give 206 + Content-Range; out of range gives 416; HEAD has no body', async () => {
  const f = await runFileDirectUrl(s, E, P, R, CKPT);
  const size = f.sizeBytes;
  const full = await bytesOf(await fetch(f.directUrl));
  const before = s.counters.storageRanges;
  const cases: [string, number, number][] = [
    ['bytes=0-0', 0, 1],
    ['bytes=1048570-1048580', 1048570, 1048581],
    [`bytes=${size - 5}-`, size - 5, size],
    ['bytes=-7', size - 7, size],
    [`bytes=-${size + 100}`, 0, size],
    [`bytes=100-${size + 50}`, 100, size],
  ];
  for (const [range, start, end] of cases) {
    const res = await fetch(f.directUrl, { headers: { range } });
    assert.equal(res.status, 206, range);
    assert.equal(res.headers.get('content-range'), `bytes ${start}-${end - 1}/${size}`, range);
    assert.equal(res.headers.get('content-length'), String(end - start), range);
    assert.ok((await bytesOf(res)).equals(full.subarray(start, end)), range);
  }
  assert.equal(s.counters.storageRanges - before, cases.length);
  for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, 'bytes=-0']) {
    const res = await fetch(f.directUrl, { headers: { range } });
    assert.equal(res.status, 416, range);
    assert.equal(res.headers.get('content-range'), `bytes */${size}`);
    await res.arrayBuffer();
  }
  const head = await fetch(f.directUrl, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(size));
  assert.equal((await bytesOf(head)).length, 0);
});

test('signed URLs: tampered signature or expiry is 403; a fresh URL works again', async () => {
  const f = await runFileDirectUrl(s, E, P, R, 'output.log');
  const u = new URL(f.directUrl);
  const sig = u.searchParams.get('Signature') ?? '';
  u.searchParams.set('Signature', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
  assert.equal((await fetch(u)).status, 403);
  const u2 = new URL(f.directUrl);
  u2.searchParams.set('Expires', String(Number(u2.searchParams.get('Expires')) + 1000));
  assert.equal((await fetch(u2)).status, 403, 'extending Expires breaks the signature');
  const other = new URL(f.directUrl);
  other.pathname = '/storage/g.1.10';
  assert.equal((await fetch(other)).status, 403, 'a signature is bound to its blob');

  const short = await startFakeWandb({ fixture: 'demo', signedUrlTtlMs: 150 });
  try {
    const g = await runFileDirectUrl(short, E, P, R, 'output.log');
    assert.equal((await fetch(g.directUrl)).status, 200);
    await sleep(300);
    const expired = await fetch(g.directUrl);
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /expired/);
    const fresh = await runFileDirectUrl(short, E, P, R, 'output.log');
    assert.equal((await fetch(fresh.directUrl)).status, 200);
  } finally {
    await short.close();
  }
});

test('File.url needs W&B auth and serves the same bytes, with Range, even while signed URLs expire', async () => {
  const f = await runFileDirectUrl(s, E, P, R, 'output.log');
  assert.equal((await fetch(f.url)).status, 401);
  assert.equal((await fetch(f.url, { headers: { authorization: basicAuth('wrong') } })).status, 401);
  const before = s.counters.requests['files-redirect'] ?? 0;
  s.faults.storage.expireUrls = true;
  try {
    assert.equal((await fetch(f.directUrl)).status, 403);
    const body = await bytesOf(await fetch(f.url, { headers: { authorization: basicAuth(s.apiKey) } }));
    assert.equal(createHash('md5').update(body).digest('base64'), f.md5);
    const part = await fetch(f.url, { headers: { authorization: basicAuth(s.apiKey), range: 'bytes=2-5' } });
    assert.equal(part.status, 206);
    assert.ok((await bytesOf(part)).equals(body.subarray(2, 6)));
  } finally {
    s.faults.storage.expireUrls = false;
  }
  assert.equal(s.counters.requests['files-redirect'], before + 2);
});

test('artifact File.url is the SDK-shaped /artifactsV2/ URL: auth, same bytes, 404 for an unknown MD5', async () => {
  const art = s.fixture.artifact(s.fixture.project(E, P)!.collections[0]!.memberships[0]!.artifactId)!;
  const e = art.entries.find((x) => x.ref === null)!;
  const d = await gqlData<{ artifact: { files: { edges: { node: { url: string; directUrl: string } }[] } } }>(
    s,
    `query A($id: ID!, $n: [String!]) { artifact(id: $id) { files(names: $n) { edges { node { url directUrl } } } } }`,
    { id: art.id, n: [e.path] },
  );
  const url = d.artifact.files.edges[0]!.node.url;
  const hex = Buffer.from(e.digest, 'base64').toString('hex');
  assert.ok(url.startsWith(`${s.url}/artifactsV2/default/${E}/${P}/`), url);
  assert.ok(url.includes(`/${encodeURIComponent(art.id)}/`) && url.includes(`/${hex}/`), url);
  assert.equal((await fetch(url)).status, 401);
  const body = await bytesOf(await fetch(url, { headers: { authorization: basicAuth(s.apiKey) } }));
  assert.equal(createHash('md5').update(body).digest('base64'), e.digest);
  const bad = url.replace(hex, '0'.repeat(32));
  assert.equal((await fetch(bad, { headers: { authorization: basicAuth(s.apiKey) } })).status, 404);
});

test('expiry GCS-style answers 400 ExpiredToken; expireIssuedAtBytes expires only URLs signed before it fired', async () => {
  s.faults.storage.expiryStyle = 'gcs';
  try {
    const old = await runFileDirectUrl(s, E, P, R, 'output.log');
    s.faults.storage.expireIssuedAtBytes = s.counters.storageBytes;
    const res = await fetch(old.directUrl);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /<Code>ExpiredToken<\/Code>/);
    assert.equal(s.faults.storage.expireIssuedAtBytes, null, 'one-shot');
    const fresh = await runFileDirectUrl(s, E, P, R, 'output.log');
    const ok = await fetch(fresh.directUrl);
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    assert.equal((await fetch(old.directUrl)).status, 400, 'a revoked URL stays expired');
  } finally {
    s.resetFaults();
  }
});

test('generated bytes are deterministic, seed-dependent, and streams match reads and the memoized MD5', async () => {
  const a = generateBytes(42, 1_000_000, 1_100_000);
  assert.ok(a.equals(generateBytes(42, 1_000_000, 1_100_000)));
  assert.ok(!a.equals(generateBytes(43, 1_000_000, 1_100_000)));
  // Block boundaries (1 MiB) and unaligned offsets agree with one big read.
  const big = generateBytes(42, 0, 3 << 20);
  assert.ok(big.subarray(1_000_001, 1_100_003).equals(generateBytes(42, 1_000_001, 1_100_003)));
  // Blocks of one seed are not copies of each other.
  assert.ok(!big.subarray(0, 1 << 20).equals(big.subarray(1 << 20, 2 << 20)));
  const file = s.fixture.run(E, P, R)?.files.get(CKPT);
  assert.ok(file);
  const content = s.fixture.contentOf(file.blobId);
  assert.ok(content);
  const h = createHash('md5');
  for await (const chunk of content.stream(0, content.sizeBytes)) h.update(chunk as Buffer);
  assert.equal(h.digest('base64'), content.md5B64);
  assert.equal(await content.md5B64Async(), content.md5B64);
  const part: Buffer[] = [];
  for await (const chunk of content.stream(5, 2_000_000)) part.push(chunk as Buffer);
  assert.ok(Buffer.concat(part).equals(content.read(5, 2_000_000)));
});

test('storage needs no W&B auth; unknown routes are 404', async () => {
  const f = await runFileDirectUrl(s, E, P, R, 'output.log');
  const res = await fetch(f.directUrl, { headers: {} });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  assert.equal((await fetch(`${s.url}/nope`)).status, 404);
});
