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

/** W&B's words for "this key may not read this" inside a 200 answer's `errors` (e.g. a registry role). */
const PERMISSION_TEXT = /\bpermission denied\b|\bnot authorized\b/i;

/**
 * The typed error for GraphQL `errors` in an answer: a refusal of access is ForbiddenError (never
 * retried, EACCES), anything else a PermanentError (the request will not succeed as sent).
 */
export function errorForGraphqlErrors(
  op: string,
  errors: readonly { message: string; extensions?: Record<string, unknown> }[],
): WandbfsError {
  const messages = truncate(redact(errors.map((e) => e.message).join('; ')), 500);
  const denied = errors.some(
    (e) => PERMISSION_TEXT.test(e.message) || e.extensions?.code === 'PERMISSION_ERROR',
  );
  if (denied) return new ForbiddenError(`W&B denied access in ${op}: ${messages}`);
  return new PermanentError(`W&B GraphQL error in ${op}: ${messages}`);
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
