import { wandbfsVersion } from '../core/version.js';

/** `wandbfs/<version> node/<version>` (W&B logs user agents; be identifiable). */
export function userAgent(): string {
  return `wandbfs/${wandbfsVersion()} node/${process.versions.node}`;
}
