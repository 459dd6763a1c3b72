/**
 * Shared plumbing of the reliability suite: mount daemons run as child processes (the fake server
 * lives in the test process, so the test itself never reads the mount synchronously), a reader
 * process that hashes what it reads, and fixture digests to compare against.
 */
import type { AppConfig } from '../../src/app.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/package-root.js';
import { findMount } from '../../src/admin/mountinfo.js';
import { DEMO_ORG_ENTITY, DEMO_RESTRICTED_REGISTRY } from '../fake-wandb/fixtures/demo-registry.js';
import type { FakeWandb } from '../fake-wandb/server.js';
import { run, waitFor } from '../helpers/mount.js';
import { waitUntil } from '../helpers/wait.js';

export const MiB = 1024 * 1024;
export const DEMO_RUN_DIR = 'demo-user/mnist-classifier/runs/i9j0k1l2/files';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A temp dir whose path contains "wandbfs" (CI sweeps those). */
export const tempDir = (label: string) => mkdtemp(join(tmpdir(), `wandbfs-rel-${label}-`));

export interface Daemon {
  readonly pid: number;
  readonly dir: string;
  readonly cacheDir: string;
  /** everything the daemon wrote to stdout and stderr so far */
  log(): string;
  /** waits (with a deadline) until the daemon's output matches re: its lines arrive through a pipe */
  waitForLog(re: RegExp, what: string, timeoutMs?: number): Promise<void>;
  alive(): boolean;
  /** resolves with the exit code (or signal name) */
  readonly exited: Promise<number | string>;
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after 10 s; never throws */
  stop(): Promise<void>;
}

export interface DaemonSpec {
  server: { url: string; apiKey: string };
  dir: string;
  cacheDir: string;
  /** extra CLI flags (CLI daemon) */
  args?: string[];
  env?: Record<string, string>;
  /** knobs of the custom composition (wandbfs-rel-daemon); when set, that daemon is used */
  knobs?: RelDaemonKnobs;
  mountTimeoutMs?: number;
}

/** Options of test/reliability/wandbfs-rel-daemon.ts, passed as JSON in the environment. */
export interface RelDaemonKnobs {
  api?: NonNullable<AppConfig['tuning']>['api'];
  blobs?: NonNullable<AppConfig['tuning']>['blobs'];
  readMs?: number;
  logLevel?: string;
}

/**
 * Starts a mount daemon in the foreground as a child process: the real CLI (`wandbfs mount -f`) or,
 * with `knobs`, the same composition root (runApp) with API and blob options the CLI does not expose.
 * The key travels in the environment only, as the CLI requires.
 */
export async function startDaemon(s: DaemonSpec): Promise<Daemon> {
  const root = packageRoot();
  const argv = s.knobs
    ? [join(root, 'dist/test/reliability/wandbfs-rel-daemon.js'), s.dir, s.cacheDir]
    : [
        join(root, 'dist/src/cli/main.js'),
        'mount',
        s.dir,
        '--foreground',
        '--base-url',
        s.server.url,
        '--cache-dir',
        s.cacheDir,
        ...(s.args ?? []),
      ];
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    WANDB_API_KEY: s.server.apiKey,
    WANDB_BASE_URL: s.server.url,
    WANDB_CACHE_DIR: join(s.cacheDir, '..', 'no-sdk-cache'),
    ...(s.knobs ? { WANDBFS_REL_KNOBS: JSON.stringify(s.knobs) } : {}),
    ...(s.env ?? {}),
  };
  const child: ChildProcess = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (text += b.toString()));
  let done = false;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, sig) => {
      done = true;
      resolve(code ?? sig ?? 'unknown');
    }),
  );
  const d: Daemon = {
    pid: child.pid ?? -1,
    dir: s.dir,
    cacheDir: s.cacheDir,
    log: () => text,
    waitForLog: (re, what, timeoutMs) =>
      waitUntil(`the daemon's log to say ${what} (${String(re)})`, () => re.test(text), {
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      }),
    alive: () => !done,
    exited,
    kill9: async () => {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (!done) child.kill('SIGTERM');
      const t = setTimeout(() => !done && child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
  // Both daemons say "mounted" once live; a stale mount left at dir must not count as ready.
  const ok = await waitFor(
    async () => done || (/\bmounted\b/.test(text) && (await findMount(s.dir)) !== null),
    s.mountTimeoutMs ?? 30_000,
    50,
  );
  if (!ok || done) {
    await d.stop();
    await detach(s.dir);
    throw new Error(`daemon did not mount ${s.dir}:\n${text.slice(-3000)}`);
  }
  return d;
}

/** `fusermount -uz` while something is mounted at dir (a crashed daemon leaves a stale mount). */
export async function detach(dir: string): Promise<void> {
  for (let i = 0; i < 3 && (await findMount(dir)); i++) await run('fusermount', ['-uz', dir]);
}

/** A cleanup stack for `after`: runs everything even when one step fails. */
export class Cleanup {
  private readonly steps: (() => Promise<unknown>)[] = [];
  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }
  daemon(d: Daemon): Daemon {
    this.add(async () => {
      await d.stop();
      await detach(d.dir);
    });
    return d;
  }
  dir(path: string): string {
    this.add(async () => {
      await detach(path);
      await rm(path, { recursive: true, force: true });
    });
    return path;
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // keep cleaning up
      }
    }
  }
}

