import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  digestKey,
  digestToBase64,
  md5FromBase64,
  md5FromHex,
  parseDigestKey,
} from '../../src/core/digest.js';

test('W&B base64 MD5 converts to hex and back (example from the W&B SDK docs)', () => {
  const d = md5FromBase64('fo/zm1WhpiEBdYptx6afcA==');
  assert.deepEqual(d, { algo: 'md5', hex: '7e8ff39b55a1a62101758a6dc7a69f70' });
  assert.equal(digestToBase64(d!), 'fo/zm1WhpiEBdYptx6afcA==');
  assert.deepEqual(parseDigestKey(digestKey(d!)), d);
});

test('digests of real content round-trip', () => {
  const b64 = createHash('md5').update('hello').digest('base64');
  const hex = createHash('md5').update('hello').digest('hex');
  assert.equal(md5FromBase64(b64)?.hex, hex);
  assert.equal(md5FromHex(hex.toUpperCase())?.hex, hex);
});

test('malformed digests are rejected, never half-parsed', () => {
  for (const bad of ['', 'abc', '../../etc/passwd', 'fo/zm1WhpiEBdYptx6afcA=', 's3://bucket/key']) {
    assert.equal(md5FromBase64(bad), null, bad);
  }
  assert.equal(md5FromHex('zz'.repeat(16)), null);
  assert.equal(parseDigestKey('sha1:abc'), null);
});
