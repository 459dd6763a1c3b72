import pLimit from 'p-limit';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { registerSecret, silentLogger } from '../core/log.js';
import * as artifacts from './artifacts.js';
import type { ApiStats, WandbApi } from './client-interface.js';
import { Connectivity } from './connectivity.js';
import { ApiRangeSource } from './download.js';
import * as entities from './entities.js';
import { fallbackAuthFor } from './fallback-url.js';
import type { FetchContext } from './fetch-context.js';
import { FileUrlBook } from './file-urls.js';
import * as files from './files.js';
import { VIEWER } from './queries/viewer.js';
import { fetchManifest } from './manifest.js';
import type { RetryDeps, RetryPolicy } from './retry.js';
import { DEFAULT_RETRY_POLICY, sleepAbortable } from './retry.js';
import * as runs from './runs.js';
import { SignedUrlCache } from './signed-urls.js';
import { StatsRecorder } from './stats.js';
import { StorageClient } from './storage.js';
import * as sweeps from './sweeps.js';
import { ThrottleGate } from './throttle.js';
import type { FetchFn } from './transport.js';
import { GraphqlTransport } from './transport.js';
import type { FileLocator, Manifest, RangeSource } from './types.js';
import { userAgent } from './user-agent.js';

export interface WandbApiOptions {
  /** e.g. https://api.wandb.ai, without trailing '/' (config/credentials.ts resolves it) */
  baseUrl: string;
  apiKey: string;
  logger?: Logger;
  clock?: Clock;
  /** `first` of every listing request (default 100, like W&B's own NFS prototype) */
  pageSize?: number;
  /**
   * runs per page of a runs listing, which also carries each run's first files and artifacts
   * (default min(pageSize, 100))
   */
  runsPageSize?: number;
  /**
   * files asked inline per run on a runs page (default min(pageSize, 29)); shrunk if needed so a
   * page never asks more than RESPONSE_NODE_BUDGET edges
   */
  inlineRunFiles?: number;
  /** input and output artifacts asked inline per run on a runs page (default min(pageSize, 10)) */
  inlineRunArtifacts?: number;
  /** GraphQL requests in flight at once, across the whole process (default 8) */
  graphqlConcurrency?: number;
  /** storage GETs in flight at once (default 16) */
  downloadConcurrency?: number;
  /** one GraphQL attempt, request to end of body (default 30 s) */
  requestTimeoutMs?: number;
  /** storage: request to response headers (default 30 s) */
  storageHeadersTimeoutMs?: number;
  /** storage: longest wait for the next body bytes before the attempt counts as failed (default 30 s) */
  stallTimeoutMs?: number;
  /** GraphQL retry policy (defaults: 10 attempts, 250 ms doubling to 20 s, 120 s deadline) */
  retry?: Partial<RetryPolicy>;
  /** storage retry policy, same defaults; attempts and deadline restart whenever bytes arrived */
  downloadRetry?: Partial<RetryPolicy>;
  /** how long a signed URL is reused before asking W&B again (default 5 min; 400/401/403 refresh anyway) */
  signedUrlTtlMs?: number;
  /** bytes coalesced before each sink call (default 0: each socket read is handed over as it comes) */
  sinkBatchBytes?: number;
  /** when storage ignores Range, read and skip up to this many bytes (default 16 MiB), else fail */
  maxSkipBytes?: number;
  /** largest manifest held in memory (default 512 MiB) */
  maxManifestBytes?: number;
  /** fetch used for GraphQL (tests); storage uses node:http */
  fetch?: FetchFn;
  /** injected sleep/clock/random for the retry policy (tests) */
  retryDeps?: Partial<RetryDeps>;
  userAgent?: string;
  /** reconnect probes while offline: first after this, doubling (default 1 s) */
  minProbeIntervalMs?: number;
  /** ... up to this (default 15 s) */
  maxProbeIntervalMs?: number;
}

