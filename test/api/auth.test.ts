import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createWandbApi } from '../../src/api/client.js';
import { AuthError } from '../../src/api/errors.js';
import type { Env } from '../../src/config/credentials.js';
import { netrcMachine, resolveCredentials } from '../../src/config/credentials.js';
import { WandbfsError } from '../../src/core/errors.js';
import type { FakeWandb } from '../fake-wandb/server.js';
import { startFakeWandb } from '../fake-wandb/server.js';
import { apiFor, captureLog, collect, readRange } from './helpers.js';

describe('auth sources against the fake server', () => {
  let fake: FakeWandb;
  let home: string;
  const WRONG = 'local-wrongkeywrongkeywrongkeywrongkey0000';
  before(async () => {
    fake = await startFakeWandb({ fixture: 'demo' });
    home = await mkdtemp(join(tmpdir(), 'wandbfs-auth-'));
    await writeFile(
      join(home, '.netrc'),
      `machine ${netrcMachine(fake.url)}\n  login user\n  password ${fake.apiKey}\n`,
      {
        mode: 0o600,
      },
    );
    await writeFile(
      join(home, 'wrong-netrc'),
      `machine ${netrcMachine(fake.url)} login user password ${WRONG}\n`,
    );
  });
  after(async () => {
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });

  async function viewerWith(env: Env, baseUrl?: string): Promise<{ source: string; username: string }> {
    const creds = resolveCredentials({ env, homeDir: home, ...(baseUrl ? { baseUrl } : {}) });
    const api = createWandbApi({ baseUrl: creds.baseUrl, apiKey: creds.apiKey, retry: { maxAttempts: 1 } });
    try {
      return { source: creds.source, username: (await api.viewer()).username };
    } finally {
      api.close();
    }
  }

  it('netrc entry for host:port, base URL from WANDB_BASE_URL (trailing slash stripped)', async () => {
    const r = await viewerWith({ WANDB_BASE_URL: `${fake.url}/` });
    assert.deepEqual(r, { source: `netrc:${join(home, '.netrc')}`, username: fake.fixture.viewer.username });
  });

  it('--base-url flag beats WANDB_BASE_URL', async () => {
    const r = await viewerWith({ WANDB_BASE_URL: 'http://127.0.0.1:1' }, fake.url);
    assert.equal(r.username, fake.fixture.viewer.username);
  });

  it('WANDB_API_KEY beats netrc (a wrong env key fails even with a good netrc)', async () => {
    assert.equal((await viewerWith({ WANDB_BASE_URL: fake.url, WANDB_API_KEY: fake.apiKey })).source, 'env');
    await assert.rejects(viewerWith({ WANDB_BASE_URL: fake.url, WANDB_API_KEY: WRONG }), AuthError);
  });

  it('$NETRC replaces ~/.netrc', async () => {
    await assert.rejects(
      viewerWith({ WANDB_BASE_URL: fake.url, NETRC: join(home, 'wrong-netrc') }),
      AuthError,
    );
  });
});

describe('the API key never leaks', () => {
  it('not in debug logs (raw or as the Basic token), error messages, hints or stats', async () => {
    const fake = await startFakeWandb({ fixture: 'demo' });
    const { logger, lines } = captureLog('debug');
    const api = apiFor(fake, {
      logger,
      retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 8, deadlineMs: 5000 },
    });
    const wrong = apiFor(fake, { logger, apiKey: `${fake.apiKey}x` });
    const texts: string[] = [];
    const record = (e: unknown): void => {
      assert.ok(e instanceof WandbfsError, String(e));
      texts.push(e.message, e.hint ?? '', String(e.stack), JSON.stringify(e));
    };
    try {
      await api.viewer();
      const runs = (await collect(api.listRuns('demo-user', 'mnist-classifier'))).map((r) => r.record);
      fake.faults.graphql.rate500 = 0.5;
      fake.faults.storage.rate503 = 0.5;
      const run = runs[0]!;
      const files = await collect(api.listRunFiles('demo-user', 'mnist-classifier', run.name));
      const src = api.rangeSource(
        {
          kind: 'run-file',
          entity: 'demo-user',
          project: 'mnist-classifier',
          run: run.name,
          name: files[0]!.name,
        },
        files[0]!.name,
      );
      await readRange(src, 0, files[0]!.sizeBytes);
      fake.faults.graphql.rate500 = 1;
      await api.viewer().catch(record);
      fake.resetFaults();
      fake.faults.storage.expireUrls = true;
      // The authenticated File.url carries the key: its failure must not show it either.
      fake.faults.storage.fallbackStatus = 403;
      await readRange(src, 0, 10).catch(record);
      await wrong.viewer().catch(record);
    } finally {
      api.close();
      wrong.close();
      await fake.close();
    }
    texts.push(JSON.stringify(api.stats()));
    assert.ok(lines.length > 10, 'debug logging happened');
    assert.equal(texts.length, 13);
    const token = Buffer.from(`api:${fake.apiKey}`).toString('base64');
    for (const t of [...lines, ...texts]) {
      assert.ok(!t.includes(fake.apiKey), `key in: ${t}`);
      assert.ok(!t.includes(token), `basic token in: ${t}`);
      assert.ok(!/Signature=/.test(t), `signed URL in: ${t}`);
    }
  });
});
