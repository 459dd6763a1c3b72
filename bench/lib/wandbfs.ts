/**
 * The wandbfs side of the bench: the fake W&B server (in this process) and the real CLI mount
 * (`node <DAEMON_NODE_FLAGS> dist/src/cli/main.js mount <dir> --foreground ...`, the flags of main.js's
 * `#!` line) as a child process, exactly as a user runs it. Everything here reports why it cannot work instead of inventing a number.
 */
import { access, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../../src/cli/node-flags.js';
import { onCleanup } from './cleanup.js';
import { mountDaemon, type MountedDaemon } from './fuse-daemon.js';
import { run } from './proc.js';
import { makeTempDir } from './tmp.js';

const distRoot = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const cliPath = join(distRoot, 'src', 'cli', 'main.js');
const fakeServerPath = join(distRoot, 'test', 'fake-wandb', 'server.js');

// Types only: the module itself is loaded at runtime, so the bench still runs (baselines only) when
// the fake server is missing or broken.
import type { FakeWandb, FixtureName, startFakeWandb } from '../../test/fake-wandb/server.js';

export type { FakeWandb, FixtureName };
type StartFake = typeof startFakeWandb;

export interface WandbfsMount extends MountedDaemon {
  cacheDir: string;
  /** removes the mount's temp dir (mount point and, unless passed in, the cache); after stop() */
  removeDir: () => Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export class Wandbfs {
  private startFake: StartFake | null = null;
  private readonly fakes = new Map<FixtureName, FakeWandb>();
  /** null when usable */
  unavailable: string | null = 'not checked yet';

  /** Checks the CLI and the fake server are built and the CLI knows `mount`. */
  async probe(): Promise<void> {
    if (!(await exists(cliPath))) return this.setUnavailable(`no CLI at ${rel(cliPath)}`);
    if (!(await exists(fakeServerPath)))
      return this.setUnavailable(`no fake server at ${rel(fakeServerPath)}`);
    const help = await run(process.execPath, [cliPath, 'mount', '--help'], { timeoutMs: 20_000 });
    if (help.code !== 0) return this.setUnavailable(`\`wandbfs mount --help\` exits ${String(help.code)}`);
    try {
      const mod: unknown = await import(pathToFileURL(fakeServerPath).href);
      const fn = (mod as { startFakeWandb?: unknown }).startFakeWandb;
      if (typeof fn !== 'function') return this.setUnavailable('fake server exports no startFakeWandb');
      this.startFake = fn as StartFake;
    } catch (err) {
      return this.setUnavailable(`fake server fails to load: ${String(err).slice(0, 200)}`);
    }
    this.unavailable = null;
  }

  private setUnavailable(reason: string): void {
    this.unavailable = reason;
  }

  /** `wandbfs: not available (<reason>)`, for rows that cannot be measured. */
  get notAvailable(): string {
    return `wandbfs: not available (${this.unavailable ?? 'unknown'})`;
  }

  /** One fake server per fixture for the whole run (fixture data is memoized inside it). */
  async fake(fixture: FixtureName): Promise<FakeWandb> {
    const have = this.fakes.get(fixture);
    if (have) return have;
    if (!this.startFake) throw new Error(this.notAvailable);
    // a long signed-URL lifetime: a full run outlives the default hour
    const fake = await this.startFake({ fixture, signedUrlTtlMs: 6 * 3_600_000 });
    this.fakes.set(fixture, fake);
    onCleanup(`fake W&B (${fixture})`, () => fake.close());
    return fake;
  }

  /**
   * Mounts wandbfs over `fake`; a fresh cache dir unless one is passed (remount with a warm cache).
   * `cpuList` pins the daemon to those CPUs (taskset's list syntax, e.g. '0').
   */
  async mount(
    fake: FakeWandb,
    opts: { cacheDir?: string; extraArgs?: string[]; cpuList?: string } = {},
  ): Promise<WandbfsMount> {
    const { path, remove } = await makeTempDir('wandbfs-mnt');
    const mnt = join(path, 'mnt');
    await mkdir(mnt);
    const cacheDir = opts.cacheDir ?? join(path, 'cache');
    await mkdir(cacheDir, { recursive: true });
    const args = [
      ...DAEMON_NODE_FLAGS,
      cliPath,
      'mount',
      mnt,
      '--foreground',
      '--base-url',
      fake.url,
      '--cache-dir',
      cacheDir,
    ];
    args.push(...(opts.extraArgs ?? []));
    // the key travels in the environment only: never in argv, where `ps` would show it
    const env: NodeJS.ProcessEnv = { ...process.env, WANDB_API_KEY: fake.apiKey };
    delete env.WANDB_BASE_URL;
    // `taskset -c <list> node ...` execs node, so the daemon keeps the pid the bench reads /proc of
    const [cmd, argv] = opts.cpuList
      ? ['taskset', ['-c', opts.cpuList, process.execPath, ...args]]
      : [process.execPath, args];
    const m = await mountDaemon('wandbfs', cmd, argv, mnt, { env, timeoutMs: 60_000 });
    return { ...m, cacheDir, removeDir: remove };
  }
}

function rel(p: string): string {
  return p.startsWith(distRoot) ? `dist${p.slice(distRoot.length)}` : p;
}

/**
 * Where a run file shows up in the mount. The tree layout is the mount's business; try the plausible
 * layouts with `stat` in a child process (never a sync call from this process) and keep the one that
 * exists with the expected size.
 */
export async function locateRunFile(
  mnt: string,
  loc: { entity: string; project: string; run: string; file: string },
  sizeBytes: number,
): Promise<string> {
  const base = [mnt, loc.entity, loc.project];
  const candidates = [
    join(...base, 'runs', loc.run, 'files', loc.file),
    join(...base, 'runs', loc.run, loc.file),
    join(mnt, loc.project, 'runs', loc.run, 'files', loc.file),
    join(mnt, 'runs', loc.run, 'files', loc.file),
  ];
  for (const c of candidates) {
    const r = await run('stat', ['-c', '%s', c], { timeoutMs: 120_000 });
    if (r.code === 0 && Number(r.stdout.trim()) === sizeBytes) return c;
  }
  throw new Error(`cannot find ${loc.entity}/${loc.project} run ${loc.run} file ${loc.file} in the mount`);
}
