import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermanentError } from '../../src/api/errors.js';
import { manifestPathProblem, parseManifest } from '../../src/api/manifest-parse.js';
import { createLogger, silentLogger } from '../../src/core/log.js';

const D = 'fo/zm1WhpiEBdYptx6afcA==';

function manifest(contents: Record<string, unknown>): string {
  return JSON.stringify({ version: 1, storagePolicy: 'wandb-storage-policy-v1', contents });
}

describe('manifest paths', () => {
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['/etc/passwd', /absolute/],
    ['../escape.txt', /'\.\.'/],
    ['a/../../b', /'\.\.'/],
    ['a/./b', /'\.'/],
    ['.', /'\.'/],
    ['a//b', /empty segment/],
    ['trailing/', /empty segment/],
    ['nul\u0000.bin', /NUL/],
    ['n'.repeat(256), /255/],
    [`d/${'é'.repeat(128)}/x`, /255/],
    ['bad\uD800surrogate', /Unicode/],
    [`${'a/'.repeat(2100)}x`, /4096/],
  ];
  for (const [path, reason] of bad) {
    it(`rejects ${JSON.stringify(path.slice(0, 40))}`, () => {
      assert.match(manifestPathProblem(path) ?? 'accepted', reason);
    });
  }
  for (const path of [
    'a.txt',
    'deep/ly/nested/x.bin',
    'n'.repeat(255),
    '..hidden',
    'a..b/c',
    ' sp ',
    'back\\slash',
    'café/ü',
  ]) {
    it(`accepts ${JSON.stringify(path.slice(0, 40))}`, () => assert.equal(manifestPathProblem(path), null));
  }
});

describe('parseManifest', () => {
  it('parses stored and reference entries (path from the key, size, birth artifact, ref kept)', () => {
    const m = parseManifest(
      manifest({
        'data/train.csv': { digest: D, size: 30168, birthArtifactID: 'QXJ0aWZhY3Q6MTIz' },
        'ext/img.png': { ref: 's3://bucket/key/img.png', digest: 'etag', size: 1024, extra: { etag: 'x' } },
        'ext/nosize': { ref: 'wandb-artifact://abc/x', digest: 'y' },
        'ext/weird': { ref: 'foo://bar', digest: 'foo://bar' },
      }),
      'test',
      silentLogger,
    );
    assert.deepEqual(m.rejected, []);
    assert.deepEqual(m.entries, [
      { path: 'data/train.csv', digest: D, sizeBytes: 30168, ref: null, birthArtifactId: 'QXJ0aWZhY3Q6MTIz' },
      {
        path: 'ext/img.png',
        digest: 'etag',
        sizeBytes: 1024,
        ref: 's3://bucket/key/img.png',
        birthArtifactId: null,
      },
      { path: 'ext/nosize', digest: 'y', sizeBytes: 0, ref: 'wandb-artifact://abc/x', birthArtifactId: null },
      { path: 'ext/weird', digest: 'foo://bar', sizeBytes: 0, ref: 'foo://bar', birthArtifactId: null },
    ]);
  });

  it('rejects hostile entries one by one, keeps the rest, logs each', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', sink: { write: (l) => lines.push(l) } });
    const m = parseManifest(
      manifest({
        'ok.txt': { digest: D, size: 1 },
        '../escape.txt': { digest: D, size: 1 },
        '/abs': { digest: D, size: 1 },
        nodigest: { size: 1 },
        negsize: { digest: D, size: -5 },
        notobj: 42,
        clash: { digest: D, size: 1 },
        'clash/inner.bin': { digest: D, size: 1 },
      }),
      'art',
      logger,
    );
    assert.deepEqual(
      m.entries.map((e) => e.path),
      ['ok.txt', 'clash/inner.bin'],
    );
    assert.deepEqual(m.rejected.map((r) => r.path).sort(), [
      '../escape.txt',
      '/abs',
      'clash',
      'negsize',
      'nodigest',
      'notobj',
    ]);
    assert.equal(lines.length, 6);
  });

  it('caps per-entry log lines for a manifest full of bad paths', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', sink: { write: (l) => lines.push(l) } });
    const contents: Record<string, unknown> = {};
    for (let i = 0; i < 500; i++) contents[`../x${i}`] = { digest: D, size: 1 };
    const m = parseManifest(manifest(contents), 'art', logger);
    assert.equal(m.rejected.length, 500);
    assert.ok(lines.length <= 21, `${lines.length} lines`);
  });

  it('not JSON, or no contents: PermanentError for that artifact', () => {
    assert.throws(() => parseManifest('<html>oops</html>', 'a', silentLogger), PermanentError);
    assert.throws(() => parseManifest('{"version":1}', 'a', silentLogger), PermanentError);
    assert.throws(() => parseManifest('[1,2]', 'a', silentLogger), PermanentError);
  });
});
