import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createWandbApi } from '../../src/api/client.js';
import { PermanentError } from '../../src/api/errors.js';
import { ContentChangedError } from '../../src/core/errors.js';
import type { FetchFn } from '../../src/api/transport.js';
import { readRange } from './helpers.js';

/** Storage that misbehaves in ways the fake server does not: ignores Range, lies in Content-Range. */
const BODY = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));

describe('storage edge cases (local stub storage, scripted GraphQL)', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((req, res) => {
      const mode = new URL(req.url ?? '/', 'http://x').pathname.slice(1);
      if (mode === 'ignore-range') {
        res.writeHead(200, { 'content-length': BODY.length });
        res.end(BODY);
      } else if (mode === 'wrong-range') {
        res.writeHead(206, { 'content-range': `bytes 0-9/${BODY.length}`, 'content-length': 10 });
        res.end(BODY.subarray(0, 10));
      } else if (mode === 'short-range') {
        // Serves at most 1000 bytes per request, as a server may: the client must ask for the rest.
        const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '')!;
        const s = Number(m[1]);
        const e = Math.min(Number(m[2]), s + 999);
        res.writeHead(206, {
          'content-range': `bytes ${s}-${e}/${BODY.length}`,
          'content-length': e - s + 1,
        });
        res.end(BODY.subarray(s, e + 1));
      } else if (mode === 'gone') {
        res.writeHead(416, { 'content-range': `bytes */${BODY.length}` });
        res.end();
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => new Promise<void>((r) => server.close(() => r())));

  function apiServing(mode: string, expectedSize?: number) {
    const fetch: FetchFn = async () =>
      new Response(
        JSON.stringify({
          data: {
            project: {
              id: 'p',
              run: {
                id: 'r',
                files: { edges: [{ node: { name: 'f.bin', directUrl: `${base}/${mode}?sig=1` } }] },
              },
            },
          },
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      );
    const api = createWandbApi({
      baseUrl: 'http://wandb.invalid',
      apiKey: 'local-edgecasekey00000000000000000000000000',
      fetch,
      maxSkipBytes: 100_000,
      downloadRetry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    return {
      api,
      src: api.rangeSource(
        { kind: 'run-file', entity: 'e', project: 'p', run: 'r', name: 'f.bin' },
        'f.bin',
        expectedSize,
      ),
    };
  }

  it('200 for a ranged request: skips to the start when it is near', async () => {
    const { api, src } = apiServing('ignore-range');
    assert.ok((await readRange(src, 50_000, 60_000)).equals(BODY.subarray(50_000, 60_000)));
    api.close();
  });

  it('200 for a ranged request far into the file: fails clearly instead of reading it all', async () => {
    const { api, src } = apiServing('ignore-range');
    await assert.rejects(
      readRange(src, 200_000, 200_010),
      (e) => e instanceof PermanentError && /Range/.test(e.message),
    );
    api.close();
  });

  it('a Content-Range that does not start where asked is refused', async () => {
    const { api, src } = apiServing('wrong-range');
    await assert.rejects(readRange(src, 100, 200), PermanentError);
    api.close();
  });

  it('partial 206 answers are continued until the range is complete', async () => {
    const { api, src } = apiServing('short-range');
    assert.ok((await readRange(src, 10, 25_010)).equals(BODY.subarray(10, 25_010)));
    assert.equal(api.stats().storageRequests, 25);
    api.close();
  });

  it('a total size other than the listed one is ContentChangedError at once, for 206, 200 and 416', async () => {
    for (const [mode, listed, from] of [
      ['short-range', BODY.length - 7, 0], // grew since it was listed: 206 names the new total
      ['ignore-range', BODY.length + 5, 0], // 200's Content-Length is the whole object
      ['gone', BODY.length + 100, BODY.length + 10], // shrank below where the read starts
    ] as const) {
      const { api, src } = apiServing(mode, listed);
      await assert.rejects(
        readRange(src, from, from + 10),
        (e) => e instanceof ContentChangedError && e.actualSize === BODY.length,
        mode,
      );
      assert.equal(api.stats().storageRequests, 1, `${mode}: not retried`);
      api.close();
    }
    const { api, src } = apiServing('short-range', BODY.length);
    assert.ok((await readRange(src, 0, 2000)).equals(BODY.subarray(0, 2000)), 'the listed size reads');
    api.close();
  });

  it('a one-shot small fetch takes only the exact range of a whole 206 of the listed object', async () => {
    const small = (src: ReturnType<typeof apiServing>['src'], start: number, end: number) => {
      const buf = Buffer.alloc(end - start);
      const p = src.fetchSmall?.(start, end, buf);
      assert.ok(p, 'the API source offers small fetches');
      return p.then(() => buf);
    };
    let { api, src } = apiServing('short-range', BODY.length);
    assert.ok((await small(src, 1000, 1900)).equals(BODY.subarray(1000, 1900)));
    await assert.rejects(small(src, 0, 2000), PermanentError, 'a partial 206 is not the range asked for');
    api.close();
    ({ api, src } = apiServing('short-range', BODY.length - 7));
    await assert.rejects(small(src, 0, 10), ContentChangedError, 'the object changed since it was listed');
    api.close();
    for (const mode of ['wrong-range', 'ignore-range', 'gone']) {
      ({ api, src } = apiServing(mode));
      await assert.rejects(small(src, 100, 200), Error, mode);
      assert.equal(api.stats().storageRequests, 1, `${mode}: one attempt, no retry`);
      api.close();
    }
  });

  it('416 is a PermanentError, not retried', async () => {
    const { api, src } = apiServing('gone');
    await assert.rejects(readRange(src, 0, 10), PermanentError);
    assert.equal(api.stats().storageRequests, 1);
    api.close();
  });

  it('a reference whose URL is not http(s) is a PermanentError', async () => {
    const fetch: FetchFn = async () =>
      new Response(
        JSON.stringify({
          data: {
            artifact: {
              id: 'a',
              files: { edges: [{ node: { name: 'ref.bin', directUrl: 's3://bucket/key' } }] },
            },
          },
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      );
    const api = createWandbApi({
      baseUrl: 'http://wandb.invalid',
      apiKey: 'local-edgecasekey00000000000000000000000000',
      fetch,
    });
    const src = api.rangeSource({ kind: 'artifact-file', artifactId: 'a', path: 'ref.bin' }, 'ref.bin');
    await assert.rejects(readRange(src, 0, 1), PermanentError);
    api.close();
  });
});
