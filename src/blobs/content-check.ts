import type { Digest } from '../core/digest.js';
import { PrefixHasher } from './prefix-hasher.js';

/**
 * How a fill's finished file is checked against its digest before it becomes present. `finish()`
 * resolves with the content hash to compare, or null when the digest is not a hash of the content.
 */
export interface ContentCheck {
  readonly extendedBytes: number;
  /** bytes [0, upTo) are on disk */
  extend(upTo: number): void;
  finish(): Promise<string | null>;
  terminate(): Promise<void>;
}

/**
 * An etag blob (a reference entry's object) is named by URI + ETag, not by its content, so there is
 * nothing to hash: its check is the source's, which accepted every ranged response only with the
 * logged ETag and total size (api/ref-source.ts). Everything else about the fill (chunks, resume,
 * the sync and rename of commitFill) is the same as for a stored file.
 */
class SourceChecked implements ContentCheck {
  extendedBytes = 0;

  extend(upTo: number): void {
    this.extendedBytes = Math.max(this.extendedBytes, upTo);
  }

  finish(): Promise<string | null> {
    return Promise.resolve(null);
  }

  terminate(): Promise<void> {
    return Promise.resolve();
  }
}

/** The check for a fill of `digest` whose partial file is at `path`. */
export function contentCheckFor(path: string, digest: Digest, onProgress: () => void): ContentCheck {
  return digest.algo === 'etag' ? new SourceChecked() : new PrefixHasher(path, digest.algo, onProgress);
}
