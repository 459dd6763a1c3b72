/**
 * The metadata layer over the real API client against the fake W&B server (127.0.0.1, port 0).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { createWandbApi, type WandbApiClient } from '../../src/api/client.js';
import { ManualClock } from '../../src/core/clock.js';
import { openDb, type Db } from '../../src/core/db.js';
import { md5FromBase64 } from '../../src/core/digest.js';
import { createMetaTree, type WandbMetaTree } from '../../src/meta/tree.js';
import type { DirEntry, Node } from '../../src/meta/types.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { HOSTILE_FILE_NAMES, HOSTILE_RUN_NAMES } from '../fake-wandb/fixtures/hostile.js';
import { LARGE_RUNS } from '../fake-wandb/fixtures/large.js';

const T0 = Date.parse('2026-06-01T00:00:00Z');

class Harness {
  readonly clock = new ManualClock(T0);
  db!: Db;
  api!: WandbApiClient;
  tree!: WandbMetaTree;
  constructor(
    readonly fake: FakeWandb,
    readonly dir: string,
  ) {}

  open(): void {
    this.db = openDb({ dir: this.dir });
    this.api = createWandbApi({
      baseUrl: this.fake.url,
      apiKey: this.fake.apiKey,
      // an outage must fail fast here, not retry for two minutes
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5, deadlineMs: 2000 },
    });
    this.tree = createMetaTree({ db: this.db, api: this.api, clock: this.clock, baseUrl: this.fake.url });
  }

  async close(): Promise<void> {
    await this.tree.close();
    this.api.close();
    this.db.close();
  }

  graphql(): number {
    return this.fake.counters.requests['graphql'] ?? 0;
  }
}

async function harness(fixture: 'demo' | 'hostile' | 'large'): Promise<Harness> {
  const fake = await startFakeWandb({ fixture });
  const h = new Harness(fake, await mkdtemp(join(tmpdir(), 'wandbfs-metaint-')));
  h.open();
  return h;
}

async function dispose(h: Harness): Promise<void> {
  await h.close();
  await h.fake.close();
  await rm(h.dir, { recursive: true, force: true });
}

const child = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);

/** Walks the whole tree, checking the naming invariants on every directory. */
async function walk(
  tree: WandbMetaTree,
  root = '/',
): Promise<Map<string, { node: Node; entries?: DirEntry[] }>> {
  const out = new Map<string, { node: Node; entries?: DirEntry[] }>();
  const visit = async (path: string): Promise<void> => {
    const node = await tree.lookup(path);
    assert.ok(node, `lookup ${JSON.stringify(path)}`);
    if (node.kind !== 'dir') {
      out.set(path, { node });
      return;
    }
    const entries = await tree.readdir(path);
    assert.ok(entries, `readdir ${path}`);
    out.set(path, { node, entries });
    const seen = new Set<string>();
    for (const e of entries) {
      assert.ok(!seen.has(e.name), `duplicate ${JSON.stringify(e.name)} in ${path}`);
      seen.add(e.name);
      assert.ok(e.name !== '' && e.name !== '.' && e.name !== '..', `bad name in ${path}`);
      assert.ok(!e.name.includes('/') && !e.name.includes('\0'), `bad name ${JSON.stringify(e.name)}`);
      assert.ok(Buffer.byteLength(e.name) <= 255, `long name in ${path}`);
      await visit(child(path, e.name));
      assert.equal(out.get(child(path, e.name))?.node.kind, e.kind, `kind of ${child(path, e.name)}`);
    }
  };
  await visit(root);
  return out;
}

async function assertSymlinksResolve(
  tree: WandbMetaTree,
  nodes: Map<string, { node: Node }>,
): Promise<number> {
  let n = 0;
  for (const [path, { node }] of nodes) {
    if (node.kind !== 'symlink') continue;
    const target = posix.normalize(posix.join(posix.dirname(path), node.target));
    assert.equal((await tree.lookup(target))?.kind, 'dir', `${path} -> ${node.target}`);
    n++;
  }
  return n;
}

const names = async (tree: WandbMetaTree, path: string) => (await tree.readdir(path))?.map((e) => e.name);

