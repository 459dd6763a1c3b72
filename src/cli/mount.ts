import { spawn } from 'node:child_process';
import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { prepareMountPoint, runApp, type AppConfig, type Ttls } from '../app.js';
import { defaultCacheDir } from '../core/cache-dir.js';
import { ConfigError } from '../core/errors.js';
import { createLogger, isLogLevel, type Logger, type LogLevel } from '../core/log.js';
import {
  capStderrFile,
  LOG_ROTATION_DEFAULTS,
  rotatingFileSink,
  stderrFileFor,
  type Rotation,
} from '../core/log-file.js';
import { parseDuration, parseSize } from '../core/units.js';
import { resolveBaseUrl, resolveCredentials } from '../config/credentials.js';
import { findMount } from '../admin/mountinfo.js';
import { mountFiles } from '../admin/registry.js';
import { DaemonStartError } from './errors.js';
import { out, reportError, runCommand } from './print.js';
import { readLive } from './status.js';
import { DAEMON_NODE_FLAGS } from './node-flags.js';

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
  offline?: boolean;
  logMaxSize?: string;
  logFiles?: number;
  daemonChild?: boolean;
  /** daemon child: the launcher writes the API key to stdin (never argv, never our environment) */
  apiKeyStdin?: boolean;
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
  'logMaxSize',
  'logFiles',
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
        'a download writing less than 1 MiB in this long is abandoned: waiting reads get EIO, the next read resumes it',
    })
    .option('offline', {
      type: 'boolean',
      default: false,
      describe: 'mount without contacting W&B: serve what the cache holds, reconnect in the background',
    })
    .option('log-max-size', {
      type: 'string',
      default: '10M',
      describe: 'daemon log: rotate the file at this size',
    })
    .option('log-files', {
      type: 'number',
      default: LOG_ROTATION_DEFAULTS.files,
      describe: 'daemon log: files kept, the live one included (total ≤ size × files)',
    })
    .option('daemon-child', { type: 'boolean', hidden: true })
    .option('api-key-stdin', { type: 'boolean', hidden: true })
    .example('$0 mount ~/wandb', 'mount everything your API key can see, in the background')
    .example('$0 mount ~/wandb --entity my-team --project my-proj', 'scope the root to one project')
    .example('$0 mount -f ~/wandb --log-level debug', 'stay in the foreground (Ctrl+C unmounts)')
    .example('$0 mount --offline ~/wandb', 'on the train: serve only what the cache holds')
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
  override: { baseUrl?: string; apiKey?: string; source?: string } = {},
): AppConfig {
  if (a.project && !a.entity)
    throw new ConfigError('--project needs --entity', 'e.g. --entity my-team --project my-proj');
  if (!isLogLevel(a.logLevel)) throw new ConfigError(`invalid --log-level ${a.logLevel}`);
  if (!(a.attrTimeout >= 0)) throw new ConfigError('--attr-timeout must be a number of seconds');
  const creds =
    override.apiKey !== undefined && override.baseUrl !== undefined
      ? { baseUrl: override.baseUrl, apiKey: override.apiKey, source: override.source ?? 'demo' }
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
    ...(a.offline ? { offline: true } : {}),
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

export function logRotation(a: Pick<MountArgs, 'logMaxSize' | 'logFiles'>): Rotation {
  const maxBytes = a.logMaxSize === undefined ? LOG_ROTATION_DEFAULTS.maxBytes : parseSize(a.logMaxSize);
  const files = a.logFiles ?? LOG_ROTATION_DEFAULTS.files;
  if (maxBytes < 1024) throw new ConfigError('--log-max-size must be at least 1K');
  if (!Number.isInteger(files) || files < 1) throw new ConfigError('--log-files must be a whole number ≥ 1');
  return { maxBytes, files };
}

/** The key the launcher wrote to our stdin (daemon child), so it is in neither argv nor environ. */
async function readKeyFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const key = Buffer.concat(chunks).toString('utf8').trim();
  if (!key) throw new ConfigError('no API key arrived on stdin from the launcher');
  return key;
}

/**
 * Once the key is read, nothing else needs it in the environment, and every child inherits the
 * environment: libfuse's auto_unmount helper (fusermount), `fusermount -u` at unmount. Node's
 * delete on process.env calls unsetenv(), so fork/exec from C code no longer sees it.
 */
export function scrubKeyFromEnvironment(): void {
  delete process.env.WANDB_API_KEY;
}

function daemonLogger(a: MountArgs, config: AppConfig): Logger {
  const level = a.logLevel as LogLevel;
  if (!a.daemonChild || config.logFile === null) return createLogger({ level });
  const rotation = logRotation(a);
  capStderrFile(rotation.maxBytes);
  return createLogger({ level, sink: rotatingFileSink(config.logFile, rotation) });
}

