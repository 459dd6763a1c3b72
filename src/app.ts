import { resolve } from 'node:path';
import { createWandbApi, type WandbApiOptions } from './api/client.js';
import type { ConnectivitySnapshot } from './api/connectivity.js';
import { pruneCache, type PruneOptions, type PruneReport } from './blobs/prune.js';
import { cacheStats, type CacheStats } from './blobs/stats.js';
import { BlobKeep } from './blobs/blob-keep.js';
import { createBlobCache, type BlobCacheOptions } from './blobs/store.js';
import type { RangeSource } from './blobs/types.js';
import { verifyCache, type VerifyProgress, type VerifyReport } from './blobs/verify.js';
import { openDb, type Db } from './core/db.js';
import { errorMessage } from './core/errors.js';
import type { Logger } from './core/log.js';
import { startControlServer } from './admin/control.js';
import { FsCore, type BlobContent, type ReferenceContent } from './fs/core.js';
import { refEndpointsFromEnv } from './api/ref-url.js';
import { createReferenceSources, type ReferenceSources } from './api/ref-sources.js';
import { warmHandlers } from './fs/warm.js';
import { cacheLimits } from './fs/warm-plan.js';
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

/** Every layer of one mount, built and wired but not yet mounted. */
interface Layers {
  db: Db;
  api: ReturnType<typeof createWandbApi>;
  /** reference entries' own stores (https, S3, GCS), not W&B */
  refs: ReferenceSources;
  meta: ReturnType<typeof createMetaTree>;
  blobs: ReturnType<typeof createBlobCache>;
  core: FsCore;
  /** the byte source of a blob, as FsCore and `wandbfs warm` use it */
  sourceFor: (content: BlobContent, path: string, sizeBytes?: number) => RangeSource;
  /** a fetchable reference entry's source (its own store, ETag-checked), for FsCore and warm alike */
  referenceSourceFor: (content: ReferenceContent, sizeBytes: number) => RangeSource;
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
  const layers = buildLayers(c, log, mountPoint, version);
  const closeLayers = layerCloser(layers, log);

  let mounted: MountedFs;
  try {
    await checkServer({
      api: layers.api,
      db: layers.db,
      cacheDir: c.cacheDir,
      baseUrl: c.baseUrl,
      offline: c.offline === true,
      log,
    });
    mounted = await mountFs({
      mountPoint,
      core: layers.core,
      log: log.child('mount'),
      mkdir: c.mkdir,
      options: c.mount,
      timeouts: c.timeouts,
    });
  } catch (err) {
    await closeLayers();
    throw err;
  }

  const unpublish = await publishMount(c, mountPoint, version, layers, log);
  const afterUnmount = async (): Promise<void> => {
    await unpublish();
    await closeLayers();
    await hooks.onStopped?.();
  };

  return {
    mounted,
    core: layers.core,
    stop: async () => {
      await mounted.unmount();
      await afterUnmount();
    },
    closeAfterUnmount: afterUnmount,
    connectivity: () => layers.api.connectivity.snapshot(),
  };
}

