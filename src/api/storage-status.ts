import type { IncomingMessage } from 'node:http';
import type { WandbfsError } from '../core/errors.js';
import { errorForStatus } from './http-errors.js';
import { nodeHeaders, retryDelayOf } from './rate-limit.js';

/**
 * Storage answered 400/401/403: the signed URL may have expired (GCS answers 400 ExpiredToken, S3
 * 403) or been revoked; ask W&B for a fresh one, then try the authenticated fallback.
 */
export class SignedUrlRejected extends Error {
  constructor(readonly status: number) {
    super(`signed URL rejected (HTTP ${status})`);
  }
}

/** The typed error for a storage answer other than 200/206 (400/401/403 become SignedUrlRejected). */
export function storageStatusError(
  res: IncomingMessage,
  label: string,
  nowMs: number,
): WandbfsError | SignedUrlRejected {
  const status = res.statusCode ?? 0;
  if (status === 400 || status === 401 || status === 403) return new SignedUrlRejected(status);
  const retryAfterMs = retryDelayOf(nodeHeaders(res.headers), status, nowMs);
  return errorForStatus(status, `storage ${label}`, retryAfterMs === undefined ? {} : { retryAfterMs });
}
