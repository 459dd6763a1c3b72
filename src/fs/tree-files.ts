import { digestKey, type Digest } from '../core/digest.js';
import { WandbfsError } from '../core/errors.js';
import type { FileNode, MetaTree } from '../meta/types.js';
import type { BlobContent, ReferenceContent } from './core.js';

/**
 * One blob under the walked paths; a blob reached by several paths is listed once (first path). A
 * reference entry wandbfs can fetch (https://, s3://, gs://) is one too, under its etag key.
 */
export interface TreeBlob {
  key: string;
  digest: Digest;
  sizeBytes: number;
  path: string;
  content: BlobContent | ReferenceContent;
}

export interface TreeFiles {
  blobs: TreeBlob[];
  /** references that cannot be fetched (no ETag recorded, other schemes) and entries W&B cannot serve */
  unreadable: number;
  /** generated files such as metadata.json: nothing to fetch */
  generated: number;
}

/** A path given to `warm` or `cache pin` that names nothing in the mount. */
export class NoSuchMountPathError extends WandbfsError {
  constructor(path: string) {
    super('ERR_NO_SUCH_PATH', `nothing at ${path} in the mount`, {
      hint: 'give a directory or file inside the mount, e.g. <mount>/<entity>/<project>/artifacts/<name>/v3',
    });
  }
}

const childPath = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);

/**
 * Every file under `paths` (files or directories; inner paths of the mount). Symlinks inside the walk
 * (aliases such as `latest`, sweep run links) are not followed: what they point at is either inside
 * the walk already or was not asked for. Listings come from the metadata layer as for `ls`.
 */
export async function collectTreeFiles(
  meta: MetaTree,
  paths: readonly string[],
  signal?: AbortSignal,
): Promise<TreeFiles> {
  const out: TreeFiles = { blobs: [], unreadable: 0, generated: 0 };
  const seen = new Set<string>();
  const addFile = (node: FileNode): void => {
    const c = node.content;
    const digest = c.type === 'blob' ? c.digest : c.type === 'reference' ? c.fetch?.digest : undefined;
    if (c.type === 'generated') out.generated++;
    else if (digest === undefined || c.type === 'unreadable') out.unreadable++;
    else {
      const key = digestKey(digest);
      if (seen.has(key)) return;
      seen.add(key);
      out.blobs.push({ key, digest, sizeBytes: node.sizeBytes, path: node.path, content: c });
    }
  };
  const walk = async (dir: string): Promise<void> => {
    signal?.throwIfAborted();
    for (const e of (await meta.readdir(dir)) ?? []) {
      const p = childPath(dir, e.name);
      if (e.kind === 'dir') await walk(p);
      else if (e.kind === 'file') {
        const node = await meta.lookup(p);
        if (node?.kind === 'file') addFile(node);
      }
    }
  };
  for (const path of paths) {
    const node = await meta.lookup(path);
    if (!node) throw new NoSuchMountPathError(path);
    if (node.kind === 'file') addFile(node);
    else if (node.kind === 'dir') await walk(path);
  }
  return out;
}
