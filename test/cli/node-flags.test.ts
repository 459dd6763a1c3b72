import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { DAEMON_NODE_FLAGS } from '../../src/cli/node-flags.js';
import { run } from '../helpers/mount.js';

const mainJs = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

describe('daemon node flags', () => {
  it("main.js's #! line passes exactly DAEMON_NODE_FLAGS, so a foreground mount runs like a background one", async () => {
    const first = (await readFile(mainJs, 'utf8')).split('\n', 1)[0];
    assert.equal(first, `#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')}`);
  });

  it('node accepts the flags (a typo would stop every mount)', async () => {
    const r = await run(process.execPath, [...DAEMON_NODE_FLAGS, '-e', 'process.exit(0)'], {
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, r.stderr);
  });
});
