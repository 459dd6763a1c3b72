import { spawn } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { prepareMountPoint, runApp, type AppConfig, type Ttls } from '../app.js';
import { defaultCacheDir } from '../core/cache-dir.js';
import { ConfigError } from '../core/errors.js';
import { createLogger, isLogLevel, type LogLevel } from '../core/log.js';
import { parseDuration, parseSize } from '../core/units.js';
import { resolveCredentials } from '../config/credentials.js';
import { findMount } from '../admin/mountinfo.js';
import { mountFiles } from '../admin/registry.js';
import { DaemonStartError } from './errors.js';
import { out, reportError, runCommand } from './print.js';

export interface MountArgs {
  dir: string;
  entity?: string;
  project?: string;
  cacheDir?: string;
  baseUrl?: string;
  maxCacheSize?: string;
  minFreeSpace?: string;
  sdkCache: boolean;
  foreground: boolean;
  allowOther: boolean;
  logLevel: string;
  mkdir: boolean;
  ttlListing?: string;
  ttlRun?: string;
  ttlActiveRun?: string;
  ttlNegative?: string;
  attrTimeout: number;
  readTimeout: string;
  stallTimeout: string;
  daemonChild?: boolean;
  debug?: boolean;
}

const FORWARDED: (keyof MountArgs)[] = [
  'entity',
  'project',
  'baseUrl',
  'maxCacheSize',
  'minFreeSpace',
  'logLevel',
  'ttlListing',
  'ttlRun',
  'ttlActiveRun',
  'ttlNegative',
  'attrTimeout',
  'readTimeout',
  'stallTimeout',
];

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

