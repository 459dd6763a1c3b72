/**
 * File URLs come in bulk: reading every file of a 1,000-file artifact version through a real mount
 * costs at most 3 GraphQL requests (the manifest and one membership batch of up to 5000 URLs), and
 * reading every file of a run costs none beyond the run-files listing, which carries the URLs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { FixtureBase } from '../fake-wandb/fixture-base.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { run, sh } from '../helpers/mount.js';
import { mountApp, type AppMount } from '../helpers/app-mount.js';

const E = 'demo-user';
const P = 'mnist-classifier';
const FILES = 1000;
const RUN_FILES = 150;

const graphqlTotal = (s: FakeWandb): number =>
  Object.values(s.counters.graphqlOps).reduce((a, b) => a + b, 0);

describe('file URLs in batches, counted at the fake server', () => {
  let server: FakeWandb;
  let m: AppMount;
  let runName: string;

  before(async () => {
    server = await startFakeWandb({ fixture: 'demo' });
    const fx = server.fixture as FixtureBase;
    const p = fx.project(E, P)!;
    const coll = fx.addCollection(p, 'sequence', 'dataset', 'wide-shards');
    fx.addVersion(coll, {
      entries: Array.from({ length: FILES }, (_, i) => ({
        path: `shards/${String(i).padStart(4, '0')}.txt`,
        source: { text: `shard ${i}\n` },
      })),
      aliases: ['latest'],
      createdAtSec: 200_000,
    });
    runName = p.runs.at(0)!.name;
    // more files than a runs page carries inline, so the run-files listing is what lists them
    for (let i = 0; i < RUN_FILES; i++) {
      fx.addRunFile(E, P, runName, {
        name: `many/f${String(i).padStart(3, '0')}.bin`,
        sizeBytes: 100 + i,
        seed: 7000 + i,
      });
    }
    // Listings stay fresh for the whole test (a loaded machine reads slowly): every request counted
    // below is one the reads caused.
    m = await mountApp(server, 'batches', {
      listingMs: 3_600_000,
      terminalRunMs: 3_600_000,
      activeRunMs: 3_600_000,
    });
  });
  after(async () => {
    await m?.cleanup();
    await server?.close();
  });

  it(`reading every file of a ${FILES}-file version costs at most 3 GraphQL requests`, async () => {
    const version = join(m.dir, E, P, 'artifacts', 'wide-shards', 'v0');
    const ls = await run('ls', [version]);
    assert.equal(ls.code, 0, ls.stderr);
    server.resetCounters();
    // parallel readers, as a training data loader would be; the order of reads does not matter here
    const r = await sh(
      `cd '${join(version, 'files')}' && find . -type f | xargs -P 8 -n 25 md5sum | sort -k2`,
      400_000,
    );
    assert.equal(r.code, 0, r.stderr);
    const want = Array.from({ length: FILES }, (_, i) => {
      const name = `./shards/${String(i).padStart(4, '0')}.txt`;
      return `${createHash('md5').update(`shard ${i}\n`).digest('hex')}  ${name}\n`;
    }).join('');
    assert.equal(r.stdout, want);
    const ops = server.counters.graphqlOps;
    assert.ok(graphqlTotal(server) <= 3, `GraphQL requests: ${JSON.stringify(ops)}`);
    assert.equal(ops.MembershipFileUrls, 1, 'one batch through the collection membership');
    assert.equal(ops.ArtifactFileUrl ?? 0, 0, 'no per-file URL query');
  });

  it('reading every file of a run costs no GraphQL request beyond its listing', async () => {
    const files = join(m.dir, E, P, 'runs', runName, 'files');
    const ls = await run('ls', ['-R', files]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.ok((server.counters.graphqlOps.RunFiles ?? 0) >= 1, 'the run-files listing was asked');
    server.resetCounters();
    const r = await sh(`cd '${files}' && find . -type f | xargs -P 8 -n 20 md5sum | wc -l`, 400_000);
    assert.equal(r.code, 0, r.stderr);
    const count = server.fixture.run(E, P, runName)!.files.length;
    assert.equal(Number(r.stdout.trim()), count);
    assert.equal(graphqlTotal(server), 0, `GraphQL requests: ${JSON.stringify(server.counters.graphqlOps)}`);
    assert.ok((server.counters.requests.storage ?? 0) >= RUN_FILES, 'the bytes came from storage');
  });
});