export const API_DEFAULTS = {
  pageSize: 100,
  runsPageSize: runs.RUNS_LISTING_DEFAULTS.runs,
  inlineRunFiles: runs.RUNS_LISTING_DEFAULTS.files,
  inlineRunArtifacts: runs.RUNS_LISTING_DEFAULTS.artifacts,
  graphqlConcurrency: 8,
  downloadConcurrency: 16,
  requestTimeoutMs: 30_000,
  storageHeadersTimeoutMs: 30_000,
  stallTimeoutMs: 30_000,
  signedUrlTtlMs: 5 * 60_000,
  // Every sink copies what it gets (into the fill's pooled batch buffer, or a reader's buffer), so
  // coalescing here only added a fresh 1 MiB Buffer and a copy per MiB: garbage for the external-memory GC.
  sinkBatchBytes: 0,
  maxSkipBytes: 16 * 1024 * 1024,
  maxManifestBytes: 512 * 1024 * 1024,
} as const;

/** WandbApi plus lifecycle; what src/app.ts holds. */
export interface WandbApiClient extends WandbApi {
  /** Whether W&B answers; offline requests fail at once (OfflineError) and a probe reconnects. */
  readonly connectivity: Connectivity;
  /** Closes idle storage sockets. In-flight calls are the callers' to abort. */
  close(): void;
}

