/**
 * The systemd user unit we ship (contrib/systemd/wandbfs.service, quoted in docs/configuration.md):
 * its ExecStart and ExecStop run the way systemd runs them (no shell, %h expanded, the env file
 * read, the executable looked up by name), over the fake server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/package-root.js';
import { findMount } from '../../src/admin/mountinfo.js';
import { startFakeWandb, type FakeWandb } from '../fake-wandb/server.js';
import { forceCleanup, run, waitFor } from '../helpers/mount.js';

const unitFile = join(packageRoot(), 'contrib', 'systemd', 'wandbfs.service');

/** Key=value pairs of the [Service] section (the last one wins, as for systemd's scalar keys). */
function serviceSection(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head?.[1]) section = head[1];
    else if (section === 'Service') {
      const eq = line.indexOf('=');
      out.set(line.slice(0, eq), line.slice(eq + 1));
    }
  }
  return out;
}

/** systemd's command line rules we rely on: %h → home, words split on blanks (no shell). */
function commandLine(value: string, home: string): string[] {
  return value
    .replaceAll('%h', home)
    .split(/\s+/)
    .filter((w) => w !== '');
}

/** EnvironmentFile=: KEY=VALUE lines; a leading '-' means the file may be missing. */
async function envFile(value: string, home: string): Promise<Record<string, string>> {
  const optional = value.startsWith('-');
  const path = value.replace(/^-/, '').replaceAll('%h', home);
  const text = await readFile(path, 'utf8').catch((err: unknown) => {
    if (optional) return '';
    throw err;
  });
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1]) env[m[1]] = (m[2] ?? '').replace(/^"(.*)"$/, '$1');
  }
  return env;
}

describe('systemd user unit', () => {
  let server: FakeWandb;
  let home: string;
  let binDir: string;
  let unit: Map<string, string>;

  before(async () => {
    server = await startFakeWandb({ fixture: 'demo' });
    home = await mkdtemp(join(tmpdir(), 'wandbfs-unit-home-'));
    // `wandbfs` as an installed package puts it on the executable search path
    binDir = join(home, 'bin');
    await mkdir(binDir);
    const mainJs = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
    await writeFile(join(binDir, 'wandbfs'), `#!/bin/sh\nexec "${process.execPath}" "${mainJs}" "$@"\n`, {
      mode: 0o755,
    });
    await mkdir(join(home, '.config', 'wandbfs'), { recursive: true });
    await writeFile(
      join(home, '.config', 'wandbfs', 'env'),
      `WANDB_API_KEY=${server.apiKey}\nWANDB_BASE_URL=${server.url}\n`,
      { mode: 0o600 },
    );
    unit = serviceSection(await readFile(unitFile, 'utf8'));
  });

  after(async () => {
    await forceCleanup(join(home, 'wandb'));
    await server?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('is the unit docs/configuration.md shows', async () => {
    const doc = await readFile(join(packageRoot(), 'docs', 'configuration.md'), 'utf8');
    const text = (await readFile(unitFile, 'utf8')).trim();
    assert.ok(doc.includes(text), 'docs/configuration.md quotes contrib/systemd/wandbfs.service verbatim');
    assert.equal(unit.get('Type'), 'exec');
  });

  it('ExecStart mounts and stays the main process; ExecStop unmounts and it exits 0', async () => {
    const env: NodeJS.ProcessEnv = {
      // what a user manager passes: HOME, a PATH, no terminal; plus the EnvironmentFile
      HOME: home,
      PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      ...(await envFile(unit.get('EnvironmentFile') ?? '', home)),
    };
    const mountPoint = join(home, 'wandb');
    const [cmd, ...args] = commandLine(unit.get('ExecStart') ?? '', home);
    assert.equal(cmd, 'wandbfs');
    const main = spawn(cmd!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let journal = '';
    main.stdout.on('data', (d: Buffer) => (journal += d.toString()));
    main.stderr.on('data', (d: Buffer) => (journal += d.toString()));
    const exited = new Promise<number | null>((r) => main.once('exit', (code) => r(code)));
    try {
      const up = await waitFor(async () => (await findMount(mountPoint)) !== null, 30_000, 100);
      assert.ok(up, `the mount came up within 30 s (journal:\n${journal})`);
      const ls = await run('ls', [join(mountPoint, 'demo-user')]);
      assert.match(ls.stdout, /mnist-classifier/);
      // Type=exec is right only if the process systemd started is the one serving the mount
      assert.equal(main.exitCode, null, 'ExecStart is still running');
      const status = await run(cmd!, ['status', '--json'], { env });
      const mine = (JSON.parse(status.stdout) as { mountPoint: string; pid: number }[]).find(
        (m) => m.mountPoint === mountPoint,
      );
      assert.equal(mine?.pid, main.pid, 'the mount daemon is the main process');
      assert.ok(!journal.includes(server.apiKey), 'the key is not logged');

      const [stopCmd, ...stopArgs] = commandLine(unit.get('ExecStop') ?? '', home);
      const stop = await run(stopCmd!, stopArgs, { env, timeoutMs: 60_000 });
      assert.equal(stop.code, 0, stop.stderr);
      const code = await Promise.race([
        exited,
        new Promise<string>((r) => setTimeout(() => r('still running after 15 s'), 15_000)),
      ]);
      assert.equal(code, 0, `the main process exits 0 after ExecStop (journal:\n${journal})`);
      assert.equal(await findMount(mountPoint), null, 'nothing is left mounted');
      await access(mountPoint); // the directory --mkdir made stays, empty
    } finally {
      if (main.exitCode === null) main.kill('SIGTERM');
    }
  });
});
