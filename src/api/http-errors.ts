import type { WandbfsError } from '../core/errors.js';
import { redact } from '../core/log.js';
import {
  AuthError,
  ForbiddenError,
  NotFoundError,
  PermanentError,
  RateLimitedError,
  TransientError,
} from './errors.js';

/**
 * The typed error for a non-2xx answer. `what` names the request for humans (an operation name or a
 * file label), never a URL: signed URLs and keys must not reach error messages.
 */
export function errorForStatus(
  status: number,
  what: string,
  options: { retryAfterMs?: number; detail?: string } = {},
): WandbfsError {
  const detail = options.detail ? `: ${truncate(redact(options.detail), 300)}` : '';
  const retryAfter = options.retryAfterMs === undefined ? {} : { retryAfterMs: options.retryAfterMs };
  if (status === 401) return new AuthError(`W&B rejected the API key (HTTP 401) for ${what}`);
  if (status === 403) return new ForbiddenError(`W&B denied access (HTTP 403) for ${what}${detail}`);
  if (status === 404) return new NotFoundError(`not found (HTTP 404): ${what}`);
  if (status === 429) {
    return new RateLimitedError(`rate limited by W&B (HTTP 429) for ${what}`, options.retryAfterMs);
  }
  // 408 and 5xx are worth another try; 501 (not implemented) will not change with time.
  if (status === 408 || (status >= 500 && status !== 501)) {
    return new TransientError(`HTTP ${status} for ${what}${detail}`, retryAfter);
  }
  return new PermanentError(`HTTP ${status} for ${what}${detail}`);
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