export interface ReadResult {
  md5?: string;
  errno?: number;
  size: number;
  ms: number;
}

/** Reads files in a separate process (threads > 1: concurrently) and hashes them. */
export async function readFiles(
  paths: string[],
  o: { threads?: number; timeoutMs?: number; block?: number } = {},
): Promise<Record<string, ReadResult>> {
  const r = await run(
    'python3',
    [
      join(packageRoot(), 'test', 'reliability', 'read.py'),
      '--threads',
      String(o.threads ?? 1),
      '--block',
      String(o.block ?? MiB),
      ...paths,
    ],
    { timeoutMs: o.timeoutMs ?? 60_000 },
  );
  if (r.code !== 0) throw new Error(`reader exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as Record<string, ReadResult>;
}

/** Starts a reader process without waiting (e.g. to kill the daemon under it). */
export function startReader(paths: string[], threads = 1): { done: Promise<Record<string, ReadResult>> } {
  return { done: readFiles(paths, { threads, timeoutMs: 240_000 }) };
}

/** Expected base64 MD5 of a run file of the fixture. */
export function runFileMd5(
  server: FakeWandb,
  entity: string,
  project: string,
  runName: string,
  file: string,
) {
  const f = server.fixture.run(entity, project, runName)?.files.get(file);
  if (!f) throw new Error(`fixture has no ${entity}/${project}/${runName}/${file}`);
  return f.md5B64;
}

export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

/** Direct children of a process (e.g. the `fusermount` auto_unmount helper of a mount daemon). */
export async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  const { readdir } = await import('node:fs/promises');
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const text = await readText(`/proc/${pid}/task/${tid}/children`);
    for (const c of text.split(/\s+/)) if (c) out.push(Number(c));
  }
  return out;
}

/** Peak resident set (VmHWM) and current RSS of a process, in bytes. */
export async function memoryOf(pid: number): Promise<{ hwm: number; rss: number }> {
  const s = await readText(`/proc/${pid}/status`);
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

/** A process answering at all: `ls` of a directory of the mount within a few seconds. */
export async function answers(path: string, timeoutMs = 5000): Promise<boolean> {
  const r = await run('ls', [path], { timeoutMs });
  return r.code === 0;
}

export interface Walk {
  files: Record<string, { size: number; xattrs: Record<string, string>; md5?: string; errno?: number }>;
  links: Record<string, string>;
}

/** Lists and reads a whole tree in a separate process (test/helpers/walk.py). */
export async function walkTree(root: string, timeoutMs = 120_000): Promise<Walk> {
  const r = await run('python3', [join(packageRoot(), 'test', 'helpers', 'walk.py'), root, '.wandbfs'], {
    timeoutMs,
  });
  if (r.code !== 0) throw new Error(`walk of ${root} failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as Walk;
}

/**
 * Every digest the fixture stores under `entity` (run files and committed artifact entries) must have
 * been read with exactly that MD5, and every file read must match its own digest. Returns the number
 * of files whose bytes were checked.
 */
export function checkWalkAgainstFixture(server: FakeWandb, walk: Walk, entities: string[]): number {
  const read = new Set<string>();
  let checked = 0;
  for (const [path, f] of Object.entries(walk.files)) {
    const algo = f.xattrs['user.wandb.digest_algo'];
    if (algo !== 'md5') continue; // generated metadata.json, references
    if (path.startsWith(`${DEMO_ORG_ENTITY}/${DEMO_RESTRICTED_REGISTRY}/`)) {
      // the demo registry whose role refuses downloads: EACCES is its right answer
      if (f.errno !== 13) throw new Error(`${path}: expected EACCES, got ${f.errno ?? 'its bytes'}`);
      continue;
    }
    if (f.errno !== undefined) throw new Error(`${path}: read failed with errno ${f.errno}`);
    if (f.md5 !== f.xattrs['user.wandb.digest']) throw new Error(`${path}: bytes do not match its digest`);
    if (f.md5 !== undefined) read.add(f.md5);
    checked++;
  }
  const expected = new Set<string>();
  for (const e of server.fixture.entities) {
    if (!entities.includes(e.name)) continue;
    for (const p of e.projects) for (const r of p.runs) for (const f of r.files) expected.add(f.md5B64);
  }
  for (const a of server.fixture.allArtifacts()) {
    if (a.state !== 'COMMITTED' || !entities.includes(a.entityName)) continue;
    for (const en of a.entries) if (!en.ref) expected.add(en.digest);
  }
  for (const d of expected) if (!read.has(d)) throw new Error(`fixture digest ${d} was never read back`);
  return checked;
}
