/**
 * Files whose stored object changes after they were listed (issue 13), through a real mount. A
 * running run's output.log that grows between the listing and the read reads back whole at its new
 * size, and a replaced checkpoint reads as the new one; a finished run's file or an artifact file
 * whose bytes no longer match the listing fails with EIO and one log line naming the path, and
 * nothing is cached for it.
 *
 * The kernel keeps a file's size for attr_timeout, a global libfuse 2 option (no per-file timeout or
 * direct_io through fuse-native): with the default 10 s, a read right after a stat ends at the size
 * the kernel holds, and the next read after the timeout is whole. Both mounts are tested.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../src/core/log.js';
import { md5FromBase64, type Digest } from '../../src/core/digest.js';
import { blobPath } from '../../src/blobs/path.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { run } from '../helpers/mount.js';
import { mountApp, type AppMount } from '../helpers/app-mount.js';
import { waitUntil } from '../helpers/wait.js';

const ENTITY = 'demo-user';
const PROJECT = 'mnist-classifier';
const LIVE_RUN = 'q7r8s9t0';
const DONE_RUN = 'a1b2c3d4';
const APPENDED = Buffer.from('step 1000 loss=0.0001\nstep 1001 loss=0.0001\ntraining done\n');

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

function digestOf(md5B64: string): Digest {
  const d = md5FromBase64(md5B64);
  assert.ok(d, `a valid MD5: ${md5B64}`);
  return d;
}

interface Env {
  server: FakeWandb;
  m: AppMount;
  lines: string[];
}

/** A demo server and a mount whose info/warn lines are kept in `lines`. */
function withMount(label: string, mount: { attrTimeoutS?: number; entryTimeoutS?: number }): Env {
  const env = { lines: [] as string[] } as Env;
  before(async () => {
    env.server = await startFakeWandb({ fixture: 'demo' });
    const log = createLogger({ level: 'info', sink: { write: (l) => env.lines.push(l) } });
    env.m = await mountApp(env.server, label, {}, { log, config: { mount } });
  });
  after(async () => {
    await env.m?.cleanup();
    await env.server?.close();
  });
  return env;
}

const runFile = (e: Env, runName: string, name: string) =>
  join(e.m.dir, ENTITY, PROJECT, 'runs', runName, 'files', name);

async function sizeSeen(path: string): Promise<number> {
  const r = await run('stat', ['-c', '%s', path]);
  assert.equal(r.code, 0, r.stderr);
  return Number(r.stdout.trim());
}

/** Lists the live run's output.log (the kernel now holds its size), then appends to the object. */
async function growAfterListing(e: Env): Promise<{ path: string; want: Buffer; oldSize: number }> {
  const path = runFile(e, LIVE_RUN, 'output.log');
  const listed = e.server.fixture.run(ENTITY, PROJECT, LIVE_RUN)!.files.get('output.log')!;
  assert.equal(await sizeSeen(path), listed.sizeBytes);
  const grown = e.server.live.appendToRunFile(ENTITY, PROJECT, LIVE_RUN, 'output.log', APPENDED);
  const want = e.server.live.contentOf(grown.blobId)!.read(0, grown.sizeBytes);
  assert.equal(want.length, listed.sizeBytes + APPENDED.length);
  return { path, want, oldSize: listed.sizeBytes };
}

