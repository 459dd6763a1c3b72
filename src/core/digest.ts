/**
 * Content digests. W&B sends MD5 as standard base64 of the 16 raw bytes (File.md5, manifest
 * `digest`); the blob store keys by algorithm + lowercase hex. W&B is adding XXH128, hence `algo`.
 */
export type DigestAlgo = 'md5';

export interface Digest {
  algo: DigestAlgo;
  /** lowercase hex, 32 chars for md5 */
  hex: string;
}

const B64_MD5 = /^[A-Za-z0-9+/]{22}==$/;
const HEX_MD5 = /^[0-9a-f]{32}$/;

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
  if (algo !== 'md5' || hex === undefined) return null;
  return md5FromHex(hex);
}