describe('demo fixture', () => {
  let h: Harness;
  before(async () => {
    h = await harness('demo');
  });
  after(async () => {
    await dispose(h);
  });

  test('the full tree, with duplicate and awkward names', async () => {
    const all = await walk(h.tree);
    assert.deepEqual(await names(h.tree, '/'), ['demo-org-entity', 'demo-team', 'demo-user']);
    assert.deepEqual(await names(h.tree, '/demo-user'), [
      'llm-finetune',
      'mnist-classifier',
      'model-registry',
    ]);
    const runs = (await names(h.tree, '/demo-user/mnist-classifier/runs')) ?? [];
    assert.equal(runs.length, 8);
    for (const n of [
      'baseline~a1b2c3d4',
      'baseline~e5f6g7h8',
      'lr=0.1\uFF0Fbs=64',
      'große Läufe 🚀 実験',
      'sweep-run-1',
    ]) {
      assert.ok(runs.includes(n), n);
    }
    const long = runs.find((r) => r.startsWith('a-very-long-run-name-'));
    assert.ok(long && Buffer.byteLength(long) <= 255 && /~[0-9a-f]{8}$/.test(long));

    const run = await h.tree.lookup('/demo-user/mnist-classifier/runs/a1b2c3d4');
    assert.equal(run?.xattrs['user.wandb.id'], 'a1b2c3d4');
    assert.equal(run?.xattrs['user.wandb.url'], `${h.fake.url}/demo-user/mnist-classifier/runs/a1b2c3d4`);
    const fx = h.fake.fixture.run('demo-user', 'mnist-classifier', 'a1b2c3d4');
    assert.equal(run?.mtimeMs, Date.parse(fx?.updatedAt ?? ''));

    const cfg = all.get(
      '/demo-user/mnist-classifier/runs/baseline~a1b2c3d4/files/code/src/models/net.py',
    )?.node;
    const fxFile = fx?.files.get('code/src/models/net.py');
    assert.ok(cfg?.kind === 'file' && fxFile);
    assert.equal(cfg.sizeBytes, fxFile.sizeBytes);
    assert.deepEqual(cfg.content.type === 'blob' && cfg.content.digest, md5FromBase64(fxFile.md5B64));
    assert.equal(cfg.xattrs['user.wandb.digest'], fxFile.md5B64);

    const meta = all.get('/demo-user/mnist-classifier/runs/baseline~a1b2c3d4/metadata.json')?.node;
    assert.ok(meta?.kind === 'file' && meta.content.type === 'generated');
    assert.equal(meta.sizeBytes, meta.content.bytes.length);
    const json = JSON.parse(meta.content.bytes.toString()) as { id: string; config: Record<string, unknown> };
    assert.equal(json.id, 'a1b2c3d4');
    assert.equal(json.config['batch_size'], 64);

    const model = '/demo-user/mnist-classifier/artifacts/mnist-cnn';
    assert.deepEqual(await names(h.tree, model), [
      'v0',
      'v1',
      'v2',
      'v3',
      'best',
      'candidate-2026',
      'latest',
    ]);
    const latest = all.get(`${model}/latest`)?.node;
    assert.equal(latest?.kind === 'symlink' && latest.target, 'v3');
    assert.equal(all.get(`${model}/v1`)?.node.immutable, true);
    assert.equal(all.get(`${model}/v1/files/model.pt`)?.node.immutable, true);
    const ref = all.get('/demo-user/mnist-classifier/artifacts/mnist/v1/files/raw/mnist.tar.gz')?.node;
    assert.equal(ref?.kind === 'file' && ref.content.type, 'reference');

    const portfolio = '/demo-user/model-registry/artifacts/mnist-production';
    assert.deepEqual(await names(h.tree, portfolio), ['v0', 'v1', 'latest', 'production', 'staging']);
    const staging = all.get(`${portfolio}/staging`)?.node;
    assert.equal(staging?.kind === 'symlink' && staging.target, 'v0');

    // a run's input from another entity's project, with its alias links
    const input = '/demo-team/shared-research/runs/team-baseline/artifacts/input/mnist';
    assert.deepEqual(await names(h.tree, input), ['v1', 'latest', 'with-raw']);
    assert.deepEqual(await names(h.tree, `${input}/v1/files`), ['README.md', 'raw', 'test.csv', 'train.csv']);

    const sweep = '/demo-user/mnist-classifier/sweeps/lr sweep';
    assert.deepEqual(await names(h.tree, `${sweep}/runs`), ['sweep-run-1', 'sweep-run-2', 'sweep-run-3']);
    assert.equal(
      (await h.tree.lookup('/demo-user/mnist-classifier/sweeps/abc123xy'))?.xattrs['user.wandb.id'],
      'abc123xy',
    );
    assert.ok((await assertSymlinksResolve(h.tree, all)) >= 15);
  });

  test('a restart lists the seen tree with zero GraphQL requests, also with the server stopped', async () => {
    const before = await walk(h.tree);
    await h.close();
    h.open();
    const requests = h.graphql();
    const again = await walk(h.tree);
    assert.equal(h.graphql(), requests, 'no GraphQL request after restart');
    assert.deepEqual([...again.keys()], [...before.keys()]);
    for (const [p, v] of before) assert.deepEqual(again.get(p), v, p);
    await h.close();
    await h.fake.stop();
    try {
      h.open();
      const offline = await walk(h.tree);
      assert.deepEqual([...offline.keys()], [...before.keys()]);
      // past every TTL: still served, refreshes fail in the background and are recorded
      h.clock.advance(3600_000);
      assert.deepEqual(
        await names(h.tree, '/demo-user/mnist-classifier/runs'),
        before.get('/demo-user/mnist-classifier/runs')?.entries?.map((e) => e.name),
      );
      await h.tree.idle();
      assert.deepEqual(
        await names(h.tree, '/demo-user/mnist-classifier/runs'),
        before.get('/demo-user/mnist-classifier/runs')?.entries?.map((e) => e.name),
      );
      const st = h.tree.status();
      assert.ok(st.staleListings >= 1);
      assert.ok(st.lastError);
      assert.equal(h.graphql(), requests, 'the stopped server saw nothing');
    } finally {
      await h.fake.start();
      // The api went offline; the next tests need it back (the reconnect probe notices).
      const back = await Promise.race([
        h.api.connectivity.whenOnline().then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 20_000)),
      ]);
      assert.ok(back, 'the api reconnected within 20 s of the restart');
    }
  });

  test('TTL expiry triggers exactly one background refresh', async () => {
    await h.tree.refresh('/demo-user/mnist-classifier/runs');
    await h.tree.idle();
    h.clock.advance(60_000);
    h.fake.resetCounters();
    const results = await Promise.all([
      h.tree.readdir('/demo-user/mnist-classifier/runs'),
      h.tree.readdir('/demo-user/mnist-classifier/runs'),
      h.tree.lookup('/demo-user/mnist-classifier/runs/baseline~a1b2c3d4'),
      h.tree.lookup('/demo-user/mnist-classifier/runs/sweep-run-1'),
    ]);
    assert.ok(results.every((r) => r !== null));
    await h.tree.idle();
    assert.equal(h.fake.counters.graphqlOps['ProjectRuns'], 1);
    await h.tree.readdir('/demo-user/mnist-classifier/runs');
    await h.tree.idle();
    assert.equal(h.fake.counters.graphqlOps['ProjectRuns'], 1, 'fresh again after the refresh');
  });

  test("a running run's new files appear after its TTL", async () => {
    const files = '/demo-user/mnist-classifier/runs/q7r8s9t0/files/checkpoints';
    const runPath = '/demo-user/mnist-classifier/runs/q7r8s9t0';
    await h.tree.refresh(runPath);
    assert.deepEqual(await names(h.tree, files), ['latest.pt']);
    h.fake.fixture.addRunFile('demo-user', 'mnist-classifier', 'q7r8s9t0', {
      name: 'checkpoints/step-200.pt',
      sizeBytes: 1000,
      seed: 4242,
    });
    h.clock.advance(29_000);
    await h.tree.readdir(files);
    await h.tree.idle();
    assert.deepEqual(await names(h.tree, files), ['latest.pt'], 'still fresh at 29 s');
    h.clock.advance(1_000);
    assert.deepEqual(await names(h.tree, files), ['latest.pt'], 'stale answer is immediate');
    await h.tree.idle();
    assert.deepEqual(await names(h.tree, files), ['latest.pt', 'step-200.pt']);
  });
});

