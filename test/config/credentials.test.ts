import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MissingApiKeyError } from '../../src/config/errors.js';
import {
  netrcMachine,
  resolveApiKey,
  resolveBaseUrl,
  resolveCredentials,
} from '../../src/config/credentials.js';
import { ConfigError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';

describe('base URL', () => {
  it('prefers the flag, then WANDB_BASE_URL, then api.wandb.ai, and strips trailing slashes', () => {
    assert.equal(resolveBaseUrl('http://flag:1/', { WANDB_BASE_URL: 'http://env' }), 'http://flag:1');
    assert.equal(resolveBaseUrl(undefined, { WANDB_BASE_URL: 'http://env:2//' }), 'http://env:2');
    assert.equal(resolveBaseUrl(undefined, {}), 'https://api.wandb.ai');
    assert.equal(resolveBaseUrl('', { WANDB_BASE_URL: '' }), 'https://api.wandb.ai');
  });

  it('rejects non-http URLs and URLs with credentials', () => {
    assert.throws(() => resolveBaseUrl('ftp://x', {}), ConfigError);
    assert.throws(() => resolveBaseUrl('not a url', {}), ConfigError);
    assert.throws(() => resolveBaseUrl('https://api:secret@host', {}), ConfigError);
  });

  it('derives the netrc machine as host[:port]', () => {
    assert.equal(netrcMachine('https://api.wandb.ai'), 'api.wandb.ai');
    assert.equal(netrcMachine('http://127.0.0.1:8080'), '127.0.0.1:8080');
    assert.equal(netrcMachine('https://host:443'), 'host');
  });
});

describe('API key', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'wandbfs-cred-'));
    await writeFile(
      join(home, '.netrc'),
      'machine api.wandb.ai login user password home-netrc-key-0000000000\n' +
        'machine 127.0.0.1:9999 login user password local-port-key-000000000\n',
    );
    await writeFile(join(home, 'custom-netrc'), 'machine api.wandb.ai password custom-netrc-key-000000\n');
  });
  after(async () => rm(home, { recursive: true, force: true }));

  it('WANDB_API_KEY wins over netrc', () => {
    const r = resolveApiKey('https://api.wandb.ai', {
      env: { WANDB_API_KEY: 'env-key-0000000000' },
      homeDir: home,
    });
    assert.deepEqual(r, { apiKey: 'env-key-0000000000', source: 'env' });
  });

  it('reads ~/.netrc for the base URL host, port included', () => {
    const r = resolveApiKey('https://api.wandb.ai', { env: {}, homeDir: home });
    assert.equal(r.apiKey, 'home-netrc-key-0000000000');
    assert.equal(r.source, `netrc:${join(home, '.netrc')}`);
    const local = resolveApiKey('http://127.0.0.1:9999', { env: {}, homeDir: home });
    assert.equal(local.apiKey, 'local-port-key-000000000');
  });

  it('$NETRC replaces ~/.netrc', () => {
    const path = join(home, 'custom-netrc');
    const r = resolveApiKey('https://api.wandb.ai', { env: { NETRC: path }, homeDir: home });
    assert.deepEqual(r, { apiKey: 'custom-netrc-key-000000', source: `netrc:${path}` });
    assert.throws(
      () => resolveApiKey('http://127.0.0.1:9999', { env: { NETRC: path }, homeDir: home }),
      MissingApiKeyError,
    );
  });

  it('no key anywhere: an error naming both ways to provide one', () => {
    const err = (() => {
      try {
        resolveApiKey('http://nohost:1234', { env: {}, homeDir: home });
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(err instanceof MissingApiKeyError);
    const text = `${err.message} ${err.hint ?? ''}`;
    assert.match(text, /WANDB_API_KEY/);
    assert.match(text, /netrc/);
    assert.match(text, /nohost:1234/);
  });

  it('registers the key with the logger so it is redacted everywhere', () => {
    const creds = resolveCredentials({ baseUrl: 'https://api.wandb.ai', env: {}, homeDir: home });
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', sink: { write: (l) => lines.push(l) } });
    log.info(`key is ${creds.apiKey}`, { k: creds.apiKey });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]!.includes(creds.apiKey));
  });
});
