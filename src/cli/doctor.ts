import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, stat, statfs } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { defaultCacheDir } from '../core/cache-dir.js';
import { errorMessage } from '../core/errors.js';
import { formatBytes } from '../core/units.js';
import { resolveApiKey, resolveBaseUrl } from '../config/credentials.js';
import { listWandbfsMounts } from '../admin/mountinfo.js';
import { isAlive, readRecords } from '../admin/registry.js';
import { out, runCommand } from './print.js';
import { isErrno } from '../core/errno-code.js';

const execFileP = promisify(execFile);

interface Args {
  cacheDir?: string;
  baseUrl?: string;
  debug?: boolean;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** a warning does not fail `doctor` */
  warnOnly?: boolean;
}

async function onPath(cmd: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return null;
}

async function checkDevFuse(): Promise<Check> {
  try {
    const st = await stat('/dev/fuse');
    if (!st.isCharacterDevice()) throw new Error('not a character device');
    await access('/dev/fuse', constants.R_OK | constants.W_OK);
    return { name: '/dev/fuse', ok: true, detail: 'present and accessible' };
  } catch (err) {
    return {
      name: '/dev/fuse',
      ok: false,
      detail: errorMessage(err),
      fix: 'load the module (modprobe fuse); in a container run with --device /dev/fuse --cap-add SYS_ADMIN',
    };
  }
}

async function checkLibfuse(): Promise<Check> {
  try {
    const { stdout } = await execFileP('ldconfig', ['-p']);
    const line = stdout.split('\n').find((l) => l.includes('libfuse.so.2'));
    if (line) return { name: 'libfuse 2', ok: true, detail: line.trim().split(' => ')[1] ?? 'found' };
  } catch {
    // fall through to the failure below
  }
  return {
    name: 'libfuse 2',
    ok: false,
    detail: 'libfuse.so.2 not found',
    fix: 'apt-get install -y libfuse2',
  };
}

async function checkFusermount(): Promise<Check> {
  const p = (await onPath('fusermount')) ?? (await onPath('fusermount3'));
  if (p) return { name: 'fusermount', ok: true, detail: p };
  return {
    name: 'fusermount',
    ok: false,
    detail: 'not on PATH',
    fix: 'apt-get install -y fuse3 (provides fusermount)',
  };
}

async function checkFuseNative(): Promise<Check> {
  try {
    await import('fuse-native');
    return { name: 'fuse-native', ok: true, detail: 'native binding loads' };
  } catch (err) {
    return {
      name: 'fuse-native',
      ok: false,
      detail: errorMessage(err),
      fix: 'npm ci (needs linux-x64 and libfuse2)',
    };
  }
}

function checkApiKey(baseUrl: string): { check: Check; key: string | null } {
  try {
    const { apiKey, source } = resolveApiKey(baseUrl);
    const where = source === 'env' ? 'WANDB_API_KEY' : source.replace(/^netrc:/, 'netrc file ');
    return {
      check: { name: 'API key', ok: true, detail: `from ${where} (${apiKey.length} chars, not shown)` },
      key: apiKey,
    };
  } catch (err) {
    return {
      check: {
        name: 'API key',
        ok: false,
        detail: errorMessage(err),
        fix: 'set WANDB_API_KEY, or run `wandb login`',
      },
      key: null,
    };
  }
}

async function checkServer(baseUrl: string, key: string | null): Promise<Check> {
  const name = `server ${baseUrl}`;
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (key) headers.authorization = 'Basic ' + Buffer.from(`api:${key}`).toString('base64');
    const res = await fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: '{ viewer { username } }' }),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 401)
      return {
        name,
        ok: false,
        detail: 'reachable, but the API key was rejected (401)',
        fix: 'run `wandb login` again or fix WANDB_API_KEY',
      };
    if (!res.ok)
      return {
        name,
        ok: false,
        detail: `reachable, HTTP ${res.status}`,
        fix: 'check --base-url / WANDB_BASE_URL',
      };
    const body = (await res.json()) as { data?: { viewer?: { username?: string } | null } };
    const user = body.data?.viewer?.username;
    return { name, ok: true, detail: user ? `reachable, logged in as ${user}` : 'reachable' };
  } catch (err) {
    return {
      name,
      ok: false,
      detail: `unreachable: ${errorMessage(err)}`,
      fix: 'check network/proxy and --base-url (WANDB_BASE_URL)',
    };
  }
}

