import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignNames, placeFiles, sanitizeSegment, MAX_NAME_BYTES } from '../../src/meta/naming.js';
import { AppUrls, appUrlFromBaseUrl } from '../../src/meta/urls.js';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

test('sanitizeSegment replaces / and NUL and makes . .. and empty impossible', () => {
  assert.equal(sanitizeSegment('a/b'), 'a\uFF0Fb');
  assert.equal(sanitizeSegment('a\0b'), 'a\u2400b');
  assert.equal(sanitizeSegment('.'), '\uFF0E');
  assert.equal(sanitizeSegment('..'), '\uFF0E\uFF0E');
  assert.equal(sanitizeSegment(''), '_');
  assert.equal(sanitizeSegment('...'), '...');
  assert.equal(sanitizeSegment('plain name (1)'), 'plain name (1)');
  for (const raw of ['x/y', '\0', '.', '..', '', 'é/ü']) {
    const s = sanitizeSegment(raw);
    assert.ok(!s.includes('/') && !s.includes('\0') && s !== '.' && s !== '..' && s !== '', raw);
  }
});

test('sanitizeSegment shortens long names to 255 bytes with a hash, deterministically', () => {
  const long = 'é'.repeat(300); // 600 bytes
  const a = sanitizeSegment(long);
  assert.ok(bytes(a) <= MAX_NAME_BYTES);
  assert.match(a, /~[0-9a-f]{8}$/);
  assert.equal(sanitizeSegment(long), a);
  const other = sanitizeSegment('é'.repeat(299) + 'x');
  assert.notEqual(other, a, 'names sharing a long prefix stay distinct');
  assert.equal(sanitizeSegment('a'.repeat(255)), 'a'.repeat(255));
  assert.notEqual(sanitizeSegment('a'.repeat(256)), 'a'.repeat(256));
  assert.ok(!a.includes('\uFFFD'), 'no code point split');
});

test('sanitizeSegment makes lone surrogates well-formed', () => {
  assert.equal(sanitizeSegment('a\uD800b'), 'a\uFFFDb');
});

test('assignNames keeps unique names and suffixes every member of a duplicate group', () => {
  const names = assignNames([
    { key: 'r1', base: 'train', disambiguator: 'r1' },
    { key: 'r2', base: 'train', disambiguator: 'r2' },
    { key: 'r3', base: 'eval', disambiguator: 'r3' },
  ]);
  assert.equal(names.get('r1'), 'train~r1');
  assert.equal(names.get('r2'), 'train~r2');
  assert.equal(names.get('r3'), 'eval');
});

test('assignNames does not depend on input order and never drops an item', () => {
  const items = [
    { key: 'b', base: 'x', disambiguator: 'b' },
    { key: 'a', base: 'x', disambiguator: 'a' },
    { key: 'c', base: 'x~a', disambiguator: 'c' }, // a display name that looks like a generated one
  ];
  const one = assignNames(items);
  const two = assignNames([...items].reverse());
  assert.deepEqual([...one.entries()].sort(), [...two.entries()].sort());
  assert.equal(new Set(one.values()).size, 3);
  assert.equal(one.get('c'), 'x~a', 'the plain unique name wins over the generated form');
  assert.notEqual(one.get('a'), 'x~a');
});

test('assignNames keeps suffixed long names within 255 bytes', () => {
  const base = sanitizeSegment('n'.repeat(255));
  const names = assignNames([
    { key: 'k1', base, disambiguator: 'run1' },
    { key: 'k2', base, disambiguator: 'run2' },
  ]);
  for (const n of names.values()) assert.ok(bytes(n) <= MAX_NAME_BYTES);
  assert.ok(names.get('k1')?.endsWith('~run1'));
  assert.notEqual(names.get('k1'), names.get('k2'));
});

test('placeFiles nests by / and resolves file/dir and sanitized clashes', () => {
  const p = placeFiles([
    'a.txt',
    'media/img/1.png',
    'media/img/2.png',
    'media',
    'x\0y',
    'x\u2400y',
    'bad/../up',
    '/abs',
  ]);
  const at = (path: string) => p.files.find((f) => f.path === path);
  assert.deepEqual(at('a.txt'), { path: 'a.txt', dir: '', name: 'a.txt' });
  assert.equal(at('media/img/1.png')?.dir, 'media/img');
  assert.match(at('media')?.name ?? '', /^media~[0-9a-f]{8}$/, 'a file clashing with a directory is renamed');
  const xs = [at('x\0y')?.name, at('x\u2400y')?.name];
  assert.equal(new Set(xs).size, 2, 'sanitized clashes both kept');
  assert.deepEqual(p.skipped.map((s) => s.path).sort(), ['/abs', 'bad/../up']);
  assert.deepEqual(p.dirs.map((d) => `${d.parent}|${d.name}`).sort(), ['media|img', '|media']);
});

test('web URLs: app host derived from the API base URL, segments encoded, never walking up', () => {
  assert.equal(appUrlFromBaseUrl('https://api.wandb.ai'), 'https://wandb.ai');
  assert.equal(appUrlFromBaseUrl('https://api.wandb.ai/'), 'https://wandb.ai');
  assert.equal(appUrlFromBaseUrl('https://wandb.example.com:8443/'), 'https://wandb.example.com:8443');
  assert.equal(appUrlFromBaseUrl('http://127.0.0.1:4000'), 'http://127.0.0.1:4000');
  const u = new AppUrls('https://wandb.ai');
  assert.equal(u.run('e', 'p', '..'), 'https://wandb.ai/e/p/runs/%2E%2E');
  assert.equal(
    u.runFile('e', 'p', 'r', 'media/a b.png'),
    'https://wandb.ai/e/p/runs/r/files/media/a%20b.png',
  );
  assert.equal(u.version('e', 'p', 'model', 'net', 3), 'https://wandb.ai/e/p/artifacts/model/net/v3');
});
