import pLimit from 'p-limit';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { registerSecret, silentLogger } from '../core/log.js';
import type { RangeSource } from '../blobs/types.js';
import * as artifacts from './artifacts.js';
import type { ApiStats, WandbApi } from './client-interface.js';
import { ApiRangeSource } from './download.js';
import * as entities from './entities.js';
import { fallbackAuthFor } from './fallback-url.js';
import type { FetchContext } from './fetch-context.js';
import { FileUrlBook } from './file-urls.js';
import * as files from './files.js';
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
import type { FileLocator, Manifest } from './types.js';
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
   * (default min(pageSize, 50), the SDK's choice with 100 files inline)
   */
  runsPageSize?: number;
  /** files asked inline per run on a runs page (default min(pageSize, 100)) */
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
  /** bytes coalesced before each sink call (default 1 MiB) */
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
}

export const API_DEFAULTS = {
  pageSize: 100,
  runsPageSize: 50,
  inlineRunFiles: 100,
  inlineRunArtifacts: 10,
  graphqlConcurrency: 8,
  downloadConcurrency: 16,
  requestTimeoutMs: 30_000,
  storageHeadersTimeoutMs: 30_000,
  stallTimeoutMs: 30_000,
  signedUrlTtlMs: 5 * 60_000,
  sinkBatchBytes: 1024 * 1024,
  maxSkipBytes: 16 * 1024 * 1024,
  maxManifestBytes: 512 * 1024 * 1024,
} as const;

/** WandbApi plus lifecycle; what src/app.ts holds. */
export interface WandbApiClient extends WandbApi {
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

  const transport = new GraphqlTransport({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
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
  // explicit values win; defaults never exceed the general page size
  const upToPage = (k: 'runsPageSize' | 'inlineRunFiles' | 'inlineRunArtifacts'): number =>
    options[k] === undefined ? Math.min(ctx.pageSize, API_DEFAULTS[k]) : pick(k);
  const runsSizes: runs.RunsListingSizes = {
    runs: upToPage('runsPageSize'),
    files: upToPage('inlineRunFiles'),
    artifacts: upToPage('inlineRunArtifacts'),
  };
  const storage = new StorageClient({
    userAgent: ua,
    headersTimeoutMs: pick('storageHeadersTimeoutMs'),
    stallTimeoutMs: pick('stallTimeoutMs'),
    maxSockets: pick('downloadConcurrency'),
    stats,
  });
  const downloadRetry = { ...DEFAULT_RETRY_POLICY, ...options.downloadRetry };
  const urls = new FileUrlBook(ctx, new SignedUrlCache(clock, pick('signedUrlTtlMs')));
  const fallbackAuth = fallbackAuthFor(options.baseUrl, options.apiKey);
  const downloaderDeps = {
    fallbackAuth,
    ctx,
    storage,
    limit: downloadLimit,
    urls,
    retry: downloadRetry,
    retryDeps,
    stats,
    logger: logger.child('download'),
    sinkBatchBytes: pick('sinkBatchBytes'),
    maxSkipBytes: pick('maxSkipBytes'),
  };
  const manifestDeps = {
    ctx,
    fallbackAuth,
    storage,
    limit: downloadLimit,
    retry: downloadRetry,
    retryDeps,
    stats,
    maxManifestBytes: pick('maxManifestBytes'),
  };

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
    manifest: (artifactId: string, signal?: AbortSignal): Promise<Manifest> =>
      fetchManifest(manifestDeps, artifactId, signal),
    listSweeps: (entity, project, signal) => sweeps.listSweeps(ctx, entity, project, signal),
    listSweepRunNames: (entity, project, sweepName, signal) =>
      sweeps.listSweepRunNames(ctx, entity, project, sweepName, signal),
    rangeSource: (locator: FileLocator, label: string): RangeSource =>
      new ApiRangeSource(downloaderDeps, locator, label),
    stats: (): ApiStats => stats.snapshot(),
    close: () => storage.close(),
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new ConfigError(`${name} must be a positive number, got ${value}`);
  return value;
}