function buildLayers(c: AppConfig, log: Logger, mountPoint: string, version: string): Layers {
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
  const sourceFor = (content: BlobContent, path: string, sizeBytes?: number) =>
    api.rangeSource(content.locator, path.replace(/^\//, ''), sizeBytes);
  const refs = createReferenceSources({
    endpoints: refEndpointsFromEnv(process.env),
    logger: log.child('reference'),
    ...(stall === undefined ? {} : { stallTimeoutMs: Math.max(1000, Math.floor(stall / 2)) }),
  });
  const referenceSourceFor = (content: ReferenceContent, sizeBytes: number) =>
    refs.source({ uri: content.ref, etag: content.fetch?.etag ?? '', sizeBytes });
  const core = new FsCore({
    meta,
    blobs,
    // The API's RangeSource and the blob cache's are separate, structurally identical types.
    sourceFor,
    admit: (content: BlobContent, path: string) =>
      api.admitDownload(content.locator, path.replace(/^\//, '')),
    referenceSourceFor,
    owner: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
    log: log.child('fs'),
    version,
    mountPoint,
    statusExtra: () => ({ api: api.stats(), connectivity: api.connectivity.snapshot() }),
  });
  return { db, api, refs, meta, blobs, core, sourceFor, referenceSourceFor };
}

/** Closes every layer once, top down; a failing close is logged and does not stop the others. */
function layerCloser(l: Layers, log: Logger): () => Promise<void> {
  let closed = false;
  return async () => {
    if (closed) return;
    closed = true;
    for (const [name, fn] of [
      ['meta', () => l.meta.close()],
      ['blobs', () => l.blobs.close()],
      ['api', async () => l.api.close()],
      ['refs', async () => l.refs.close()],
      ['db', async () => l.db.close()],
    ] as const) {
      try {
        await fn();
      } catch (err) {
        log.warn(`closing ${name} failed`, { error: errorMessage(err) });
      }
    }
  };
}

/**
 * Makes a mounted tree findable by the CLI: the control socket (`wandbfs refresh`) and the mount
 * record (`wandbfs status`/`unmount`). Neither is required to serve files, so failures only warn.
 * Returns the undo, for after the unmount.
 */
async function publishMount(
  c: AppConfig,
  mountPoint: string,
  version: string,
  { meta, blobs, db, sourceFor, referenceSourceFor }: Layers,
  log: Logger,
): Promise<() => Promise<void>> {
  const files = mountFiles(c.cacheDir, mountPoint);
  const control = await startControlServer(
    files.socket,
    {
      refresh: (p) => meta.refresh(p),
      ...warmHandlers({
        meta,
        blobs,
        db,
        cacheDir: c.cacheDir,
        sourceFor,
        referenceSourceFor,
        limits: cacheLimits(c),
        log,
      }),
    },
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
  return async () => {
    control?.close();
    await removeRecord(mountPoint, process.pid).catch(() => undefined);
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

// What src/cli needs from the lower layers goes through here (cli may import only app, admin,
// config and core; see docs/architecture.md, "Layers and rules").
export type { Ttls } from './meta/freshness.js';
export type { PruneReport } from './blobs/prune.js';
export type { VerifyProgress } from './blobs/verify.js';
/** Mount point checks (stale mount, missing or non-empty dir), run by the CLI before it daemonizes. */
export { prepareMountPoint } from './fs/mount.js';

/** Opens the cache database of `dir` for one maintenance command; safe next to a running mount. */
async function withCacheDb<T>(dir: string, body: (db: Db) => Promise<T>): Promise<T> {
  const db = openDb({ dir });
  try {
    return await body(db);
  } finally {
    db.close();
  }
}

/** `wandbfs cache prune|clear`: LRU removal; blobs open in a running mount are kept. */
export function pruneCacheDir(dir: string, o: Omit<PruneOptions, 'dir' | 'db'>): Promise<PruneReport> {
  return withCacheDb(dir, (db) => pruneCache({ ...o, dir, db }));
}

/** `wandbfs cache stats`: sizes, partial downloads, counters and the `top` largest blobs. */
export function cacheDirStats(dir: string, top: number): Promise<CacheStats> {
  return withCacheDb(dir, (db) => cacheStats({ dir, db, top }));
}

/** `wandbfs cache verify`: re-hashes every blob; `repair` removes bad ones. */
export function verifyCacheDir(
  dir: string,
  o: { repair: boolean; onProgress?: (p: VerifyProgress) => void },
): Promise<VerifyReport> {
  return withCacheDb(dir, (db) => verifyCache({ ...o, dir, db }));
}

/** `wandbfs cache unpin --all`: drops every user pin of the cache dir; returns how many. */
export function unpinAllInCacheDir(dir: string): Promise<number> {
  return withCacheDb(dir, async (db) => new BlobKeep(db).unpinAll());
}