describe("runs page carries each run's files and artifacts (demo fixture)", () => {
  let h: Harness;
  before(async () => {
    h = await harness('demo');
  });
  after(async () => {
    await dispose(h);
  });

  /** files (recursively), metadata.json and artifacts/input|output of one run directory */
  async function readRun(runDir: string): Promise<{ files: string[]; meta: { id: string; state: string } }> {
    const files: string[] = [];
    const visit = async (dir: string): Promise<void> => {
      for (const e of (await h.tree.readdir(dir)) ?? []) {
        const path = `${dir}/${e.name}`;
        const node = await h.tree.lookup(path);
        if (e.kind === 'dir') await visit(path);
        else if (node?.kind === 'file') files.push(path.slice(runDir.length + '/files/'.length));
      }
    };
    await visit(`${runDir}/files`);
    const meta = await h.tree.lookup(`${runDir}/metadata.json`);
    assert.ok(meta?.kind === 'file' && meta.content.type === 'generated');
    for (const d of ['input', 'output']) assert.ok(await h.tree.readdir(`${runDir}/artifacts/${d}`));
    return { files, meta: JSON.parse(meta.content.bytes.toString()) as { id: string; state: string } };
  }

  test("after listing runs/, every run's files, metadata.json and artifacts cost zero requests", async () => {
    const entity = 'demo-user';
    const project = 'mnist-classifier';
    const fxProject = h.fake.fixture.project(entity, project);
    assert.ok(fxProject);
    for (const r of fxProject.runs) {
      assert.ok(r.files.length <= 100 && r.inputArtifacts.length <= 10 && r.outputArtifactIds.length <= 10);
    }
    const runsDir = `/${entity}/${project}/runs`;
    const runs = (await h.tree.readdir(runsDir)) ?? [];
    assert.equal(runs.length, fxProject.runs.length);
    h.fake.resetCounters();
    let files = 0;
    for (const r of runs) {
      const runDir = `${runsDir}/${r.name}`;
      const { files: got, meta } = await readRun(runDir);
      const fx = fxProject.runs.get(meta.id);
      assert.ok(fx, meta.id);
      assert.equal(meta.state, fx.state);
      // the fixture's names, except that unsafe or colliding ones are shown differently
      assert.ok(got.length > 0 || fx.files.length === 0, runDir);
      files += got.length;
    }
    assert.ok(files > 10);
    await h.tree.idle();
    assert.equal(h.graphql(), 0, JSON.stringify(h.fake.counters.graphqlOps));
  });

  test('a run with more files than the inline page lists them all (paging the rest)', async () => {
    const entity = 'demo-user';
    const project = 'llm-finetune';
    const fxProject = h.fake.fixture.project(entity, project);
    const big = [...(fxProject?.runs ?? [])][0];
    assert.ok(big);
    const before = big.files.length;
    for (let i = 0; i < 130; i++) {
      h.fake.fixture.addRunFile(entity, project, big.name, {
        name: `many/f-${String(i).padStart(3, '0')}.txt`,
        sizeBytes: 10 + i,
        seed: 7000 + i,
      });
    }
    const runsDir = `/${entity}/${project}/runs`;
    await h.tree.readdir(runsDir);
    h.fake.resetCounters();
    const runDir = `${runsDir}/${big.name}`;
    const many = (await h.tree.readdir(`${runDir}/files/many`)) ?? [];
    assert.equal(many.length, 130);
    assert.equal((await readRun(runDir)).files.length, before + 130);
    assert.deepEqual(h.fake.counters.graphqlOps, { Run: 1, RunFiles: 2 }, 'record + two pages of 100');
  });
});

