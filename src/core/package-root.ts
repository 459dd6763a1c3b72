import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root (the folder holding package.json), found by walking up from this module. Compiled
 * code lives in dist/, sources in src/; both need migrations/ and the fake server's SDL at the root.
 * Sync fs is fine here: it runs once at start-up, never inside a FUSE handler.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'migrations'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('wandbfs: cannot find package root (package.json + migrations/)');
    dir = up;
  }
}
