/** Signed storage URLs in the style of S3/GCS query signing: expiry + HMAC, no W&B auth needed. */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'ok' | 'expired' | 'bad-signature';

export class UrlSigner {
  private readonly secret = randomBytes(32);
  /** URLs whose Expires is at or below this were revoked (expireIssued) */
  private revokedUpTo = 0;

  constructor(public ttlMs: number) {}

  /** Every URL signed until now counts as expired; later ones get an Expires above the cut. */
  expireIssued(nowMs = Date.now()): void {
    this.revokedUpTo = Math.max(this.revokedUpTo, nowMs + this.ttlMs);
  }

  private mac(blobId: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${blobId}\n${expires}`).digest('base64url');
  }

  /** Path + query of a fresh signed URL for a blob. */
  signPath(blobId: string, nowMs = Date.now()): string {
    const expires = Math.max(nowMs + this.ttlMs, this.revokedUpTo + 1);
    return `/storage/${blobId}?Expires=${expires}&Signature=${this.mac(blobId, expires)}`;
  }

  check(
    blobId: string,
    expiresParam: string | null,
    signature: string | null,
    nowMs = Date.now(),
  ): SignatureCheck {
    if (expiresParam === null || signature === null || !/^\d{1,16}$/.test(expiresParam))
      return 'bad-signature';
    const expected = Buffer.from(this.mac(blobId, Number(expiresParam)));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'bad-signature';
    const expires = Number(expiresParam);
    return expires < nowMs || expires <= this.revokedUpTo ? 'expired' : 'ok';
  }
}
