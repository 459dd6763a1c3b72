/** The local data the baselines read: generated files in a temp dir (incompressible, page-sized variety). */
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from './timing.js';
import { makeTempDir } from './tmp.js';

export interface LocalFile {
  name: string;
  path: string;
  sizeBytes: number;
}

export interface LocalData {
  dir: string;
  files: LocalFile[];
}

/** Writes `sizeBytes` of pseudo-random bytes: one 16 MiB random block, each copy stamped with its index. */
async function generate(path: string, sizeBytes: number): Promise<void> {
  const block = randomBytes(16 * MiB);
  const fh = await open(path, 'w');
  try {
    for (let off = 0, i = 0; off < sizeBytes; off += block.length, i++) {
      block.writeBigUInt64LE(BigInt(i), 0);
      block.writeBigUInt64LE(BigInt(i), 8 * MiB);
      const len = Math.min(block.length, sizeBytes - off);
      await fh.write(block, 0, len, off);
    }
  } finally {
    await fh.close();
  }
}

export async function makeLocalData(sizes: Record<string, number>): Promise<LocalData> {
  const { path: dir } = await makeTempDir('data');
  const files: LocalFile[] = [];
  for (const [name, sizeBytes] of Object.entries(sizes)) {
    const path = join(dir, name);
    await generate(path, sizeBytes);
    files.push({ name, path, sizeBytes });
  }
  return { dir, files };
}
