import { resolve } from 'node:path';
import { createWandbApi, type WandbApiOptions } from './api/client.js';
import type { ConnectivitySnapshot } from './api/connectivity.js';
import { createBlobCache, type BlobCacheOptions } from './blobs/store.js';
import { openDb } from './core/db.js';
import { errorMessage } from './core/errors.js';
import type { Logger } from './core/log.js';
import { startControlServer } from './admin/control.js';
import { FsCore } from './fs/core.js';
import type { MountOptions } from './fs/fuse.js';
import { runMounted } from './fs/lifecycle.js';
import { wandbfsVersion } from './core/version.js';
import { mountFs, type MountedFs, type MountTimeouts } from './fs/mount.js';
import { mountFiles, removeRecord, writeRecord } from './admin/registry.js';
import type { Ttls } from './meta/freshness.js';
import { createMetaTree } from './meta/tree.js';
import { checkServer } from './server-check.js';

/** Everything a mount needs, already validated by the CLI. The API key is here, never on argv. */
export interface AppConfig {
  mountPoint: string;
  cacheDir: string;
  baseUrl: string;
  apiKey: string;
  /** where the key came from ('env', 'netrc:<path>'), shown by `wandbfs status`; never the key */
  apiKeySource?: string;
  entity?: string;
  project?: string;
  maxCacheBytes?: number;
  minFreeBytes?: number;
  /** reuse blobs from the W&B SDK's cache ($WANDB_CACHE_DIR); false switches it off */
  sdkCache?: boolean;
  /** mount without contacting W&B (serve the cache); reconnect probes still run in the background */
  offline?: boolean;
  mkdir: boolean;
  ttl: Partial<Ttls>;
  mount: Partial<MountOptions>;
  timeouts: Partial<MountTimeouts>;
  /**
   * A download that makes no progress this long fails its waiting reads (blob cache watchdog); the
   * storage client gives up on a silent connection after half of it, so one retry fits before that.
   */
  stallTimeoutMs?: number;
  /** Where this process logs (daemon mode), recorded for `wandbfs status`. */
  logFile: string | null;
  /**
   * Layer options the CLI does not expose (retry budgets, stall timeouts, chunk sizes). Applied after
   * the CLI-derived settings; tests use it to keep fault scenarios short.
   */
  tuning?: {
    api?: Partial<Omit<WandbApiOptions, 'baseUrl' | 'apiKey' | 'logger'>>;
    blobs?: Partial<Omit<BlobCacheOptions, 'dir' | 'db' | 'log'>>;
  };
}

export interface RunningApp {
  mounted: MountedFs;
  core: FsCore;
  /** Unmounts (draining open files) and closes every layer. */
  stop(): Promise<void>;
  /** Closes the control socket, the mount record and every layer; for after an unmount. */
  closeAfterUnmount(): Promise<void>;
  /** online/offline and since when (also in status.json) */
  connectivity(): ConnectivitySnapshot;
}

/**
 * The composition root: the only place that builds and wires api, meta, blobs and fs. Dependencies
 * point one way (fs never sees api: the blob source factory is injected here).
 */
export async function startApp(
  c: AppConfig,
  log: Logger,
  hooks: { onStopped?: () => Promise<void> } = {},
): Promise<RunningApp> {
  const mountPoint = resolve(c.mountPoint);
  const version = wandbfsVersion();
  const db = openDb({ dir: c.cacheDir });
  const stall = c.stallTimeoutMs;
  const api = createWandbApi({
    ...(stall === undefined ? {} : { stallTimeoutMs: Math.max(1000, Math.floor(stall / 2)) }),
    ...c.tuning?.api,
    baseUrl: c.baseUrl,
    apiKey: c.apiKey,
    logger: log.child('api'),
  });
  const meta = createMetaTree({
    db,
    api,
    log: log.child('meta'),
    ttl: c.ttl,
    baseUrl: c.baseUrl,
    ...(c.entity === undefined ? {} : { rootEntity: c.entity }),
    ...(c.project === undefined ? {} : { rootProject: c.project }),
  });
  const blobs = createBlobCache({
    dir: c.cacheDir,
    db,
    log,
    ...(c.maxCacheBytes === undefined ? {} : { maxCacheBytes: c.maxCacheBytes }),
    ...(c.minFreeBytes === undefined ? {} : { minFreeBytes: c.minFreeBytes }),
    ...(c.sdkCache === false ? { sdkCacheDir: null } : {}),
    ...(stall === undefined ? {} : { stallTimeoutMs: stall }),
    ...c.tuning?.blobs,
  });
  const core = new FsCore({
    meta,
    blobs,
    sourceFor: (content, path) => api.rangeSource(content.locator, path.replace(/^\//, '')),
    owner: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
    log: log.child('fs'),
    version,
    mountPoint,
    statusExtra: () => ({ api: api.stats(), connectivity: api.connectivity.snapshot() }),
  });

  let closed = false;
  const closeLayers = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const [name, fn] of [
      ['meta', () => meta.close()],
      ['blobs', () => blobs.close()],
      ['api', async () => api.close()],
      ['db', async () => db.close()],
    ] as const) {
      try {
        await fn();
      } catch (err) {
        log.warn(`closing ${name} failed`, { error: errorMessage(err) });
      }
    }
  };

  let mounted: MountedFs;
  try {
    await checkServer({
      api,
      db,
      cacheDir: c.cacheDir,
      baseUrl: c.baseUrl,
      offline: c.offline === true,
      log,
    });
    mounted = await mountFs({
      mountPoint,
      core,
      log: log.child('mount'),
      mkdir: c.mkdir,
      options: c.mount,
      timeouts: c.timeouts,
    });
  } catch (err) {
    await closeLayers();
    throw err;
  }

  const files = mountFiles(c.cacheDir, mountPoint);
  const control = await startControlServer(
    files.socket,
    { refresh: (p) => meta.refresh(p) },
    log.child('control'),
  ).catch((err: unknown) => {
    log.warn('control socket unavailable; `wandbfs refresh` will not reach this mount', {
      error: errorMessage(err),
    });
    return null;
  });
  await writeRecord({
    pid: process.pid,
    mountPoint,
    cacheDir: c.cacheDir,
    pidFile: files.pidFile,
    logFile: c.logFile,
    socket: files.socket,
    startedAt: new Date().toISOString(),
    version,
    baseUrl: c.baseUrl,
    apiKeySource: c.apiKeySource ?? 'unknown',
  }).catch((err: unknown) => log.warn('cannot write the mount record', { error: errorMessage(err) }));

  const afterUnmount = async (): Promise<void> => {
    control?.close();
    await removeRecord(mountPoint, process.pid).catch(() => undefined);
    await closeLayers();
    await hooks.onStopped?.();
  };

  return {
    mounted,
    core,
    stop: async () => {
      await mounted.unmount();
      await afterUnmount();
    },
    closeAfterUnmount: afterUnmount,
    connectivity: () => api.connectivity.snapshot(),
  };
}

/** Foreground/daemon entry: mounts, then lets signals and external unmounts end the process. */
export async function runApp(
  c: AppConfig,
  log: Logger,
  hooks: { onStopped?: () => Promise<void> } = {},
): Promise<RunningApp> {
  const app = await startApp(c, log, hooks);
  runMounted(app.mounted, { log, closeLayers: app.closeAfterUnmount });
  return app;
}
