import { randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, rename, stat, unlink, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Digest } from '../core/digest.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { isErrno } from '../core/errno-code.js';
import { fsyncDir } from './fs-util.js';
import { hashFileInWorker } from './prefix-hasher.js';
import { blobPath, tmpRoot } from './path.js';

/**
 * Where the W&B SDK keeps an artifact file with this digest: `artifacts/obj/md5/ab/cdef...` for
 * stored files, `artifacts/obj/etag/ab/cdef...` for reference entries (etagDigest's name).
 */
export function sdkBlobPath(sdkCacheDir: string, d: Digest): string {
  return join(sdkCacheDir, 'artifacts', 'obj', d.algo, d.hex.slice(0, 2), d.hex.slice(2));
}

/**
 * Takes a blob the W&B SDK already downloaded: hard link (same file system) or copy into our tmp/,
 * verify what we took, then rename into place. We only read the SDK's tree: never write or delete there.
 * The SDK replaces files atomically, so hashing our own link/copy verifies exactly what we keep.
 */
export async function importFromSdkCache(o: {
  sdkCacheDir: string;
  cacheDir: string;
  digest: Digest;
  sizeBytes: number;
  log: Logger;
}): Promise<boolean> {
  const src = sdkBlobPath(o.sdkCacheDir, o.digest);
  try {
    const st = await stat(src);
    if (!st.isFile() || st.size !== o.sizeBytes) return false;
  } catch {
    return false;
  }
  const tmpDir = tmpRoot(o.cacheDir);
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const tmp = join(tmpDir, `${process.pid}-${randomUUID()}`);
  try {
    let linked = true;
    try {
      await link(src, tmp);
    } catch (err) {
      if (!isErrno(err, 'EXDEV', 'EPERM', 'EACCES', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP')) throw err;
      linked = false;
      await copyFile(src, tmp);
      const fh = await open(tmp, 'r+');
      await fh.sync().finally(() => fh.close());
    }
    // The SDK may have replaced the file since the stat above: check what we actually hold. An etag
    // blob's name is no hash of its content: the SDK's own rule (it wrote it after a download that
    // had this URI and ETag, and the size matches) is all there is to check.
    const { size } = await stat(tmp);
    const sized = size === o.sizeBytes;
    const hex = !sized
      ? null
      : o.digest.algo === 'md5'
        ? await hashFileInWorker(tmp, 'md5', size)
        : o.digest.hex;
    if (hex !== o.digest.hex) {
      o.log.warn('W&B SDK cache file does not match its digest; downloading instead', {
        digest: o.digest.hex,
      });
      await unlink(tmp);
      return false;
    }
    const final = blobPath(o.cacheDir, o.digest);
    await mkdir(dirname(final), { recursive: true });
    await rename(tmp, final);
    await fsyncDir(dirname(final));
    o.log.debug('reused W&B SDK cache file', { digest: o.digest.hex, linked });
    return true;
  } catch (err) {
    o.log.debug('could not reuse W&B SDK cache file', { digest: o.digest.hex, error: errorMessage(err) });
    await unlink(tmp).catch(() => undefined);
    return false;
  }
}

/**
 * Leaves a copy of a reference entry's blob where the W&B SDK looks for it (`obj/etag/`), as the SDK
 * itself writes: into its tmp/, then an atomic rename; only when `<sdk cache>/artifacts` exists. A hard link when on the same file system
 * (the SDK only ever replaces or deletes whole files). Best effort: failures are logged at debug.
 */
export async function exportToSdkCache(o: {
  sdkCacheDir: string;
  blobFile: string;
  digest: Digest;
  log: Logger;
}): Promise<void> {
  const dest = sdkBlobPath(o.sdkCacheDir, o.digest);
  const tmpDir = join(o.sdkCacheDir, 'artifacts', 'tmp');
  const tmp = join(tmpDir, `wandbfs-${process.pid}-${randomUUID()}`);
  const is = (p: string, kind: 'file' | 'dir'): Promise<boolean> =>
    stat(p).then(
      (st) => (kind === 'file' ? st.isFile() : st.isDirectory()),
      () => false,
    );
  try {
    // Only into an SDK cache that exists: a machine without the SDK gets no ~/.cache/wandb from us.
    if (!(await is(join(o.sdkCacheDir, 'artifacts'), 'dir')) || (await is(dest, 'file'))) return;
    await mkdir(tmpDir, { recursive: true });
    await mkdir(dirname(dest), { recursive: true });
    await link(o.blobFile, tmp).catch(async (err: unknown) => {
      if (!isErrno(err, 'EXDEV', 'EPERM', 'EACCES', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP')) throw err;
      await copyFile(o.blobFile, tmp);
    });
    await rename(tmp, dest);
    o.log.debug('left a copy in the W&B SDK cache', { digest: o.digest.hex });
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    o.log.debug('could not fill the W&B SDK cache', { digest: o.digest.hex, error: errorMessage(err) });
  }
}
