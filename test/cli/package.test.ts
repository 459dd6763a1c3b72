/**
 * The npm package as a user installs it: `npm pack`, `npm install -g --prefix <tmp> <tarball>`, then
 * the installed `wandbfs` runs --version, doctor and a mount of the fake server. Needs a built dist/
 * (npm run build); dependencies come from the npm cache or the registry.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/package-root.js';
import { findMount } from '../../src/admin/mountinfo.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { forceCleanup, run, tempMountDir, waitFor } from '../helpers/mount.js';

describe('npm package', () => {
  let server: FakeWandb;
  let tmp: string;
  let tarball: string;
  let dir: string;
  const prefix = () => join(tmp, 'prefix');
  const version = async () =>
    (JSON.parse(await readFile(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;

  before(async () => {
    server = await startFakeWandb({ fixture: 'demo' });
    tmp = await mkdtemp(join(tmpdir(), 'wandbfs-pkg-'));
    dir = await tempMountDir('pkg');
  });

  after(async () => {
    if (await findMount(dir)) await run(join(prefix(), 'bin', 'wandbfs'), ['unmount', '--lazy', dir]);
    await forceCleanup(dir);
    await server?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('npm pack ships the CLI, migrations and docs, not tests, the fake server or the demo', async () => {
    const r = await run('npm', ['pack', '--pack-destination', tmp, packageRoot()], {
      cwd: tmp,
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stderr);
    tarball = join(tmp, r.stdout.trim().split('\n').pop()!);
    const list = (await run('tar', ['-tzf', tarball])).stdout.split('\n');
    for (const f of [
      'package/package.json',
      'package/README.md',
      'package/dist/src/cli/main.js',
      'package/migrations/001_meta.sql',
      'package/docs/configuration.md',
      'package/contrib/systemd/wandbfs.service',
    ]) {
      assert.ok(list.includes(f), `${f} ships`);
    }
    for (const prefix of [
      'package/test/',
      'package/dist/test/',
      'package/scripts/',
      'package/dist/scripts/',
      'package/src/',
      'package/bench/',
    ]) {
      assert.deepEqual(
        list.filter((f) => f.startsWith(prefix)),
        [],
        `nothing under ${prefix}`,
      );
    }
  });

  it(
    'installs on a clean prefix; the installed wandbfs reports its version, passes doctor and mounts',
    { timeout: 10 * 60_000 },
    async () => {
      // Dependencies come from npm's cache (filled by `npm ci`). Install scripts are skipped and
      // better-sqlite3's addon is the one `npm ci` compiled for this same Node: without a network its
      // install script compiles it from source again, minutes that test node-gyp, not this package.
      const install = await run(
        'npm',
        [
          'install',
          '-g',
          '--prefix',
          prefix(),
          '--prefer-offline',
          '--ignore-scripts',
          '--no-audit',
          '--no-fund',
          tarball,
        ],
        { cwd: tmp, timeoutMs: 8 * 60_000 },
      );
      assert.equal(install.code, 0, install.stderr);
      const installedSqlite = join(
        prefix(),
        'lib',
        'node_modules',
        'wandbfs',
        'node_modules',
        'better-sqlite3',
      );
      await cp(
        join(packageRoot(), 'node_modules', 'better-sqlite3', 'build'),
        join(installedSqlite, 'build'),
        {
          recursive: true,
        },
      );
      const bin = join(prefix(), 'bin', 'wandbfs');
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: tmp,
        XDG_CACHE_HOME: join(tmp, 'cache'),
        WANDB_API_KEY: server.apiKey,
        WANDB_BASE_URL: server.url,
      };
      const cli = (args: string[]) => run(bin, args, { env, cwd: tmp, timeoutMs: 60_000 });

      const v = await cli(['--version']);
      assert.equal(v.code, 0, v.stderr);
      assert.equal(v.stdout.trim(), await version());

      const doctor = await cli(['doctor']);
      assert.match(doctor.stdout, /ok +fuse-native/, doctor.stdout);
      assert.match(doctor.stdout, /ok +server .*logged in as demo-user/, doctor.stdout);

      const mount = await cli(['mount', dir]);
      assert.equal(mount.code, 0, mount.stderr);
      assert.ok(await waitFor(async () => (await findMount(dir)) !== null, 30_000), 'mounted');
      const ls = await run('ls', [join(dir, 'demo-user', 'mnist-classifier', 'runs')]);
      assert.equal(ls.code, 0, ls.stderr);
      assert.notEqual(ls.stdout.trim(), '', 'the runs directory lists runs');
      const stop = await cli(['unmount', dir]);
      assert.equal(stop.code, 0, stop.stderr);
      assert.ok(await waitFor(async () => (await findMount(dir)) === null, 15_000), 'unmounted');
    },
  );
});
