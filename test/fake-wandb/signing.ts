/** Signed storage URLs in the style of S3/GCS query signing: expiry + HMAC, no W&B auth needed. */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'ok' | 'expired' | 'bad-signature';

export class UrlSigner {
  private readonly secret = randomBytes(32);

  constructor(public ttlMs: number) {}

  private mac(blobId: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${blobId}\n${expires}`).digest('base64url');
  }

  /** Path + query of a fresh signed URL for a blob. */
  signPath(blobId: string, nowMs = Date.now()): string {
    const expires = nowMs + this.ttlMs;
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
    return Number(expiresParam) < nowMs ? 'expired' : 'ok';
  }
}
