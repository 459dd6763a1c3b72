/** Temp dirs for data files, cache dirs and mount points: always under the OS temp dir, named `wandbfs-bench-*`. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup.js';
import { mountsUnder } from './mounts.js';

/**
 * A fresh directory removed by the cleanup stack. Removal is skipped (with a warning) while anything
 * is still mounted below it: recursing into a live FUSE mount is never what we want.
 */
export async function makeTempDir(label: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `wandbfs-bench-${label}-`));
  const remove = onCleanup(`rm ${path}`, async () => {
    const live = await mountsUnder(path);
    if (live.length > 0) {
      process.stderr.write(`bench: not removing ${path}: still mounted: ${live.join(', ')}\n`);
      return;
    }
    await rm(path, { recursive: true, force: true });
  });
  return { path, remove };
}
