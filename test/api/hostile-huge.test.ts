import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manifestPathProblem } from '../../src/api/manifest-parse.js';
import { HOSTILE_ENTITY, HOSTILE_MANIFEST_PATHS, HOSTILE_PROJECT } from '../fake-wandb/fixtures/hostile.js';
import {
  HUGE_ENTITY,
  HUGE_FILE_NAME,
  HUGE_FILE_SIZE,
  HUGE_PROJECT,
  HUGE_RUN,
} from '../fake-wandb/fixtures/huge-file.js';
import { startFakeWandb } from '../fake-wandb/server.js';
import { apiFor, captureLog, collect, readRange } from './helpers.js';

describe('hostile manifests', () => {
  it('unsafe paths are rejected entry by entry, the rest kept, nothing escapes the root', async () => {
    const fake = await startFakeWandb({ fixture: 'hostile' });
    const { logger, lines } = captureLog('warn');
    const api = apiFor(fake, { logger });
    try {
      const versions = await collect(api.listVersions(HOSTILE_ENTITY, HOSTILE_PROJECT, 'dataset', 'weird'));
      assert.equal(versions.length, 1);
      // '..' as an alias is data, not a path: it is passed through for the layers above to handle.
      assert.deepEqual(versions[0]!.aliases.sort(), ['..', 'latest']);
      const m = await api.manifest(versions[0]!.id);
      const kept = m.entries.map((e) => e.path);
      const rejected = m.rejected.map((r) => r.path);
      for (const path of [
        '../escape.txt',
        '/etc/passwd',
        'a/./b.txt',
        'a/../b.txt',
        'dup//slash.txt',
        '.',
        '..',
        'nul\u0000.bin',
        'n'.repeat(300),
        'clash',
      ]) {
        assert.ok(rejected.includes(path), `rejected ${JSON.stringify(path)}`);
        assert.ok(!kept.includes(path));
      }
      for (const path of ['ok.txt', 'Case.bin', 'case.bin', 'café.bin', 'clash/inner.bin', 'ext/ref.bin']) {
        assert.ok(kept.includes(path), `kept ${JSON.stringify(path)}`);
      }
      assert.equal(kept.length + rejected.length, HOSTILE_MANIFEST_PATHS.length + 1);
      for (const e of m.entries) {
        assert.equal(manifestPathProblem(e.path), null);
        assert.ok(!e.path.split('/').includes('..'));
      }
      // The reference entry is kept, with its (hostile) URI only as data.
      assert.equal(m.entries.find((e) => e.path === 'ext/ref.bin')?.ref, 'gs://bucket/../../x');
      assert.ok(lines.some((l) => l.includes('rejected manifest entry')));
    } finally {
      api.close();
      await fake.close();
    }
  });
});

describe('huge file', () => {
  it('ranges beyond 4 GiB of a 5 GiB file are byte-exact', async () => {
    const fake = await startFakeWandb({ fixture: 'huge-file' });
    const api = apiFor(fake);
    try {
      const files = await collect(api.listRunFiles(HUGE_ENTITY, HUGE_PROJECT, HUGE_RUN));
      assert.equal(files.find((f) => f.name === HUGE_FILE_NAME)?.sizeBytes, HUGE_FILE_SIZE);
      const src = api.rangeSource(
        { kind: 'run-file', entity: HUGE_ENTITY, project: HUGE_PROJECT, run: HUGE_RUN, name: HUGE_FILE_NAME },
        HUGE_FILE_NAME,
      );
      const blobId = fake.fixture.run(HUGE_ENTITY, HUGE_PROJECT, HUGE_RUN)!.files.get(HUGE_FILE_NAME)!.blobId;
      const content = fake.fixture.contentOf(blobId)!;
      for (const [s, e] of [
        [4 * 1024 ** 3 - 10, 4 * 1024 ** 3 + 1_000_000],
        [HUGE_FILE_SIZE - 3000, HUGE_FILE_SIZE],
      ] as const) {
        assert.ok((await readRange(src, s, e)).equals(content.read(s, e)), `[${s}, ${e})`);
      }
    } finally {
      api.close();
      await fake.close();
    }
  });
});
