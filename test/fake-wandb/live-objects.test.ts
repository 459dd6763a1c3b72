/**
 * The fake's live objects (live-objects.ts): a URL handed out before a run file changed serves the
 * new bytes with their true size, the listing shows the new size and MD5 only when asked again, and
 * replaceObject changes the bytes while every listing keeps the old record.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startFakeWandb, type FakeWandb } from './server.js';
import { basicAuth, runFileDirectUrl } from './test-client.js';

const E = 'demo-user';
const P = 'mnist-classifier';
const LIVE = 'q7r8s9t0';

let s: FakeWandb;
before(async () => {
  s = await startFakeWandb({ fixture: 'demo' });
});
after(async () => {
  await s.close();
});

const md5B64 = (b: Buffer) => createHash('md5').update(b).digest('base64');

test('appendToRunFile: old URLs serve the grown object; the next listing shows its size and MD5', async () => {
  const listed = await runFileDirectUrl(s, E, P, LIVE, 'output.log');
  const old = Buffer.from(await (await fetch(listed.directUrl)).arrayBuffer());
  const tail = Buffer.from('step 9999\n');
  s.live.appendToRunFile(E, P, LIVE, 'output.log', tail);
  const grown = Buffer.concat([old, tail]);
  const ranged = await fetch(listed.directUrl, { headers: { range: 'bytes=0-9' } });
  assert.equal(ranged.status, 206);
  assert.equal(ranged.headers.get('content-range'), `bytes 0-9/${grown.length}`);
  await ranged.arrayBuffer();
  const fallback = await fetch(listed.url, { headers: { authorization: basicAuth(s.apiKey) } });
  assert.ok(Buffer.from(await fallback.arrayBuffer()).equals(grown), 'File.url serves the new bytes');
  const relisted = await runFileDirectUrl(s, E, P, LIVE, 'output.log');
  assert.equal(relisted.sizeBytes, grown.length);
  assert.equal(relisted.md5, md5B64(grown));
  assert.ok(Buffer.from(await (await fetch(relisted.directUrl)).arrayBuffer()).equals(grown));
});

test('replaceObject: the bytes change, every listing keeps the old size and MD5', async () => {
  const listed = await runFileDirectUrl(s, E, P, 'a1b2c3d4', 'output.log');
  const file = s.fixture.run(E, P, 'a1b2c3d4')!.files.get('output.log')!;
  s.live.replaceObject(file.blobId, Buffer.from('overwritten\n'));
  const body = Buffer.from(await (await fetch(listed.directUrl)).arrayBuffer());
  assert.equal(body.toString(), 'overwritten\n');
  const again = await runFileDirectUrl(s, E, P, 'a1b2c3d4', 'output.log');
  assert.equal(again.sizeBytes, listed.sizeBytes);
  assert.equal(again.md5, listed.md5);
});
