import { createHash } from 'node:crypto';

/**
 * Content digests. W&B sends MD5 as standard base64 of the 16 raw bytes (File.md5, manifest
 * `digest`); the blob store keys by algorithm + lowercase hex. W&B is adding XXH128, hence `algo`.
 * `etag` keys a reference entry's object (s3://, gs://, https://) by its URI and ETag, the way the
 * W&B SDK names it in `obj/etag/`: it is a name, not a hash of the content (see etagDigest).
 */
export type DigestAlgo = 'md5' | 'etag';

export interface Digest {
  algo: DigestAlgo;
  /** lowercase hex, 32 chars for md5 */
  hex: string;
}

const B64_MD5 = /^[A-Za-z0-9+/]{22}==$/;
const HEX_MD5 = /^[0-9a-f]{32}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Parses W&B's base64 MD5; returns null for anything that is not exactly 16 bytes of base64. */
export function md5FromBase64(b64: string): Digest | null {
  if (!B64_MD5.test(b64)) return null;
  const hex = Buffer.from(b64, 'base64').toString('hex');
  return HEX_MD5.test(hex) ? { algo: 'md5', hex } : null;
}

export function md5FromHex(hex: string): Digest | null {
  const lower = hex.toLowerCase();
  return HEX_MD5.test(lower) ? { algo: 'md5', hex: lower } : null;
}

export function digestToBase64(d: Digest): string {
  return Buffer.from(d.hex, 'hex').toString('base64');
}

/** Stable string form used as a map/db key: `md5:<hex>`. */
export function digestKey(d: Digest): string {
  return `${d.algo}:${d.hex}`;
}

export function parseDigestKey(key: string): Digest | null {
  const [algo, hex] = key.split(':');
  return algo === undefined || hex === undefined ? null : digestFromName(algo, hex);
}

/** A blob file's digest from its directory (algo) and name; null for anything that is not one. */
export function digestFromName(algo: string, name: string): Digest | null {
  if (algo === 'md5') return md5FromHex(name);
  if (algo === 'etag') return HEX_SHA256.test(name) ? { algo: 'etag', hex: name } : null;
  return null;
}

/**
 * The key of a reference entry's object: sha256(sha256(uri) || sha256(etag)), as the W&B SDK names
 * it under `artifacts/obj/etag/` (`check_etag_obj_path`), with `uri` the manifest's `ref` and `etag`
 * its `digest`. Keying by both means a changed object (new ETag) is a different blob.
 */
export function etagDigest(uri: string, etag: string): Digest {
  const sha = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  const hex = createHash('sha256').update(sha(uri)).update(sha(etag)).digest('hex');
  return { algo: 'etag', hex };
}
