import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

let cached: string | null = null;

/** wandbfs's version from package.json, read once (start-up only). A missing version must not stop a mount. */
export function wandbfsVersion(): string {
  if (cached !== null) return cached;
  cached = '0.0.0';
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') {
      cached = pkg.version;
    }
  } catch {
    // keep the placeholder
  }
  return cached;
}
