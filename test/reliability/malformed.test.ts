/**
 * Malformed server responses, injected by a rewriting proxy in front of the fake: invalid JSON,
 * missing fields, wrong types, a manifest that is not JSON, and bodies whose size disagrees with the
 * file's. Each gives a clear error for that entry (EIO, bounded in time), never a crash: the daemon
 * stays up and other entries keep reading byte-exact.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { run } from '../helpers/mount.js';
import { Cleanup, readFiles, runFileMd5, startDaemon, tempDir, type Daemon } from './harness.js';
import { startRewriteProxy, type Exchange, type RewriteProxy } from './rewrite-proxy.js';

const E = 'demo-user';
const P = 'mnist-classifier';
const EIO = 5;
const SHORT_RETRY = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 };

function gqlVars(x: Exchange): { op: string; vars: Record<string, unknown> } {
  try {
    const b = JSON.parse(x.body) as { operationName?: string; variables?: Record<string, unknown> };
    return { op: b.operationName ?? '', vars: b.variables ?? {} };
  } catch {
    return { op: '', vars: {} };
  }
}

const isRunFiles = (x: Exchange, runName: string) => {
  const g = gqlVars(x);
  return x.url.startsWith('/graphql') && g.op === 'RunFiles' && g.vars['run'] === runName;
};

describe('malformed server responses', () => {
  const cleanup = new Cleanup();
  let server: FakeWandb;
  let proxy: RewriteProxy;
  let dir: string;
  let d: Daemon;
  const runFiles = (runName: string) => join(dir, E, P, 'runs', runName, 'files');

  /** The control: another run's file lists and reads byte-exact, and the daemon is alive. */
  async function othersStillWork(): Promise<void> {
    assert.ok(d.alive(), 'daemon crashed');
    const path = join(runFiles('a1b2c3d4'), 'config.yaml');
    const r = (await readFiles([path]))[path]!;
    assert.equal(r.md5, runFileMd5(server, E, P, 'a1b2c3d4', 'config.yaml'));
  }

  async function expectEio(cmd: string, args: string[]): Promise<number> {
    const t0 = Date.now();
    const r = await run(cmd, args, { timeoutMs: 60_000 });
    const ms = Date.now() - t0;
    assert.notEqual(r.code, 124, `${cmd} hung`);
    assert.notEqual(r.code, 0, `${cmd} ${args.join(' ')} succeeded on a malformed response`);
    assert.match(r.stderr, /Input\/output error/, `${cmd}: ${r.stderr}`);
    return ms;
  }

  before(async () => {
    server = await startFakeWandb({ fixture: 'demo' });
    proxy = await startRewriteProxy(server.url);
    dir = cleanup.dir(await tempDir('mnt'));
    const cacheDir = cleanup.dir(await tempDir('cache'));
    d = cleanup.daemon(
      await startDaemon({
        server: { url: proxy.url, apiKey: server.apiKey },
        dir,
        cacheDir,
        // The defaults retry an unparsable answer as transient (GraphQL: 10 attempts, then the
        // metadata layer's 5 s error backoff; measured ~55 s to the EIO); a 3-attempt budget keeps
        // the test short with the same behaviour.
        // inlineRunFiles: 1 — runs pages carry each run's first file page, which would answer the
        // demo runs' listings before the faulted RunFiles request is ever sent; with one file inline
        // every multi-file run still goes through RunFiles, the request these cases corrupt.
        knobs: {
          api: { retry: SHORT_RETRY, downloadRetry: SHORT_RETRY, inlineRunFiles: 1 },
          logLevel: 'info',
        },
      }),
    );
  });
  after(async () => {
    await cleanup.run();
    await proxy?.close();
    await server?.close();
  });

  const listingCases: [string, string, (x: Exchange) => string][] = [
    ['invalid JSON', 'e5f6g7h8', () => '{"data": {"project": '],
    ['missing fields', 'm3n4o5p6', () => '{"data":{"project":{"run":{"files":{}}}}}'],
  ];
  for (const [label, runName, body] of listingCases) {
    it(`run file listing with ${label}: EIO for that directory only`, { timeout: 90_000 }, async () => {
      proxy.rewritten = 0;
      proxy.rewrite = (x) => (isRunFiles(x, runName) ? { body: body(x) } : undefined);
      const ms = await expectEio('ls', [runFiles(runName)]);
      assert.ok(proxy.rewritten > 0, 'the malformed response was served');
      proxy.rewrite = null;
      await othersStillWork();
      process.stdout.write(`# malformed ${label}: EIO after ${ms} ms (${proxy.rewritten} responses)\n`);
    });
  }

  it('a GraphQL 429 with Retry-After holds back every GraphQL request until then', async () => {
    const runName = 'i9j0k1l2';
    let served = false;
    proxy.rewrite = (x) => {
      if (served || !isRunFiles(x, runName)) return undefined;
      served = true;
      return { status: 429, body: '{"errors":[{"message":"slow down"}]}', headers: { 'retry-after': '2' } };
    };
    proxy.seen = [];
    const t0 = Date.now();
    const ls = await run('ls', [runFiles(runName)], { timeoutMs: 30_000 });
    proxy.rewrite = null;
    assert.equal(ls.code, 0, ls.stderr);
    assert.ok(served, 'the 429 was served');
    const gql = proxy.seen.filter((s) => s.url.startsWith('/graphql'));
    const at429 = gql.findIndex((s) => s.op === 'RunFiles');
    const next = gql[at429 + 1];
    assert.ok(next, 'the listing was retried');
    const waited = next.atMs - gql[at429]!.atMs;
    assert.ok(waited >= 1900, `next GraphQL request ${waited} ms after a Retry-After: 2`);
    assert.ok(Date.now() - t0 < 10_000);
    process.stdout.write(`# Retry-After 2 s: next GraphQL request after ${waited} ms\n`);
  });

  it('run file records with wrong types: those entries skipped with a log line, the rest served', async () => {
    const runName = 'sw1run01';
    proxy.rewritten = 0;
    proxy.rewrite = (x) => {
      if (!isRunFiles(x, runName)) return undefined;
      const doc = JSON.parse(x.response.toString('utf8')) as {
        data: { project: { run: { files: { edges: { node: Record<string, unknown> }[] } } } };
      };
      for (const e of doc.data.project.run.files.edges) {
        if (e.node['name'] === 'config.yaml') e.node['sizeBytes'] = 'lots';
        else if (e.node['name'] === 'output.log') e.node['md5'] = 42;
        else if (e.node['name'] === 'requirements.txt') e.node['name'] = ['x'];
      }
      return { body: JSON.stringify(doc) };
    };
    const ls = await run('ls', [runFiles(runName)]);
    proxy.rewrite = null;
    assert.equal(ls.code, 0, ls.stderr);
    assert.ok(proxy.rewritten > 0);
    const shown = ls.stdout.split('\n');
    for (const bad of ['config.yaml', 'output.log', 'requirements.txt']) assert.ok(!shown.includes(bad), bad);
    const skipped = d
      .log()
      .split('\n')
      .filter((l) => l.includes('skipping malformed record') && l.includes('RunFiles'));
    assert.equal(skipped.length, 3, `log lines for the skipped records:\n${skipped.join('\n')}`);
    const good = join(runFiles(runName), 'wandb-summary.json');
    assert.equal(
      (await readFiles([good]))[good]!.md5,
      runFileMd5(server, E, P, runName, 'wandb-summary.json'),
    );
    await othersStillWork();
  });

  it(
    'a manifest that is not JSON: EIO for that version, other versions fine',
    { timeout: 90_000 },
    async () => {
      const arts = [...server.fixture.allArtifacts()].filter((a) => a.sequenceName === 'mnist-cnn');
      const bad = arts.find((a) => a.versionIndex === 2)!;
      const good = arts.find((a) => a.versionIndex === 0)!;
      const versionDir = (v: number) =>
        join(dir, bad.entityName, bad.projectName, 'artifacts', 'mnist-cnn', `v${v}`);
      proxy.rewritten = 0;
      proxy.rewrite = (x) =>
        x.url.startsWith(`/storage/${bad.manifestBlobId}?`) ? { body: 'this is { not json' } : undefined;
      const ms = await expectEio('ls', [join(versionDir(2), 'files')]);
      assert.ok(proxy.rewritten > 0, 'the malformed manifest was served');
      proxy.rewrite = null;
      const entry = good.entries.find((e) => !e.ref)!;
      const path = join(versionDir(0), 'files', entry.path);
      assert.equal((await readFiles([path]))[path]!.md5, entry.digest);
      await othersStillWork();
      process.stdout.write(`# malformed manifest: EIO after ${ms} ms\n`);
    },
  );

  // The object in storage is shorter/longer than W&B's sizeBytes and md5 say; storage answers
  // consistently for that other size (206 with Content-Range .../<its size>, 416 past its end).
  for (const [label, file, delta] of [
    ['shorter', 'checkpoints/model.pt', -1_000_000],
    ['longer', 'media/images/sample_0.png', 100],
  ] as const) {
    it(
      `storage object ${label} than W&B says: never a wrong byte, nothing cached`,
      { timeout: 90_000 },
      async () => {
        const f = server.fixture.run(E, P, 'a1b2c3d4')!.files.get(file)!;
        const content = server.fixture.contentOf(f.blobId)!;
        const size = f.sizeBytes + delta;
        const object = Buffer.concat([
          content.read(0, Math.min(size, f.sizeBytes)),
          Buffer.alloc(Math.max(0, delta), 7),
        ]);
        proxy.rewritten = 0;
        proxy.rewrite = (x) => {
          if (!x.url.startsWith(`/storage/${f.blobId}?`)) return undefined;
          const m = /^bytes=(\d+)-(\d*)$/.exec(String(x.reqHeaders.range ?? ''));
          if (!m) return { status: 200, body: object };
          const a = Number(m[1]);
          const b = Math.min(m[2] ? Number(m[2]) : size - 1, size - 1);
          if (a >= size) return { status: 416, body: '', headers: { 'content-range': `bytes */${size}` } };
          return {
            status: 206,
            body: object.subarray(a, b + 1),
            headers: { 'content-range': `bytes ${a}-${b}/${size}` },
          };
        };
        const path = join(runFiles('a1b2c3d4'), file);
        const r = (await readFiles([path], { timeoutMs: 60_000 }))[path]!;
        assert.ok(proxy.rewritten > 0);
        if (r.errno === undefined) assert.equal(r.md5, f.md5B64, 'served bytes match the digest');
        else assert.equal(r.errno, EIO, `read: ${JSON.stringify(r)}`);
        proxy.rewrite = null;
        await othersStillWork();
        const again = (await readFiles([path]))[path]!;
        assert.equal(again.md5, f.md5B64, 'nothing wrong was cached');
        process.stdout.write(
          `# storage object ${label}: ${r.errno === undefined ? 'byte-exact' : 'EIO'} after ${r.ms} ms\n`,
        );
      },
    );
  }
});
