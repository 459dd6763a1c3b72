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

/** Where the W&B SDK keeps an artifact file with this digest (`artifacts/obj/md5/ab/cdef...`). */
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
    // The SDK may have replaced the file since the stat above: check what we actually hold.
    const { size } = await stat(tmp);
    const hex = size === o.sizeBytes ? await hashFileInWorker(tmp, o.digest.algo, size) : null;
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
