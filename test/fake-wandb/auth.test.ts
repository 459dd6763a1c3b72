import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEFAULT_API_KEY, startFakeWandb, type FakeWandb } from './server.js';
import { basicAuth, gql } from './test-client.js';

let s: FakeWandb;
before(async () => {
  s = await startFakeWandb();
});
after(async () => {
  await s.close();
});

const Q = '{ viewer { username } }';

test('default API key has the on-prem format', () => {
  assert.match(DEFAULT_API_KEY, /^local-[a-z0-9]{40}$/);
  assert.equal(s.apiKey, DEFAULT_API_KEY);
});

test('missing, wrong, or non-Basic credentials get 401 with a JSON error', async () => {
  for (const authorization of [
    null,
    basicAuth('local-' + 'x'.repeat(40)),
    basicAuth(s.apiKey, 'user'),
    `Bearer ${s.apiKey}`,
    'Basic !!!',
  ]) {
    const r = await gql(s, Q, {}, undefined, authorization);
    assert.equal(r.status, 401, String(authorization));
    assert.equal(r.data, null);
    assert.ok((r.errors?.[0]?.message ?? '').length > 0);
  }
  assert.equal(s.counters.statusCounts['401'], 5);
});

test('the right key is accepted; a custom key replaces the default', async () => {
  const r = await gql(s, Q);
  assert.equal(r.status, 200);
  assert.deepEqual(r.data, { viewer: { username: 'demo-user' } });
  const custom = await startFakeWandb({ apiKey: 'local-' + 'k'.repeat(40) });
  try {
    assert.equal((await gql(custom, Q)).status, 200);
    assert.equal((await gql(custom, Q, {}, undefined, basicAuth(DEFAULT_API_KEY))).status, 401);
  } finally {
    await custom.close();
  }
});

test('non-POST and malformed bodies are rejected without crashing', async () => {
  assert.equal(
    (await fetch(`${s.url}/graphql`, { headers: { authorization: basicAuth(s.apiKey) } })).status,
    405,
  );
  const bad = await fetch(`${s.url}/graphql`, {
    method: 'POST',
    headers: { authorization: basicAuth(s.apiKey) },
    body: '{not json',
  });
  assert.equal(bad.status, 400);
  const syntax = await gql(s, '{ viewer { ');
  assert.equal(syntax.status, 200);
  assert.match(syntax.errors?.[0]?.message ?? '', /Syntax Error/);
});
