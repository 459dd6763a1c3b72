/**
 * Where a reference entry's object is fetched: its own https:// URL, or the public HTTPS endpoint of
 * an s3:// or gs:// object. The endpoints are the ones AWS and Google tools use, overridable the way
 * they are (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL for S3, STORAGE_EMULATOR_HOST for GCS), so a
 * mirror, MinIO or an emulator can stand in. Only anonymous reads: no cloud credentials are used.
 */

export interface RefEndpoints {
  /** S3 endpoint override, path-style requests (`<endpoint>/<bucket>/<key>`); null = AWS itself */
  s3: string | null;
  /** GCS emulator base URL (JSON API media download); null = https://storage.googleapis.com */
  gcs: string | null;
}

/** The overrides from the environment, as the AWS CLI/SDKs and Google's client libraries read them. */
export function refEndpointsFromEnv(env: NodeJS.ProcessEnv): RefEndpoints {
  const s3 = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || null;
  const gcsHost = env.STORAGE_EMULATOR_HOST || null;
  return {
    s3: s3 === null ? null : trimSlash(s3),
    // Google's libraries accept a bare host:port here and then speak plain http.
    gcs: gcsHost === null ? null : trimSlash(/^https?:\/\//i.test(gcsHost) ? gcsHost : `http://${gcsHost}`),
  };
}

/** S3 and GCS bucket names: lowercase letters, digits, '.', '-', '_' (GCS), 3 to 222 characters. */
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;
/** Buckets reachable as a virtual host: no dots (they break the *.s3.amazonaws.com certificate). */
const VHOST_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/**
 * The http(s) URL of a reference, or null when it is not one wandbfs can fetch: unknown scheme, a
 * bucket name that is not one, or an object key with '.'/'..'/empty segments (a URL parser would
 * resolve those and leave the bucket) or control characters.
 */
export function refHttpUrl(ref: string, ep: RefEndpoints): string | null {
  const m = /^([a-z0-9+.-]+):\/\/(.*)$/is.exec(ref);
  if (!m) return null;
  const scheme = (m[1] ?? '').toLowerCase();
  const rest = m[2] ?? '';
  if (scheme === 'http' || scheme === 'https') return httpUrl(ref);
  if (scheme !== 's3' && scheme !== 'gs') return null;
  const slash = rest.indexOf('/');
  if (slash < 0) return null;
  const bucket = rest.slice(0, slash);
  const key = rest.slice(slash + 1);
  if (!BUCKET.test(bucket) || !safeKey(key)) return null;
  const path = key.split('/').map(encodeURIComponent).join('/');
  if (scheme === 's3') {
    if (ep.s3 !== null) return `${ep.s3}/${bucket}/${path}`;
    return VHOST_BUCKET.test(bucket)
      ? `https://${bucket}.s3.amazonaws.com/${path}`
      : `https://s3.amazonaws.com/${bucket}/${path}`;
  }
  // The JSON API's media download, as Google's client libraries fetch objects (also anonymously,
  // for public ones): its ETag is the object's JSON `etag`, which the SDK records as a gs://
  // reference's digest. The public XML form (storage.googleapis.com/<bucket>/<key>) answers with
  // the MD5 as ETag instead, which would never match.
  const media = `/download/storage/v1/b/${bucket}/o/${encodeURIComponent(key)}?alt=media`;
  return `${ep.gcs ?? 'https://storage.googleapis.com'}${media}`;
}

/** A reference as it may appear in logs and errors: no query string or fragment (signatures, tokens). */
export function displayRef(ref: string): string {
  return ref.replace(/[?#].*$/s, '');
}

function httpUrl(ref: string): string | null {
  try {
    const u = new URL(ref);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

function safeKey(key: string): boolean {
  if (key === '' || key.length > 1024 || [...key].some((ch) => ch.charCodeAt(0) < 0x20 || ch === '\u007f')) {
    return false;
  }
  return key.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}