describe('hostile fixture', () => {
  let h: Harness;
  before(async () => {
    h = await harness('hostile');
  });
  after(async () => {
    await dispose(h);
  });

  test('every run and every safe file is shown under a safe, unique name', async () => {
    const all = await walk(h.tree);
    const runs = (await names(h.tree, '/hostile-user/hostile/runs')) ?? [];
    assert.equal(runs.length, HOSTILE_RUN_NAMES.length, 'no run dropped');
    assert.ok(runs.filter((r) => r.startsWith('dup~')).length >= 2);
    const runDir = runs
      .map((r) => `/hostile-user/hostile/runs/${r}`)
      .find((p) => all.get(p)?.node.xattrs['user.wandb.id'] === 'normal01');
    assert.ok(runDir);
    const shown = [...all.entries()].filter(
      ([p, v]) => p.startsWith(`${runDir}/files/`) && v.node.kind === 'file',
    );
    const safe = HOSTILE_FILE_NAMES.filter(
      (n) => !n.split('/').some((s) => s === '' || s === '.' || s === '..'),
    );
    assert.equal(shown.length, safe.length);
    const dotRun = await h.tree.lookup('/hostile-user/hostile/runs/..');
    assert.equal(dotRun, null, "'..' is never a name");
    assert.ok((await assertSymlinksResolve(h.tree, all)) >= 3);
  });
});

describe('large fixture', () => {
  let h: Harness;
  before(async () => {
    h = await harness('large');
  });
  after(async () => {
    await dispose(h);
  });

  test('all 10,000 runs are listed, duplicates disambiguated', async () => {
    const runs = (await h.tree.readdir('/large-user/big-project/runs')) ?? [];
    assert.equal(runs.length, LARGE_RUNS);
    assert.equal(new Set(runs.map((r) => r.name)).size, LARGE_RUNS);
    assert.ok(runs.some((r) => /^run-998~r/.test(r.name)));
    assert.ok(!runs.some((r) => r.name === 'run-998'));
    const requests = h.graphql();
    assert.equal((await h.tree.lookup('/large-user/big-project/runs/run-5000'))?.kind, 'dir');
    assert.equal(h.graphql(), requests);
  });
});