export function createWandbApi(options: WandbApiOptions): WandbApiClient {
  registerSecret(options.apiKey);
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const retryDeps: RetryDeps = {
    clock: options.retryDeps?.clock ?? clock,
    sleep: options.retryDeps?.sleep ?? sleepAbortable,
    random: options.retryDeps?.random ?? Math.random,
  };
  const pick = <K extends keyof typeof API_DEFAULTS>(k: K): number =>
    positive(options[k], API_DEFAULTS[k], k);
  const stats = new StatsRecorder(clock);
  const gate = new ThrottleGate(retryDeps.clock, retryDeps.sleep);
  const ua = options.userAgent ?? userAgent();
  const graphqlLimit = pLimit(pick('graphqlConcurrency'));
  const downloadLimit = pLimit(pick('downloadConcurrency'));

  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  // transport is assigned below; the first probe runs only after going offline
  const connectivity = newConnectivity(options, baseUrl, logger, clock, (signal) =>
    transport.probe(VIEWER, signal),
  );
  const transport: GraphqlTransport = new GraphqlTransport({
    baseUrl,
    connectivity,
    apiKey: options.apiKey,
    userAgent: ua,
    limit: graphqlLimit,
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    retryDeps,
    requestTimeoutMs: pick('requestTimeoutMs'),
    gate,
    stats,
    logger: logger.child('graphql'),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const ctx: FetchContext = { transport, pageSize: pick('pageSize'), logger };
  const runsSizes = runsPageSizes(options, ctx.pageSize, pick);
  const storage = new StorageClient({
    userAgent: ua,
    headersTimeoutMs: pick('storageHeadersTimeoutMs'),
    stallTimeoutMs: pick('stallTimeoutMs'),
    maxSockets: pick('downloadConcurrency'),
    stats,
    connectivity,
  });
  const downloadRetry = { ...DEFAULT_RETRY_POLICY, ...options.downloadRetry };
  const urls = new FileUrlBook(ctx, new SignedUrlCache(clock, pick('signedUrlTtlMs')));
  const fallbackAuth = fallbackAuthFor(options.baseUrl, options.apiKey);
  const fetchDeps = {
    ctx,
    fallbackAuth,
    storage,
    limit: downloadLimit,
    retry: downloadRetry,
    retryDeps,
    stats,
  };
  const downloaderDeps = {
    ...fetchDeps,
    urls,
    logger: logger.child('download'),
    sinkBatchBytes: pick('sinkBatchBytes'),
    maxSkipBytes: pick('maxSkipBytes'),
  };
  const manifestDeps = { ...fetchDeps, maxManifestBytes: pick('maxManifestBytes') };
  return {
    ...queryMethods(ctx, runsSizes, urls),
    manifest: (artifactId: string, signal?: AbortSignal): Promise<Manifest> =>
      fetchManifest(manifestDeps, artifactId, signal),
    rangeSource: (locator: FileLocator, label: string, expectedSize?: number): RangeSource =>
      new ApiRangeSource(downloaderDeps, locator, label, expectedSize ?? null),
    stats: (): ApiStats => stats.snapshot(),
    connectivity,
    close: () => {
      connectivity.close();
      storage.close();
    },
  };
}

function newConnectivity(
  options: WandbApiOptions,
  baseUrl: string,
  logger: Logger,
  clock: Clock,
  probe: (signal: AbortSignal) => Promise<void>,
): Connectivity {
  return new Connectivity({
    baseUrl,
    probe,
    logger: logger.child('connectivity'),
    clock,
    ...(options.minProbeIntervalMs === undefined ? {} : { minProbeIntervalMs: options.minProbeIntervalMs }),
    ...(options.maxProbeIntervalMs === undefined ? {} : { maxProbeIntervalMs: options.maxProbeIntervalMs }),
  });
}

/** Runs page and inline sizes: explicit values win; defaults never exceed the general page size. */
function runsPageSizes(
  options: WandbApiOptions,
  pageSize: number,
  pick: (k: 'runsPageSize' | 'inlineRunFiles' | 'inlineRunArtifacts') => number,
): runs.RunsListingSizes {
  const upToPage = (k: 'runsPageSize' | 'inlineRunFiles' | 'inlineRunArtifacts'): number =>
    options[k] === undefined ? Math.min(pageSize, API_DEFAULTS[k]) : pick(k);
  return runs.fitRunsPage(
    {
      runs: upToPage('runsPageSize'),
      files: upToPage('inlineRunFiles'),
      artifacts: upToPage('inlineRunArtifacts'),
    },
    runs.RESPONSE_NODE_BUDGET,
  );
}

/** The GraphQL listings and lookups of WandbApi: each is one call into its module with `ctx`. */
function queryMethods(
  ctx: FetchContext,
  runsSizes: runs.RunsListingSizes,
  urls: FileUrlBook,
): Omit<WandbApi, 'manifest' | 'rangeSource' | 'stats'> {
  return {
    viewer: (signal) => entities.fetchViewer(ctx, signal),
    entity: (name, signal) => entities.fetchEntity(ctx, name, signal),
    project: (entity, project, signal) => entities.fetchProject(ctx, entity, project, signal),
    listProjects: (entity, signal) => entities.listProjects(ctx, entity, signal),
    run: (entity, project, runName, signal) => runs.fetchRun(ctx, entity, project, runName, signal),
    listRuns: (entity, project, signal) => runs.listRuns(ctx, entity, project, runsSizes, signal),
    listRunFiles: (entity, project, runName, signal) =>
      files.listRunFiles(ctx, entity, project, runName, signal, (l, u) => urls.remember(l, u)),
    listRunArtifacts: (entity, project, runName, direction, signal) =>
      artifacts.listRunArtifacts(ctx, entity, project, runName, direction, signal),
    listArtifactTypes: (entity, project, signal) => artifacts.listArtifactTypes(ctx, entity, project, signal),
    listCollections: (entity, project, typeName, signal) =>
      artifacts.listCollections(ctx, entity, project, typeName, signal),
    listVersions: (entity, project, typeName, collection, signal) =>
      artifacts.listVersions(ctx, entity, project, typeName, collection, signal),
    listSweeps: (entity, project, signal) => sweeps.listSweeps(ctx, entity, project, signal),
    listSweepRunNames: (entity, project, sweepName, signal) =>
      sweeps.listSweepRunNames(ctx, entity, project, sweepName, signal),
    admitDownload: (locator, label, signal) => urls.admit(locator, label, signal),
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new ConfigError(`${name} must be a positive number, got ${value}`);
  return value;
}
