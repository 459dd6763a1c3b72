import { mkdir, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Digest } from '../core/digest.js';
import { AbortedError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { IntegrityError } from './errors.js';
import { fsyncDir } from './fs-util.js';

/** What the commit step needs from the fill's parts; each is a narrow face of a real module. */
export interface CommitInput {
  key: string;
  label: string;
  digest: Digest;
  sizeBytes: number;
  partialPath: string;
  finalPath: string;
  /** fdatasync of the partial file, after every pending chunk mark */
  sync: () => Promise<void>;
  /** the digest of the whole file (the prefix hasher, extended to the end); null for an etag blob */
  digestOfFile: () => Promise<string | null>;
  /** BlobIndex.commitPresent */
  recordPresent: (key: string, sizeBytes: number) => void;
  /** false once the fill was cancelled or failed while this step waited */
  stillWanted: () => boolean;
}

/**
 * The last step of a fill: sync, compare the digest, rename the partial into blobs/, sync the
 * directory, index the blob. Only this makes a blob present, so a file in blobs/ is always verified:
 * by its content hash, or for an etag blob (no content hash) by the source's ETag and size check of
 * every response that wrote it (blobs/content-check.ts).
 * Resolves 'abandoned' when the fill ended meanwhile; throws IntegrityError on a digest mismatch.
 */
export async function commitFill(c: CommitInput): Promise<'committed' | 'abandoned'> {
  await c.sync();
  const hex = await c.digestOfFile();
  if (!c.stillWanted()) return 'abandoned';
  if (hex === null ? c.digest.algo !== 'etag' : hex !== c.digest.hex) {
    throw new IntegrityError(`content of ${c.label} does not match its digest ${c.key} (got ${hex})`);
  }
  await mkdir(dirname(c.finalPath), { recursive: true });
  await rename(c.partialPath, c.finalPath);
  await fsyncDir(dirname(c.finalPath));
  c.recordPresent(c.key, c.sizeBytes);
  return 'committed';
}

/** What ending a failed fill needs from the index: BlobIndex, narrowed. */
export interface PartialRows {
  dropPartial(key: string): void;
  release(key: string, token: string): void;
}

export interface AbandonInput {
  key: string;
  token: string;
  partialPath: string;
  index: PartialRows;
  log: Logger;
  /** true for a corrupt download or a full disk: the partial and its chunk map go too */
  discard: boolean;
  error: Error;
  /** resolves once the fill's workers, chunk marks and hasher have stopped */
  drained: Promise<void>;
}

/**
 * The other end of a fill: a failed one. A discarded partial loses its file and chunk map; any
 * other failure keeps both and releases the claim so the next open resumes. Never throws: on a full
 * disk SQLite cannot write either, and a throw here would be an unhandled rejection that takes the
 * whole mount down (after the partial is unlinked its space is free, so the drop is tried again).
 */
export async function abandonFill(a: AbandonInput): Promise<void> {
  // One line naming the digest; a full disk is reported by whoever falls back to streaming.
  if (a.discard && a.error instanceof IntegrityError) {
    a.log.warn(`integrity failure, discarded download of ${a.key}: ${a.error.message}`);
  } else if (!a.discard && !(a.error instanceof AbortedError)) {
    a.log.warn('fill failed', { blob: a.key, error: errorMessage(a.error) });
  }
  const tryIndex = (update: () => void): boolean => {
    try {
      update();
      return true;
    } catch (err) {
      a.log.warn('could not update the cache index', { blob: a.key, error: errorMessage(err) });
      return false;
    }
  };
  const dropped = a.discard && tryIndex(() => a.index.dropPartial(a.key));
  await a.drained;
  if (a.discard) {
    await unlink(a.partialPath).catch(() => undefined);
    if (!dropped) tryIndex(() => a.index.dropPartial(a.key));
  } else tryIndex(() => a.index.release(a.key, a.token));
}
