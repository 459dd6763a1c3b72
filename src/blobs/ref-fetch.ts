import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Digest } from '../core/digest.js';
import { fsyncDir } from './fs-util.js';
import { blobPath, tmpRoot } from './path.js';
import type { RangeSource } from './types.js';

/**
 * A reference entry's object (etag-keyed blob), downloaded whole into tmp/ and renamed into blobs/.
 * No chunk map, hasher or resume: the name is not a hash of the content, so the check is the
 * source's (every response carried the logged ETag and size, see api/ref-source.ts) plus the byte
 * count here. References are usually small side files; a large one waits for its whole download.
 */
export async function fetchReference(o: {
  cacheDir: string;
  digest: Digest;
  sizeBytes: number;
  source: RangeSource;
  onBytes: (n: number) => void;
}): Promise<void> {
  const tmpDir = tmpRoot(o.cacheDir);
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const tmp = join(tmpDir, `${process.pid}-${randomUUID()}`);
  const fh = await open(tmp, 'w', 0o444);
  let written = 0;
  try {
    const controller = new AbortController();
    await o.source.fetchRange(
      0,
      o.sizeBytes,
      async (chunk) => {
        await fh.write(chunk, 0, chunk.length, written);
        written += chunk.length;
        o.onBytes(chunk.length);
      },
      controller.signal,
    );
    if (written !== o.sizeBytes)
      throw new Error(`reference download wrote ${written} of ${o.sizeBytes} bytes`);
    await fh.sync();
    await fh.close();
    const final = blobPath(o.cacheDir, o.digest);
    await mkdir(dirname(final), { recursive: true });
    await rename(tmp, final);
    await fsyncDir(dirname(final));
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