async function checkCacheDir(dir: string): Promise<Check> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    const fs = await statfs(dir);
    const free = fs.bavail * fs.bsize;
    const low = free < 5 * 1024 ** 3;
    return {
      name: 'cache dir',
      ok: !low,
      warnOnly: low,
      detail: `${dir} writable, ${formatBytes(free)} free`,
      ...(low
        ? { fix: 'free disk space or use --cache-dir on a bigger disk (big files stream uncached when full)' }
        : {}),
    };
  } catch (err) {
    return {
      name: 'cache dir',
      ok: false,
      detail: `${dir}: ${errorMessage(err)}`,
      fix: 'fix its permissions or choose another with --cache-dir',
    };
  }
}

async function checkStaleMounts(): Promise<Check> {
  const stale: string[] = [];
  for (const m of await listWandbfsMounts()) {
    try {
      await stat(m.mountPoint);
    } catch (err) {
      if (isErrno(err, 'ENOTCONN', 'ECONNABORTED', 'EIO')) stale.push(m.mountPoint);
    }
  }
  if (stale.length === 0) return { name: 'stale mounts', ok: true, detail: 'none' };
  return {
    name: 'stale mounts',
    ok: false,
    detail: stale.join(', '),
    fix: stale.map((d) => `wandbfs unmount ${d}`).join('; '),
  };
}

/** Where each running daemon logs, so "what happened?" starts with the right file. */
async function checkLogs(cacheDir: string): Promise<Check> {
  const live = (await readRecords()).filter((r) => r.logFile !== null && isAlive(r.pid));
  const sizes = await Promise.all(
    live.map((r) =>
      stat(r.logFile ?? '').then(
        (st) => st.size,
        () => 0,
      ),
    ),
  );
  const detail =
    live.length === 0
      ? `no daemon running; daemons log to ${join(cacheDir, 'logs')}/mount-<id>.log`
      : live.map((r, i) => `${r.mountPoint} → ${r.logFile} (${formatBytes(sizes[i] ?? 0)})`).join('; ');
  return { name: 'logs', ok: true, detail };
}

export async function runChecks(a: { cacheDir?: string; baseUrl?: string }): Promise<Check[]> {
  const checks: Check[] = [
    await checkDevFuse(),
    await checkLibfuse(),
    await checkFusermount(),
    await checkFuseNative(),
  ];
  let baseUrl: string;
  try {
    baseUrl = resolveBaseUrl(a.baseUrl);
  } catch (err) {
    checks.push({
      name: 'base URL',
      ok: false,
      detail: errorMessage(err),
      fix: 'fix --base-url / WANDB_BASE_URL',
    });
    return checks;
  }
  const key = checkApiKey(baseUrl);
  checks.push(key.check, await checkServer(baseUrl, key.key));
  const cacheDir = resolve(a.cacheDir ?? defaultCacheDir());
  checks.push(await checkCacheDir(cacheDir), await checkStaleMounts(), await checkLogs(cacheDir));
  return checks;
}

export const doctorCommand: CommandModule<object, Args> = {
  command: 'doctor',
  describe: 'Check FUSE, credentials, server, cache dir and stale mounts; print the fix for each problem',
  builder: (y: Argv) =>
    y
      .option('cache-dir', { type: 'string', describe: 'cache dir to check' })
      .option('base-url', { type: 'string', describe: 'W&B API URL to check' })
      .example('$0 doctor', 'check this machine and your W&B login')
      .example(
        '$0 doctor --base-url https://wandb.example.com',
        'check a self-hosted server',
      ) as unknown as Argv<Args>,
  handler: (argv: ArgumentsCamelCase<Args>) =>
    runCommand(argv.debug, async () => {
      const checks = await runChecks(argv);
      for (const c of checks) {
        out(`${c.ok ? 'ok  ' : c.warnOnly ? 'warn' : 'FAIL'}  ${c.name}: ${c.detail}`);
        if (c.fix) out(`      fix: ${c.fix}`);
      }
      return checks.some((c) => !c.ok && !c.warnOnly) ? 1 : 0;
    }),
};
