import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, redact, registerSecret } from '../../src/core/log.js';

test('registered secrets and signed URL query strings never reach a log line', () => {
  const key = 'local-' + 'k'.repeat(40);
  registerSecret(key);
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', sink: { write: (l) => lines.push(l) } });
  log.debug(`auth with ${key}`, { url: 'http://127.0.0.1:1/storage/abc?Expires=1&Signature=zzz', key });
  log.error('failed', { err: new Error(`bad key ${key}`) });
  const all = lines.join('');
  assert.equal(all.includes(key), false);
  assert.equal(all.includes('Signature=zzz'), false);
  assert.match(all, /storage\/abc\?<redacted>/);
  assert.equal(lines.length, 2);
});

test('levels below the threshold are dropped', () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'warn', sink: { write: (l) => lines.push(l) } }).child('x');
  log.info('quiet');
  log.warn('loud');
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', /WARN {2}\[x\] loud/);
});

test('redact leaves plain text alone', () => {
  assert.equal(redact('nothing secret here'), 'nothing secret here');
});