export function mountBuilder(y: Argv): Argv<MountArgs> {
  return y
    .positional('dir', { type: 'string', demandOption: true, describe: 'empty directory to mount on' })
    .option('entity', { type: 'string', describe: 'show only this entity at the root' })
    .option('project', { type: 'string', describe: 'with --entity: show only this project at the root' })
    .option('cache-dir', { type: 'string', describe: `metadata + blob cache (default ${defaultCacheDir()})` })
    .option('base-url', {
      type: 'string',
      describe: 'W&B API URL (default $WANDB_BASE_URL or https://api.wandb.ai)',
    })
    .option('max-cache-size', { type: 'string', describe: 'blob cache limit, e.g. 50G (default 50G)' })
    .option('min-free-space', {
      type: 'string',
      describe: 'keep at least this much free on the cache filesystem, e.g. 5G (default 5G)',
    })
    .option('sdk-cache', {
      type: 'boolean',
      default: true,
      describe: 'reuse blobs the W&B SDK already downloaded ($WANDB_CACHE_DIR); --no-sdk-cache to skip',
    })
    .option('foreground', {
      alias: 'f',
      type: 'boolean',
      default: false,
      describe: 'stay in the foreground, log to stderr',
    })
    .option('allow-other', { type: 'boolean', default: false, describe: 'let other users read the mount' })
    .option('log-level', { type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'] })
    .option('mkdir', { type: 'boolean', default: false, describe: 'create the mount point if missing' })
    .option('ttl-listing', {
      type: 'string',
      describe: 'freshness of project/run/artifact listings (e.g. 60s)',
    })
    .option('ttl-run', { type: 'string', describe: 'freshness of finished runs (e.g. 10m)' })
    .option('ttl-active-run', { type: 'string', describe: 'freshness of running runs (e.g. 30s)' })
    .option('ttl-negative', { type: 'string', describe: 'how long "no such name" is remembered (e.g. 5s)' })
    .option('attr-timeout', {
      type: 'number',
      default: 10,
      describe: 'seconds the kernel caches attributes and names',
    })
    .option('read-timeout', {
      type: 'string',
      default: '120s',
      describe: 'a read waiting longer (stalled download) fails with EIO',
    })
    .option('stall-timeout', {
      type: 'string',
      default: '60s',
      describe:
        'a download receiving no bytes this long is abandoned: waiting reads get EIO, the next read resumes it',
    })
    .option('daemon-child', { type: 'boolean', hidden: true })
    .example('$0 mount ~/wandb', 'mount everything your API key can see, in the background')
    .example('$0 mount ~/wandb --entity my-team --project my-proj', 'scope the root to one project')
    .example('$0 mount -f ~/wandb --log-level debug', 'stay in the foreground (Ctrl+C unmounts)')
    .example(
      'WANDB_BASE_URL=https://wandb.example.com $0 mount ~/wandb',
      'a self-hosted W&B server',
    ) as unknown as Argv<MountArgs>;
}

function ttlsFrom(a: MountArgs): Partial<Ttls> {
  const t: Partial<Ttls> = {};
  if (a.ttlListing) t.listingMs = parseDuration(a.ttlListing);
  if (a.ttlRun) t.terminalRunMs = parseDuration(a.ttlRun);
  if (a.ttlActiveRun) t.activeRunMs = parseDuration(a.ttlActiveRun);
  if (a.ttlNegative) t.negativeMs = parseDuration(a.ttlNegative);
  return t;
}

/** Turns flags into an AppConfig; the key comes from the environment or netrc, never from argv. */
export function configFromArgs(
  a: MountArgs,
  override: { baseUrl?: string; apiKey?: string } = {},
): AppConfig {
  if (a.project && !a.entity)
    throw new ConfigError('--project needs --entity', 'e.g. --entity my-team --project my-proj');
  if (!isLogLevel(a.logLevel)) throw new ConfigError(`invalid --log-level ${a.logLevel}`);
  if (!(a.attrTimeout >= 0)) throw new ConfigError('--attr-timeout must be a number of seconds');
  const creds =
    override.apiKey !== undefined && override.baseUrl !== undefined
      ? { baseUrl: override.baseUrl, apiKey: override.apiKey, source: 'demo' }
      : resolveCredentials(a.baseUrl === undefined ? {} : { baseUrl: a.baseUrl });
  const cacheDir = resolve(a.cacheDir ?? defaultCacheDir());
  const mountPoint = resolve(a.dir);
  return {
    mountPoint,
    cacheDir,
    baseUrl: creds.baseUrl,
    apiKey: creds.apiKey,
    apiKeySource: creds.source,
    ...(a.entity === undefined ? {} : { entity: a.entity }),
    ...(a.project === undefined ? {} : { project: a.project }),
    ...(a.maxCacheSize === undefined ? {} : { maxCacheBytes: parseSize(a.maxCacheSize) }),
    ...(a.minFreeSpace === undefined ? {} : { minFreeBytes: parseSize(a.minFreeSpace) }),
    sdkCache: a.sdkCache,
    mkdir: a.mkdir,
    ttl: ttlsFrom(a),
    mount: {
      allowOther: a.allowOther,
      attrTimeoutS: a.attrTimeout,
      entryTimeoutS: a.attrTimeout,
    },
    timeouts: { readMs: parseDuration(a.readTimeout) },
    stallTimeoutMs: parseDuration(a.stallTimeout),
    logFile: a.daemonChild ? mountFiles(cacheDir, mountPoint).logFile : null,
  };
}

/** Runs the mount in this process until a signal or an external unmount ends it. */
export async function mountForeground(
  a: MountArgs,
  override: { baseUrl?: string; apiKey?: string; onStopped?: () => Promise<void> } = {},
): Promise<void> {
  const config = configFromArgs(a, override);
  const log = createLogger({ level: a.logLevel as LogLevel });
  await runApp(config, log, override.onStopped ? { onStopped: override.onStopped } : {});
  if (!a.daemonChild) out(`wandbfs: mounted ${config.mountPoint} (Ctrl+C to unmount)`);
}

/** Starts a detached copy of ourselves with --foreground and returns once the mount is live. */
async function mountDaemon(a: MountArgs): Promise<number> {
  const config = configFromArgs(a); // fails fast on bad flags or a missing key
  await prepareMountPoint(config.mountPoint, createLogger({ level: 'warn' }), config.mkdir);
  const files = mountFiles(config.cacheDir, config.mountPoint);
  await mkdir(resolve(files.logFile, '..'), { recursive: true, mode: 0o700 });
  const logFd = await open(files.logFile, 'a', 0o600);
  const args = [
    fileURLToPath(new URL('./main.js', import.meta.url)),
    'mount',
    config.mountPoint,
    '--foreground',
    '--daemon-child',
  ];
  args.push('--cache-dir', config.cacheDir);
  for (const k of FORWARDED) {
    const v = a[k];
    if (v !== undefined && v !== false) args.push(`--${kebab(k)}`, String(v));
  }
  if (a.allowOther) args.push('--allow-other');
  if (!a.sdkCache) args.push('--no-sdk-cache');
  const startOffset = (await logFd.stat()).size;
  // The key reaches the child through the inherited environment or netrc, never argv.
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', logFd.fd, logFd.fd],
    cwd: '/',
    env: process.env,
  });
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  child.unref();
  await logFd.close();
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (exited !== null) break;
    if (await findMount(config.mountPoint)) {
      out(`wandbfs: mounted ${config.mountPoint} (pid ${child.pid}, log ${files.logFile})`);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = await readFile(files.logFile, 'utf8').catch(() => '');
  const tail = log.slice(startOffset).trim().split('\n').slice(-15).join('\n');
  if (exited === null) child.kill('SIGTERM');
  throw new DaemonStartError(
    `the mount daemon ${exited === null ? 'did not mount in time' : `exited (code ${exited})`}:\n${tail}`,
    `full log: ${files.logFile}; try \`wandbfs mount -f ${a.dir}\` to see it live, or \`wandbfs doctor\``,
  );
}

export const mountCommand: CommandModule<object, MountArgs> = {
  command: 'mount <dir>',
  describe: 'Mount W&B at <dir> (background daemon unless --foreground)',
  builder: mountBuilder,
  handler: async (argv: ArgumentsCamelCase<MountArgs>) => {
    if (argv.foreground) {
      try {
        await mountForeground(argv);
      } catch (err) {
        reportError(err, argv.debug === true);
        process.exit(1);
      }
      return;
    }
    await runCommand(argv.debug, () => mountDaemon(argv));
  },
};
