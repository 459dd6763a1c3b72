import { etagDigest, md5FromBase64 } from '../core/digest.js';
import type { FileContent } from './types.js';

/** Schemes whose objects wandbfs fetches itself, over HTTPS (s3:// and gs:// via their public endpoints). */
const FETCHED = /^(https?|s3|gs):\/\//i;
const ARTIFACT_REF = /^wandb-artifact:\/\/([0-9a-f]+)\/(.+)$/;
/** Longest hex artifact id taken from a wandb-artifact:// URI (ids are base64 of 'Artifact:<n>'). */
const MAX_ID_HEX = 256;

/**
 * What a manifest reference entry reads as. `wandb-artifact://<hex id>/<path>` is another artifact's
 * stored file: its digest is that file's MD5, so it is an ordinary blob fetched through the other
 * artifact (the SDK decodes the hex into the base64 Artifact.id). s3/gs/http(s) objects are fetched
 * from their store and keyed by URI + ETag (the W&B SDK's `obj/etag` name); an entry whose digest
 * is the URI itself was logged without a checksum, so nothing could vouch for its bytes: unreadable.
 */
export function referenceContent(ref: string, digest: string, entryPath: string): FileContent {
  const art = ARTIFACT_REF.exec(ref);
  if (art) {
    const [, hex = '', path = ''] = art;
    const md5 = md5FromBase64(digest);
    if (md5 && hex.length % 2 === 0 && hex.length <= MAX_ID_HEX && safePath(path)) {
      const artifactId = Buffer.from(hex, 'hex').toString('base64');
      return { type: 'blob', digest: md5, locator: { kind: 'artifact-file', artifactId, path } };
    }
    return {
      type: 'reference',
      ref,
      unreadable: 'the wandb-artifact:// reference or its digest is malformed',
    };
  }
  if (!FETCHED.test(ref) || entryPath === '') {
    return {
      type: 'reference',
      ref,
      unreadable: 'wandbfs fetches only https://, s3:// and gs:// references',
    };
  }
  if (digest === ref || digest === '') {
    return {
      type: 'reference',
      ref,
      unreadable: 'no ETag was recorded for it, so its bytes cannot be checked',
    };
  }
  return { type: 'reference', ref, fetch: { etag: digest, digest: etagDigest(ref, digest) } };
}

/** A manifest path: relative, no empty, '.' or '..' segments, no NUL (it is only ever a lookup key). */
function safePath(p: string): boolean {
  return !p.includes('\0') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}
