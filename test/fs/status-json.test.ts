/**
 * /.wandbfs/status.json on a real mount over the fake W&B server, read by ordinary tools while a
 * throttled download keeps changing it: every copy must be one whole, parseable document, and every
 * new open must show fresh numbers (issue #16: `cp` used to fail with "replaced while being copied").
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { mountApp, type AppMount } from '../helpers/app-mount.js';
import { run, waitFor } from '../helpers/mount.js';

interface StatusDoc {
  generatedAt: string;
  downloadsInFlight: number;
  downloads: { label: string; bytesDone: number; sizeBytes: number }[];
  cache: { misses: number };
  fuse: { ops: number };
}

const RUN_FILES = 'demo-user/mnist-classifier/runs/a1b2c3d4/files';

describe('status.json read by cp, python and node while a download changes it', () => {
  let server: FakeWandb;
  let m: AppMount | undefined;
  let dir = '';
  let outDir = '';
  const status = () => join(dir, '.wandbfs', 'status.json');

  before(async () => {
    server = await startFakeWandb({ fixture: 'demo' });
    outDir = await mkdtemp(join(tmpdir(), 'wandbfs-status-out-'));
    m = await mountApp(server, 'status');
    dir = m.dir;
  });

  after(async () => {
    try {
      await m?.cleanup();
    } finally {
      await rm(outDir, { recursive: true, force: true });
      await server?.close();
    }
  });

  async function catStatus(): Promise<StatusDoc> {
    const r = await run('cat', [status()]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as StatusDoc;
  }

  it('every cp of status.json during a download is one whole document, and later copies are newer', async () => {
    // 3 MiB at 512 KiB/s: about 6 s of a download whose progress status.json reports.
    server.faults.storage.bandwidthBytesPerSec = 512 * 1024;
    const model = join(dir, RUN_FILES, 'checkpoints', 'model.pt');
    let done = false;
    const reading = run('sh', ['-c', `cat '${model}' | wc -c`], { timeoutMs: 60_000 }).finally(() => {
      done = true;
    });
    try {
      const inFlight = await waitFor(async () => (await catStatus()).downloadsInFlight > 0, 20_000);
      assert.ok(inFlight, 'status.json never showed the download of model.pt in flight');
      // One reader at a time: another process's open between cp's stat and its open moves the link
      // on, and cp then refuses the file (see StatusSnapshots).
      const progress: number[] = [];
      const deadline = Date.now() + 60_000;
      for (let i = 0; !done && Date.now() < deadline; i++) {
        const copy = join(outDir, `status-${i}.json`);
        const cp = await run('cp', [status(), copy]);
        assert.equal(cp.code, 0, `cp #${i}: ${cp.stderr}`);
        const doc = JSON.parse(await readFile(copy, 'utf8')) as StatusDoc;
        const d = doc.downloads.find((x) => x.label.endsWith('checkpoints/model.pt'));
        if (d) progress.push(d.bytesDone);
      }
      assert.ok(done, 'the download of model.pt did not finish within 60 s');
      // python reads to EOF; node's readFileSync reads exactly the size fstat reports, as rsync does.
      const py = await run('python3', ['-m', 'json.tool', status()]);
      assert.equal(py.code, 0, `python3 -m json.tool: ${py.stderr}`);
      const node = await run(process.execPath, [
        '-e',
        'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))',
        status(),
      ]);
      assert.equal(node.code, 0, `node readFileSync: ${node.stderr}`);
      assert.ok(
        new Set(progress).size >= 2,
        `copies showed only the progress values ${[...new Set(progress)].join(', ')}: they are not fresh`,
      );
      assert.deepEqual(
        [...progress].sort((a, b) => a - b),
        progress,
        'progress went backwards between copies',
      );
    } finally {
      server.faults.storage.bandwidthBytesPerSec = 0;
    }
    const r = await reading;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Number(r.stdout.trim()), 3 * 1024 * 1024 + 17);
  });

  it('two successive cats show updated counters', async () => {
    const first = await catStatus();
    const second = await catStatus();
    assert.ok(second.fuse.ops > first.fuse.ops, `fuse.ops ${first.fuse.ops} -> ${second.fuse.ops}`);
    const png = await run('sh', [
      '-c',
      `cat '${join(dir, RUN_FILES, 'media', 'images', 'sample_0.png')}' | wc -c`,
    ]);
    assert.equal(png.code, 0, png.stderr);
    const third = await catStatus();
    assert.ok(
      third.cache.misses > second.cache.misses,
      `cache.misses ${second.cache.misses} -> ${third.cache.misses}`,
    );
  });

  it('a stat followed by an open reaches the same snapshot (what cp and rsync rely on)', async () => {
    const r = await run('sh', [
      '-c',
      `s=$(stat -L -c '%i %s' '${status()}'); exec 3<'${status()}'; f=$(stat -L -c '%i %s' /dev/fd/3); ` +
        `echo "$s|$f"; cat <&3 | wc -c`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [ids, bytes] = r.stdout.trim().split('\n');
    const [before, opened] = (ids ?? '').split('|');
    assert.equal(before, opened, 'stat and open resolved status.json to different files');
    assert.equal(
      Number(bytes),
      Number(before?.split(' ')[1]),
      'bytes read differ from the size stat reported',
    );
  });
});
