import { WandbfsError } from '../core/errors.js';

/** 401 from GraphQL, or a key W&B rejects. Never retried. */
export class AuthError extends WandbfsError {
  constructor(message = 'W&B rejected the API key (HTTP 401)') {
    super('ERR_AUTH', message, { hint: 'check WANDB_API_KEY or run `wandb login` again' });
  }
}

/** 403 from GraphQL: the key is valid but may not read this object. */
export class ForbiddenError extends WandbfsError {
  constructor(message: string) {
    super('ERR_FORBIDDEN', message, {
      hint: 'the API key is valid but has no access here: check the entity/project name and your team membership',
    });
  }
}

/** The object does not exist (W&B answers null), or storage answered 404. */
export class NotFoundError extends WandbfsError {
  constructor(message: string) {
    super('ERR_NOT_FOUND', message);
  }
}

/**
 * W&B refused the file URLs of a version browsed through a W&B Registry collection: the viewer's
 * registry role may read metadata but not download. Asked per collection membership, so the
 * source project's own rights are never used to get around it.
 */
export class RegistryDownloadDeniedError extends WandbfsError {
  constructor(what: string, options: { cause?: unknown } = {}) {
    super('ERR_REGISTRY_NO_DOWNLOAD', `the registry role does not allow downloads: ${what}`, {
      ...options,
      hint: 'ask a registry admin for a role that may download (e.g. Member), or read the source artifact',
    });
  }
}

/** 429 that outlived the retry budget. */
export class RateLimitedError extends WandbfsError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs?: number) {
    super('ERR_RATE_LIMITED', message, {
      hint: 'W&B is rate-limiting this key; wait a minute and retry, or read fewer files at once',
    });
    this.retryAfterMs = retryAfterMs;
  }
}

/** 5xx, connection reset, timeout, stalled body: worth retrying; raised once retries are exhausted. */
export class TransientError extends WandbfsError {
  /** a Retry-After the server sent with the failure (e.g. 503), honoured by the retry policy */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super('ERR_TRANSIENT', message, options.cause === undefined ? {} : { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A request that will never succeed as sent: 400, GraphQL validation errors, malformed responses. */
export class PermanentError extends WandbfsError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_PERMANENT', message, options);
  }
}

/** A signed storage URL answered 401/403 even after one refresh. */
export class UrlExpiredError extends WandbfsError {
  constructor(message: string) {
    super('ERR_URL_EXPIRED', message);
  }
}

// Core, like ContentChangedError: the blob cache (which may not import api) drops a fill's partial on it.
export { RefUnreadableError } from '../core/errors.js';
