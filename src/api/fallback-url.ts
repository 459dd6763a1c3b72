import { UrlExpiredError } from './errors.js';

/** The two ways to one file's bytes: the signed URL, and W&B's authenticated URL (File.url). */
export interface FileUrls {
  /** signed storage URL (GCS/S3); the signature is the credential and it expires */
  direct: string;
  /** `File.url`: on W&B's own host, needs the API key, never expires; null when W&B gave none */
  fallback: string | null;
}

/** Headers for a fallback URL, or null when it may not carry the key (not W&B's own host). */
export type FallbackAuth = (url: string) => Record<string, string> | null;

/**
 * The API key goes only to the W&B server it belongs to: a fallback URL on any other origin (a
 * third-party store, a reference) is not used, so the key never leaves for a host that should not
 * see it.
 */
export function fallbackAuthFor(baseUrl: string, apiKey: string): FallbackAuth {
  const origin = new URL(baseUrl).origin;
  const header = `Basic ${Buffer.from(`api:${apiKey}`).toString('base64')}`;
  return (url) => {
    try {
      return new URL(url).origin === origin ? { authorization: header } : null;
    } catch {
      return null;
    }
  };
}

/**
 * Where a download stands after a signed URL was rejected (400/401/403, which GCS and S3 answer for
 * an expired signature): the cached URL → one fresh URL from W&B → the authenticated fallback → an
 * error that says which of them failed.
 */
export type UrlStage = 'signed' | 'fresh' | 'fallback';

export function stageAfterRejection(
  stage: UrlStage,
  status: number,
  fallbackUsable: boolean,
  label: string,
): UrlStage {
  if (stage === 'signed') return 'fresh';
  if (stage === 'fresh') {
    if (fallbackUsable) return 'fallback';
    throw new UrlExpiredError(
      `storage rejected the signed URL and a fresh one (HTTP ${status}) for ${label}; W&B gave no authenticated fallback URL`,
    );
  }
  throw new UrlExpiredError(
    `storage rejected the signed URL and a fresh one, and the authenticated fallback URL answered HTTP ${status}, for ${label}`,
  );
}
