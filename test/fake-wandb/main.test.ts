import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { packageRoot } from '../../src/core/package-root.js';
import { gql } from './test-client.js';

test('standalone server prints its URL and key, serves, and exits cleanly on SIGTERM', async () => {
  const main = join(packageRoot(), 'dist', 'test', 'fake-wandb', 'main.js');
  const child = spawn(process.execPath, [main, '--port', '0', '--fixture', 'demo'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const lines = createInterface({ input: child.stdout });
    const [first] = (await once(lines, 'line')) as [string];
    const m = /^fake-wandb listening on (http:\/\/127\.0\.0\.1:\d+) api-key=(\S+)$/.exec(first);
    assert.ok(m, first);
    const [, url = '', apiKey = ''] = m;
    const r = await gql({ url, apiKey }, '{ viewer { username } }');
    assert.deepEqual(r.data, { viewer: { username: 'demo-user' } });
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('standalone server rejects unknown fixtures with exit code 2', async () => {
  const main = join(packageRoot(), 'dist', 'test', 'fake-wandb', 'main.js');
  const child = spawn(process.execPath, [main, '--fixture', 'nope'], { stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 2);
});
