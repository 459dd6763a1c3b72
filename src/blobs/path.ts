import { join } from 'node:path';
import type { Digest } from '../core/digest.js';
import { parseDigestKey } from '../core/digest.js';

/** Complete, verified blobs: `blobs/<algo>/<hex[0:2]>/<hex>`. */
export function blobPath(cacheDir: string, d: Digest): string {
  return join(cacheDir, 'blobs', d.algo, d.hex.slice(0, 2), d.hex);
}

export function blobsRoot(cacheDir: string): string {
  return join(cacheDir, 'blobs');
}

/** A download in progress: `partial/<algo>-<hex>` (one writer at a time, guarded by a claim row). */
export function partialPath(cacheDir: string, d: Digest): string {
  return join(partialRoot(cacheDir), `${d.algo}-${d.hex}`);
}

export function partialRoot(cacheDir: string): string {
  return join(cacheDir, 'partial');
}

/** Inverse of partialPath's file name; null for anything else. */
export function digestFromPartialName(name: string): Digest | null {
  const dash = name.indexOf('-');
  return dash < 0 ? null : parseDigestKey(`${name.slice(0, dash)}:${name.slice(dash + 1)}`);
}

/** Staging area for imports (SDK cache copies); names start with the writer's pid. */
export function tmpRoot(cacheDir: string): string {
  return join(cacheDir, 'tmp');
}
