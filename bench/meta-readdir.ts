/**
 * Metadata-layer benchmark (not a test): how long SQLite takes to answer a 10,000-entry readdir and
 * 10,000 lookups, once everything is listed. Run: `node dist/bench/meta-readdir.js [entries]`.
 * Uses the in-memory WandbApi of the unit tests, so the figures are the store's, not the network's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDb } from '../src/core/db.js';
import { createMetaTree } from '../src/meta/tree.js';
import { MemoryApi, runRecord } from '../test/meta/memory-api.js';

const N = Number(process.argv[2] ?? 10_000);

function ms(t0: number): string {
  return `${(performance.now() - t0).toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wandbfs-bench-meta-'));
  const db = openDb({ dir });
  const api = new MemoryApi();
  api.pageSize = 100;
  const p = api.addProject('alice', 'proj');
  for (let i = 0; i < N; i++)
    p.runs.push(runRecord(`r${i.toString(36).padStart(6, '0')}`, `run-${i}`, 'finished'));
  const files = Array.from({ length: N }, (_, i) => ({
    name: `dir${i % 10}/file-${i}.bin`,
    sizeBytes: i,
    md5: '1B2M2Y8AsgTpgAmY7PhCfg==',
    updatedAt: null,
  }));
  p.files.set('r000000', files);
  const tree = createMetaTree({ db, api });
  try {
    let t0 = performance.now();
    const first = await tree.readdir('/alice/proj/runs');
    console.log(
      `first listing of ${first?.length} runs (${N / api.pageSize} pages, in-memory api): ${ms(t0)}`,
    );
    t0 = performance.now();
    await tree.readdir('/alice/proj/runs/run-0/files/dir0');
    console.log(`first listing of ${N} files of one run: ${ms(t0)}`);

    const rounds = 5;
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      t0 = performance.now();
      const entries = await tree.readdir('/alice/proj/runs');
      if (entries?.length !== N) throw new Error(`expected ${N} entries`);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(
      `readdir of ${N} runs from SQLite: median ${times[rounds >> 1]?.toFixed(1)} ms over ${rounds}`,
    );

    const names = (await tree.readdir('/alice/proj/runs')) ?? [];
    t0 = performance.now();
    for (const e of names) if (!(await tree.lookup(`/alice/proj/runs/${e.name}`))) throw new Error('missing');
    const lookups = performance.now() - t0;
    console.log(
      `${names.length} lookups of run dirs: ${lookups.toFixed(1)} ms (${((lookups * 1000) / names.length).toFixed(1)} µs each)`,
    );

    t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const n = await tree.lookup(`/alice/proj/runs/run-0/files/dir${i % 10}/file-${i}.bin`);
      if (n?.kind !== 'file') throw new Error('missing file');
    }
    const fl = performance.now() - t0;
    console.log(`${N} lookups of run files: ${fl.toFixed(1)} ms (${((fl * 1000) / N).toFixed(1)} µs each)`);

    t0 = performance.now();
    for (let i = 0; i < 10; i++) await tree.readdir(`/alice/proj/runs/run-0/files/dir${i}`);
    console.log(`readdir of 10 file dirs (${N} files in all): ${ms(t0)}`);
    console.log(`API calls after the first listings: ${api.totalCalls()} in all`);
  } finally {
    await tree.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
