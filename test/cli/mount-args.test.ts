import { test } from 'node:test';
import assert from 'node:assert/strict';
import yargs from 'yargs';
import { configFromArgs, mountBuilder, type MountArgs } from '../../src/cli/mount.js';

const creds = { baseUrl: 'http://127.0.0.1:9', apiKey: 'local-' + 'a'.repeat(40) };

function parse(argv: string[]): MountArgs {
  // Parsed the way main.ts does it, as the `mount <dir>` command, so the positional is bound.
  let got: MountArgs | undefined;
  void yargs(['mount', ...argv])
    .exitProcess(false)
    .command('mount <dir>', '', mountBuilder, (a) => {
      got = a as unknown as MountArgs;
    })
    .parseSync();
  assert.ok(got, 'mount command did not run');
  return got;
}

test('cache limits and SDK reuse flags reach the app config', () => {
  const c = configFromArgs(
    parse(['/tmp/wandbfs-x', '--max-cache-size', '2G', '--min-free-space', '512M', '--no-sdk-cache']),
    creds,
  );
  assert.equal(c.maxCacheBytes, 2 * 1024 ** 3);
  assert.equal(c.minFreeBytes, 512 * 1024 ** 2);
  assert.equal(c.sdkCache, false);
});

test('SDK reuse is on by default and limits fall back to the blob cache defaults', () => {
  const c = configFromArgs(parse(['/tmp/wandbfs-x']), creds);
  assert.equal(c.sdkCache, true);
  assert.equal(c.maxCacheBytes, undefined);
  assert.equal(c.minFreeBytes, undefined);
});

test('a malformed size is a clear error, not a silent default', () => {
  assert.throws(() => configFromArgs(parse(['/tmp/wandbfs-x', '--min-free-space', 'lots']), creds), /lots/);
});

test('--stall-timeout reaches the app config; the default is 60 s; nonsense is refused', () => {
  assert.equal(
    configFromArgs(parse(['/tmp/wandbfs-x', '--stall-timeout', '2s']), creds).stallTimeoutMs,
    2000,
  );
  assert.equal(configFromArgs(parse(['/tmp/wandbfs-x']), creds).stallTimeoutMs, 60_000);
  assert.throws(
    () => configFromArgs(parse(['/tmp/wandbfs-x', '--stall-timeout', 'soon']), creds),
    /invalid duration: "soon"/,
  );
});
