import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createWandbApi } from '../../src/api/client.js';
import { ForbiddenError, PermanentError, TransientError } from '../../src/api/errors.js';
import type { FetchFn } from '../../src/api/transport.js';
import { ManualClock } from '../../src/core/clock.js';
import { AbortedError } from '../../src/core/errors.js';

const KEY = 'local-transporttestkey000000000000000000000000';
const VIEWER = { data: { viewer: { id: 'VXNlcjox', username: 'u', entity: 'u', teams: { edges: [] } } } };

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** A scripted fetch: answers come from `answer(n)` for the n-th call (0-based). */
function scripted(answer: (n: number, call: Call) => Response | Promise<Response>): {
  fetch: FetchFn;
  calls: Call[];
} {
  const calls: Call[] = [];
  const fetch: FetchFn = async (input, init) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    const call: Call = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers,
      body: JSON.parse(String(init?.body)) as Record<string, unknown>,
    };
    calls.push(call);
    return answer(calls.length - 1, call);
  };
  return { fetch, calls };
}

function api(
  fetch: FetchFn,
  extra: Parameters<typeof createWandbApi>[0] extends infer O ? Partial<O> : never = {},
) {
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  const sleeps: number[] = [];
  const client = createWandbApi({
    baseUrl: 'http://wandb.invalid',
    apiKey: KEY,
    fetch,
    clock,
    retryDeps: {
      clock,
      random: () => 0,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.advance(ms);
      },
    },
    ...extra,
  });
  return { client, sleeps };
}

describe('GraphQL transport', () => {
  it('POSTs named operations with Basic api:<key> and a wandbfs User-Agent', async () => {
    const s = scripted(() => json(200, VIEWER));
    const { client } = api(s.fetch);
    await client.viewer();
    const c = s.calls[0]!;
    assert.equal(c.url, 'http://wandb.invalid/graphql');
    assert.equal(c.method, 'POST');
    assert.equal(c.headers.authorization, `Basic ${Buffer.from(`api:${KEY}`).toString('base64')}`);
    assert.match(c.headers['user-agent'] ?? '', /^wandbfs\/\d+\.\d+\.\d+/);
    assert.equal(c.body.operationName, 'Viewer');
    assert.match(String(c.body.query), /query Viewer/);
  });

  it('identical concurrent queries are separate requests, each with its own cancellation', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = scripted(async () => {
      await gate;
      return json(200, VIEWER);
    });
    const { client } = api(s.fetch);
    const ac = new AbortController();
    const a = client.viewer(ac.signal);
    const b = client.viewer();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(s.calls.length, 2);
    ac.abort();
    await assert.rejects(a, AbortedError);
    release();
    assert.equal((await b).username, 'u');
  });

  it('400 with GraphQL errors: PermanentError carrying the message, not retried', async () => {
    const s = scripted(() => json(400, { errors: [{ message: 'Cannot query field "x" on type "User".' }] }));
    const { client } = api(s.fetch);
    await assert.rejects(
      client.viewer(),
      (e) => e instanceof PermanentError && /Cannot query field/.test(e.message),
    );
    assert.equal(s.calls.length, 1);
  });

  it('200 with errors: PermanentError', async () => {
    const s = scripted(() => json(200, { data: null, errors: [{ message: 'boom' }] }));
    const { client } = api(s.fetch);
    await assert.rejects(client.viewer(), (e) => e instanceof PermanentError && /boom/.test(e.message));
  });

  it('403 is ForbiddenError and not retried', async () => {
    const s = scripted(() => json(403, { error: 'permission denied' }));
    const { client } = api(s.fetch);
    await assert.rejects(client.viewer(), ForbiddenError);
    assert.equal(s.calls.length, 1);
  });

  it('503 with an HTTP-date Retry-After waits that long, then succeeds', async () => {
    const s = scripted((n) =>
      n === 0
        ? json(503, { error: 'busy' }, { 'retry-after': 'Thu, 01 Jan 2026 00:00:42 GMT' })
        : json(200, VIEWER),
    );
    const { client, sleeps } = api(s.fetch);
    await client.viewer();
    assert.equal(s.calls.length, 2);
    assert.ok(sleeps[0]! >= 42_000 && sleeps[0]! < 43_100, `slept ${sleeps[0]}`);
    assert.equal(client.stats().rateLimited, 1);
  });

  it('a network failure is retried and, when it persists, is a TransientError without the URL query', async () => {
    const s = scripted(() => {
      throw new TypeError('fetch failed');
    });
    const { client } = api(s.fetch, { retry: { maxAttempts: 3 } });
    await assert.rejects(client.viewer(), TransientError);
    assert.equal(s.calls.length, 3);
    assert.equal(client.stats().retries, 2);
  });

  it('a malformed response shape is a PermanentError naming the path', async () => {
    const s = scripted(() => json(200, { data: { viewer: { id: 5 } } }));
    const { client } = api(s.fetch);
    await assert.rejects(client.viewer(), /viewer\.id/);
  });
});