describe('live run files with zero attribute and entry timeouts', () => {
  const e = withMount('live0', { attrTimeoutS: 0, entryTimeoutS: 0 });

  it('a running run’s output.log that grew after the listing reads back whole, at its new size', async () => {
    const { path, want } = await growAfterListing(e);
    const cat = await run('cat', [path]);
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, want.toString());
    assert.equal(await sizeSeen(path), want.length);
    const wc = await run('sh', ['-c', 'wc -c < "$1"', 'sh', path]);
    assert.equal(Number(wc.stdout.trim()), want.length);
    assert.ok(
      e.lines.some(
        (l) => /file changed since it was listed/.test(l) && l.includes('q7r8s9t0/files/output.log'),
      ),
      e.lines.join(''),
    );
    // cached under the digest it now has, never under the one it had
    const now = e.server.fixture.run(ENTITY, PROJECT, LIVE_RUN)!.files.get('output.log')!;
    await waitUntil('the grown output.log to be committed to the cache', () =>
      exists(blobPath(e.m.cacheDir, digestOf(now.md5B64))),
    );
  });

  it('a running run’s checkpoint replaced by one of the same size reads as the new one', async () => {
    const path = runFile(e, LIVE_RUN, 'checkpoints/latest.pt');
    const listed = e.server.fixture.run(ENTITY, PROJECT, LIVE_RUN)!.files.get('checkpoints/latest.pt')!;
    assert.equal(await sizeSeen(path), listed.sizeBytes);
    const fresh = Buffer.alloc(listed.sizeBytes, 0x5a);
    const replaced = e.server.live.replaceRunFile(ENTITY, PROJECT, LIVE_RUN, 'checkpoints/latest.pt', fresh);
    const sum = await run('md5sum', [path]);
    assert.equal(sum.code, 0, sum.stderr);
    assert.equal(sum.stdout.split(' ')[0], digestOf(replaced.md5B64).hex);
    assert.equal(
      await exists(blobPath(e.m.cacheDir, digestOf(listed.md5B64))),
      false,
      'the old digest holds no blob',
    );
  });

  it('a running run’s file whose object changed while W&B still lists the old one fails with EIO', async () => {
    // a file no earlier case read: a cached blob of the listed digest would rightly be served
    const listed = [...e.server.fixture.run(ENTITY, PROJECT, LIVE_RUN)!.files].find(
      (f) => f.sizeBytes > 0 && f.name !== 'output.log' && f.name !== 'checkpoints/latest.pt',
    )!;
    const path = runFile(e, LIVE_RUN, listed.name);
    assert.equal(await sizeSeen(path), listed.sizeBytes);
    e.server.live.replaceObject(listed.blobId, Buffer.from('uploaded before W&B recorded it\n'));
    const cat = await run('cat', [path]);
    assert.notEqual(cat.code, 0, 'the read fails');
    assert.match(cat.stderr, /Input\/output error/);
    assert.ok(
      e.lines.some(
        (l) => /changed file of a running run/.test(l) && l.includes(`q7r8s9t0/files/${listed.name}`),
      ),
      e.lines.join(''),
    );
  });

  it('a finished run’s file whose bytes changed fails with EIO, logged with its path, and is not cached', async () => {
    const path = runFile(e, DONE_RUN, 'output.log');
    const listed = e.server.fixture.run(ENTITY, PROJECT, DONE_RUN)!.files.get('output.log')!;
    assert.equal(await sizeSeen(path), listed.sizeBytes);
    e.server.live.replaceObject(listed.blobId, Buffer.from('overwritten behind W&B’s back\n'));
    e.server.resetCounters();
    for (let i = 0; i < 2; i++) {
      const cat = await run('cat', [path]);
      assert.notEqual(cat.code, 0, 'the read fails');
      assert.match(cat.stderr, /Input\/output error/);
    }
    assert.ok(
      e.lines.some((l) => /integrity failure/.test(l) && l.includes('a1b2c3d4/files/output.log')),
      e.lines.join(''),
    );
    assert.equal(await exists(blobPath(e.m.cacheDir, digestOf(listed.md5B64))), false, 'nothing cached');
    assert.equal(e.server.counters.graphqlOps.RunFiles, 2, 'each open re-listed the run’s files once');
  });

  it('an artifact file whose bytes changed fails with EIO, logged with its path, and is not cached', async () => {
    const art = [...e.server.fixture.allArtifacts()].find(
      (a) =>
        a.entityName === ENTITY &&
        a.projectName === PROJECT &&
        a.state === 'COMMITTED' &&
        a.entries.some((x) => x.blobId !== null && x.size > 0),
    )!;
    const entry = art.entries.find((x) => x.blobId !== null && x.size > 0)!;
    const path = join(
      e.m.dir,
      ENTITY,
      PROJECT,
      'artifacts',
      art.sequenceName,
      `v${art.versionIndex}`,
      'files',
      entry.path,
    );
    assert.equal(await sizeSeen(path), entry.size);
    e.server.live.replaceObject(entry.blobId!, Buffer.alloc(entry.size, 0x33));
    const cat = await run('cat', [path]);
    assert.notEqual(cat.code, 0, 'the read fails');
    assert.match(cat.stderr, /Input\/output error/);
    assert.ok(
      e.lines.some((l) => /integrity failure/.test(l) && l.includes(`/files/${entry.path}`)),
      e.lines.join(''),
    );
    assert.equal(await exists(blobPath(e.m.cacheDir, digestOf(entry.digest))), false, 'nothing cached');
  });
});

describe('live run files with the default 10 s attribute timeout', () => {
  const e = withMount('live10', {});

  it('a read right after a stat ends at the size the kernel holds; once it expires the file reads whole', async () => {
    const { path, want, oldSize } = await growAfterListing(e);
    const cat = await run('cat', [path]);
    assert.equal(cat.code, 0, cat.stderr);
    // what the kernel asks for ends at its cached size: the first bytes of the current object
    assert.equal(cat.stdout, want.subarray(0, oldSize).toString());
    await waitUntil(
      'the kernel to ask for the size again (attr_timeout=10)',
      async () => (await sizeSeen(path)) === want.length,
      { timeoutMs: 30_000 },
    );
    const again = await run('cat', [path]);
    assert.equal(again.stdout, want.toString());
    const wc = await run('sh', ['-c', 'wc -c < "$1"', 'sh', path]);
    assert.equal(Number(wc.stdout.trim()), want.length);
  });
});
