import { dirname } from 'node:path';
import type { BlobReader } from '../blobs/types.js';
import { IntegrityError } from '../blobs/errors.js';
import { ContentChangedError, errorMessage } from '../core/errors.js';
import { digestKey } from '../core/digest.js';
import type { Logger } from '../core/log.js';
import type { FileNode, Node } from '../meta/types.js';
import type { BlobHandle } from './handles.js';

/** Bytes that do not match the listing: another size in storage, or another digest at the end. */
export function isContentMismatch(err: unknown): err is IntegrityError | ContentChangedError {
  return err instanceof IntegrityError || err instanceof ContentChangedError;
}

/** What a re-list needs from FsCore. */
export interface RelistDeps {
  /** re-lists a directory now (MetaTree.refresh) */
  refresh(path: string): Promise<void>;
  lookup(path: string): Promise<Node | null>;
  /** a blob reader for a stored file node */
  openBlob(node: FileNode & { content: { type: 'blob' } }): Promise<BlobReader>;
  log: Logger;
}

/**
 * An open file's bytes did not match its listing. A running run's file changes as the run writes
 * it (output.log grows, a checkpoint is replaced), and so, rarely, does a stale listing: re-list the
 * file's directory once and move the handle onto what W&B lists now, verified against the new
 * digest. When that is impossible (gone, not stored, listing unchanged) or this open already
 * re-listed, it is an integrity failure: one log line naming the path, and the error (EIO) is thrown.
 * Nothing is cached either way: the blob cache keeps only bytes that match their digest.
 *
 * `failed` is the reader whose read failed: reads that fail together re-list once, and a read that
 * failed on a reader already replaced simply retries on the new one.
 */
export async function relistAfterMismatch(
  h: BlobHandle,
  failed: BlobReader,
  err: IntegrityError | ContentChangedError,
  d: RelistDeps,
): Promise<void> {
  if (h.reader !== failed) return;
  if (h.relist === null) {
    h.relist = reopen(h, err, d);
    return h.relist;
  }
  const reopened = await h.relist.then(
    () => true,
    () => false,
  );
  if (h.reader !== failed) return;
  // the refusal was logged once; later reads of this open fail quietly
  if (!reopened) throw err;
  h.relist = Promise.reject(err);
  h.relist.catch(() => undefined);
  throw refuse(h, err, 'still differs from its listing after a re-list', d.log);
}

async function reopen(
  h: BlobHandle,
  err: IntegrityError | ContentChangedError,
  d: RelistDeps,
): Promise<void> {
  const before = { size: h.sizeBytes, digest: digestKey(h.digest) };
  try {
    await d.refresh(dirname(h.path));
  } catch (relistErr) {
    d.log.warn('could not re-list a file whose content changed', {
      path: h.path,
      error: errorMessage(relistErr),
    });
  }
  const node = await d.lookup(h.path);
  if (node?.kind !== 'file' || node.content.type !== 'blob') {
    throw refuse(h, err, 'is no longer listed as a stored file', d.log);
  }
  const blob = { ...node, content: node.content };
  if (digestKey(blob.content.digest) === before.digest && blob.sizeBytes === before.size) {
    throw refuse(h, err, 'does not match its listing, also after a re-list', d.log);
  }
  const reader = await d.openBlob(blob);
  const old = h.reader;
  Object.assign(h, {
    reader,
    sizeBytes: blob.sizeBytes,
    digest: blob.content.digest,
    live: blob.live === true,
  });
  await old.close();
  d.log.info('file changed since it was listed; reading the version W&B lists now', {
    path: h.path,
    live: h.live,
    size: before.size,
    newSize: h.sizeBytes,
  });
}

/** The integrity failure of one open: logged once with its path, then thrown as EIO. */
function refuse(h: BlobHandle, err: IntegrityError | ContentChangedError, why: string, log: Logger): Error {
  // a running run's file is expected to change; W&B's listing lagging behind it is not corruption
  const what = h.live ? 'changed file of a running run' : 'integrity failure';
  // The digest is named once, by the blob cache's own line about the failed download (issue 6).
  log.warn(`${what}: ${h.path} ${why}; refusing it (nothing was cached)`, {
    path: h.path,
    live: h.live,
    found: err instanceof ContentChangedError ? `${err.actualSize ?? 'another'} bytes` : 'another digest',
    listedSize: h.sizeBytes,
  });
  return err;
}