/** Runs the mount in this process until a signal or an external unmount ends it. */
export async function mountForeground(
  a: MountArgs,
  override: { baseUrl?: string; apiKey?: string; onStopped?: () => Promise<void> } = {},
): Promise<void> {
  const keyOverride = a.apiKeyStdin
    ? { baseUrl: resolveBaseUrl(a.baseUrl), apiKey: await readKeyFromStdin(), source: 'env' }
    : override;
  const config = configFromArgs(a, keyOverride);
  scrubKeyFromEnvironment();
  const log = daemonLogger(a, config);
  const app = await runApp(config, log, override.onStopped ? { onStopped: override.onStopped } : {});
  if (a.daemonChild) return;
  out(`wandbfs: mounted ${config.mountPoint} (Ctrl+C to unmount)`);
  const c = app.connectivity();
  if (c.state === 'offline') out(offlineNotice(config.baseUrl, c.reason));
}

function offlineNotice(baseUrl: string, reason: string | null): string {
  return `wandbfs: W&B at ${baseUrl} is unreachable (${reason ?? 'offline'}): serving cached data offline, reconnecting in the background`;
}

/** Starts a detached copy of ourselves with --foreground and returns once the mount is live. */
async function mountDaemon(a: MountArgs): Promise<number> {
  const config = configFromArgs(a); // fails fast on bad flags or a missing key
  logRotation(a); // and on bad log flags, before a daemon is started
  await prepareMountPoint(config.mountPoint, createLogger({ level: 'warn' }), config.mkdir);
  const files = mountFiles(config.cacheDir, config.mountPoint);
  const stderrFile = stderrFileFor(files.logFile);
  await mkdir(resolve(files.logFile, '..'), { recursive: true, mode: 0o700 });
  // The previous daemon's crash output is kept one generation.
  if ((await stat(stderrFile).catch(() => null))?.size) await rename(stderrFile, `${stderrFile}.1`);
  const errFd = await open(stderrFile, 'a', 0o600);
  const logStart = (await stat(files.logFile).catch(() => null))?.size ?? 0;
  const keyViaStdin = config.apiKeySource === 'env';
  const args = [
    ...DAEMON_NODE_FLAGS,
    fileURLToPath(new URL('./main.js', import.meta.url)),
    'mount',
    config.mountPoint,
  ];
  args.push('--foreground', '--daemon-child', '--cache-dir', config.cacheDir);
  for (const k of FORWARDED) {
    const v = a[k];
    if (v !== undefined && v !== false) args.push(`--${kebab(k)}`, String(v));
  }
  if (a.allowOther) args.push('--allow-other');
  if (!a.sdkCache) args.push('--no-sdk-cache');
  if (a.offline) args.push('--offline');
  if (keyViaStdin) args.push('--api-key-stdin');
  const env = { ...process.env };
  delete env.WANDB_API_KEY;
  // The key reaches the child on a pipe (or it reads netrc itself): never argv, never its environ.
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: [keyViaStdin ? 'pipe' : 'ignore', errFd.fd, errFd.fd],
    cwd: '/',
    env,
  });
  // A child that dies before reading must not crash us with EPIPE; its exit is reported below.
  child.stdin?.on('error', () => undefined);
  if (keyViaStdin) child.stdin?.end(`${config.apiKey}\n`);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  child.unref();
  await errFd.close();
  const until = Date.now() + 60_000;
  while (Date.now() < until && exited === null) {
    if (await findMount(config.mountPoint)) {
      child.stdin?.destroy();
      out(`wandbfs: mounted ${config.mountPoint} (pid ${child.pid}, log ${files.logFile})`);
      const live = await readLive(config.mountPoint);
      const c = live?.connectivity as { state?: string; reason?: string | null } | undefined;
      if (c?.state === 'offline') out(offlineNotice(config.baseUrl, c.reason ?? null));
      return 0;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (exited === null) child.kill('SIGTERM');
  throw await daemonFailed(a.dir, exited, files.logFile, logStart, stderrFile);
}

/** The error for a daemon that exited or hung before mounting, with the last lines it wrote. */
async function daemonFailed(
  dir: string,
  exited: number | null,
  logFile: string,
  logStart: number,
  stderrFile: string,
): Promise<DaemonStartError> {
  const logText = (await readFile(logFile, 'utf8').catch(() => '')).slice(logStart);
  const errText = await readFile(stderrFile, 'utf8').catch(() => '');
  const tail = (logText + errText).trim().split('\n').slice(-15).join('\n');
  return new DaemonStartError(
    `the mount daemon ${exited === null ? 'did not mount in time' : `exited (code ${exited})`}:\n${tail}`,
    `full log: ${logFile} (crash output: ${stderrFile}); try \`wandbfs mount -f ${dir}\` to see it live, or \`wandbfs doctor\``,
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
