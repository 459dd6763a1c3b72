import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/package-root.js';

let cached: string | null = null;

/** `wandbfs/<version>`, read once from package.json (W&B logs user agents; be identifiable). */
export function userAgent(): string {
  if (cached !== null) return cached;
  let version = '0.0.0';
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') {
      version = pkg.version;
    }
  } catch {
    // keep the placeholder; a missing version must not stop the mount
  }
  cached = `wandbfs/${version} node/${process.versions.node}`;
  return cached;
}
