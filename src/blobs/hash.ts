import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { AbortedError } from '../core/errors.js';
import type { DigestAlgo } from '../core/digest.js';

const READ_BYTES = 1024 * 1024;

/**
 * Hashes a file with async 1 MiB reads, so a multi-GiB verify yields to the event loop between
 * pieces (each MD5 update of 1 MiB is ~2 ms) instead of stalling every FUSE request.
 */
export async function hashHandle(
  fh: FileHandle,
  sizeBytes: number,
  algo: DigestAlgo,
  onProgress?: (bytesDone: number) => void,
  signal?: AbortSignal,
): Promise<string> {
  const hash = createHash(algo);
  const buf = Buffer.allocUnsafe(READ_BYTES);
  let pos = 0;
  while (pos < sizeBytes) {
    if (signal?.aborted) throw new AbortedError('hashing aborted');
    const { bytesRead } = await fh.read(buf, 0, Math.min(READ_BYTES, sizeBytes - pos), pos);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
    onProgress?.(pos);
  }
  return hash.digest('hex');
}

/** Hex digest and byte count of a whole file. */
export async function hashFile(
  path: string,
  algo: DigestAlgo,
  onProgress?: (bytesDone: number) => void,
): Promise<{ hex: string; sizeBytes: number }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    return { hex: await hashHandle(fh, size, algo, onProgress), sizeBytes: size };
  } finally {
    await fh.close();
  }
}
