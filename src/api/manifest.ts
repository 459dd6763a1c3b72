import type { LimitFunction } from 'p-limit';
import { runLimited } from './abort.js';
import { NotFoundError, PermanentError } from './errors.js';
import type { FallbackAuth, FileUrls, UrlStage } from './fallback-url.js';
import { stageAfterRejection } from './fallback-url.js';
import { fileUrlsOf } from './files.js';
import type { FetchContext } from './fetch-context.js';
import { parseManifest } from './manifest-parse.js';
import { dig } from './paginate.js';
import { ARTIFACT_MANIFEST } from './queries/artifacts.js';
import type { RetryDeps, RetryPolicy } from './retry.js';
import { withRetry } from './retry.js';
import { asObj } from './shape.js';
import type { StatsRecorder } from './stats.js';
import { SignedUrlRejected, storageStatusError } from './storage-status.js';
import type { StorageClient } from './storage.js';
import type { Manifest } from './types.js';

export interface ManifestDeps {
  ctx: FetchContext;
  storage: StorageClient;
  limit: LimitFunction;
  retry: RetryPolicy;
  retryDeps: RetryDeps;
  stats: StatsRecorder;
  fallbackAuth: FallbackAuth;
  /** a manifest larger than this is refused rather than held in memory */
  maxManifestBytes: number;
}

async function manifestUrls(ctx: FetchContext, artifactId: string, signal?: AbortSignal): Promise<FileUrls> {
  const data = await ctx.transport.query(ARTIFACT_MANIFEST, { id: artifactId }, signal);
  if (dig(data, 'artifact') === null) throw new NotFoundError(`artifact ${artifactId} not found`);
  const file = dig(data, 'artifact', 'currentManifest', 'file');
  if (file === null) throw new NotFoundError(`artifact ${artifactId} has no manifest`);
  return fileUrlsOf(asObj(file, 'artifact.currentManifest.file'), 'artifact.currentManifest.file');
}

/**
 * artifact(id).currentManifest.file.directUrl → GET (signed, no auth) → validated Manifest. A
 * rejected signed URL (expired: 400 on GCS, 403 on S3) is asked for again once, then the manifest
 * comes from its authenticated File.url.
 */
export async function fetchManifest(
  d: ManifestDeps,
  artifactId: string,
  signal?: AbortSignal,
): Promise<Manifest> {
  const label = `manifest of artifact ${artifactId}`;
  let stage: UrlStage = 'signed';
  let urls = await manifestUrls(d.ctx, artifactId, signal);
  for (;;) {
    const auth = urls.fallback === null ? null : d.fallbackAuth(urls.fallback);
    const url = stage === 'fallback' && urls.fallback !== null ? urls.fallback : urls.direct;
    const headers = stage === 'fallback' ? (auth ?? {}) : {};
    try {
      const text = await withRetry(
        () => runLimited(d.limit, () => getText(d, url, headers, label, signal), signal),
        {
          policy: d.retry,
          deps: d.retryDeps,
          ...(signal ? { signal } : {}),
          onRetry: () => d.stats.retry(),
        },
      );
      return parseManifest(text, `artifact ${artifactId}`, d.ctx.logger);
    } catch (err) {
      if (!(err instanceof SignedUrlRejected)) throw err;
      stage = stageAfterRejection(stage, err.status, auth !== null, label);
      if (stage === 'fresh') urls = await manifestUrls(d.ctx, artifactId, signal);
    }
  }
}

async function getText(
  d: ManifestDeps,
  url: string,
  headers: Record<string, string>,
  label: string,
  signal?: AbortSignal,
): Promise<string> {
  const res = await d.storage.get(url, headers, signal, label);
  if (res.statusCode !== 200) {
    d.storage.discard(res);
    throw storageStatusError(res, label, d.retryDeps.clock.nowMs());
  }
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of d.storage.body(res, signal, label)) {
    total += chunk.length;
    if (total > d.maxManifestBytes)
      throw new PermanentError(`${label} is larger than ${d.maxManifestBytes} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts, total).toString('utf8');
}
