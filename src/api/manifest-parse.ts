import type { Logger } from '../core/log.js';
import { PermanentError } from './errors.js';
import { isObj } from './shape.js';
import type { Manifest, ManifestEntry, ManifestRejection } from './types.js';

/** Longest file name Linux accepts (NAME_MAX) and longest path (PATH_MAX), in bytes. */
const NAME_MAX = 255;
const PATH_MAX = 4096;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a manifest path is unsafe to expose under the artifact's root, or null when it is fine.
 * Everything that could name something outside the root ('..', absolute) or collide after
 * normalisation ('.', empty segments, broken Unicode) is refused; names the kernel would refuse anyway
 * (NUL, over 255 bytes) too.
 */
export function manifestPathProblem(path: string): string | null {
  if (path.length === 0) return 'empty path';
  if (path.includes('\0')) return 'contains NUL';
  if (path.startsWith('/')) return 'absolute path';
  if (LONE_SURROGATE.test(path)) return 'not valid Unicode';
  if (Buffer.byteLength(path) > PATH_MAX) return `longer than ${PATH_MAX} bytes`;
  for (const seg of path.split('/')) {
    if (seg === '') return 'empty segment';
    if (seg === '.' || seg === '..') return `'${seg}' segment`;
    if (Buffer.byteLength(seg) > NAME_MAX) return `segment longer than ${NAME_MAX} bytes`;
  }
  return null;
}

/** At most this many rejections are logged one by one; a hostile manifest must not flood the log. */
const LOGGED_REJECTIONS = 20;

/**
 * Parses W&B manifest JSON v1 ({version, storagePolicy, contents: {path: entry}}). Not JSON, or JSON
 * without `contents`, is a PermanentError for the artifact; a bad entry only costs that entry.
 */
export function parseManifest(text: string, label: string, logger: Logger): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new PermanentError(`manifest of ${label} is not valid JSON`, { cause: err });
  }
  if (!isObj(doc) || !isObj(doc.contents)) {
    throw new PermanentError(`manifest of ${label} has no "contents" object`);
  }
  if (doc.version !== undefined && doc.version !== 1) {
    logger.warn('unknown manifest version, reading it as v1', { artifact: label, version: doc.version });
  }
  const candidates: ManifestEntry[] = [];
  const rejected: ManifestRejection[] = [];
  for (const [path, raw] of Object.entries(doc.contents)) {
    const problem = manifestPathProblem(path) ?? entryProblem(raw);
    if (problem !== null) {
      rejected.push({ path, reason: problem });
      continue;
    }
    candidates.push(toEntry(path, raw as Record<string, unknown>));
  }
  const entries = rejectFileDirectoryClashes(candidates, rejected);
  for (const r of rejected.slice(0, LOGGED_REJECTIONS)) {
    logger.warn('rejected manifest entry', { artifact: label, path: r.path, reason: r.reason });
  }
  if (rejected.length > LOGGED_REJECTIONS) {
    logger.warn('more manifest entries rejected', {
      artifact: label,
      count: rejected.length - LOGGED_REJECTIONS,
    });
  }
  return { entries, rejected };
}

function entryProblem(raw: unknown): string | null {
  if (!isObj(raw)) return 'entry is not an object';
  if (typeof raw.digest !== 'string' || raw.digest === '') return 'missing digest';
  if (raw.size !== undefined && raw.size !== null) {
    if (typeof raw.size !== 'number' || !Number.isSafeInteger(raw.size) || raw.size < 0)
      return 'invalid size';
  }
  if (raw.ref !== undefined && raw.ref !== null && typeof raw.ref !== 'string') return 'invalid ref';
  return null;
}

function toEntry(path: string, raw: Record<string, unknown>): ManifestEntry {
  const birth = raw.birthArtifactID;
  return {
    path,
    digest: raw.digest as string,
    sizeBytes: typeof raw.size === 'number' ? raw.size : 0,
    ref: typeof raw.ref === 'string' && raw.ref !== '' ? raw.ref : null,
    birthArtifactId: typeof birth === 'string' ? birth : null,
  };
}

/**
 * 'a' and 'a/b' cannot both exist in one tree: 'a' would be a file and a directory. The file loses
 * (the entries below it are kept), deterministically, whatever order the JSON had.
 */
function rejectFileDirectoryClashes(
  entries: ManifestEntry[],
  rejected: ManifestRejection[],
): ManifestEntry[] {
  const dirs = new Set<string>();
  for (const e of entries) {
    let i = e.path.indexOf('/');
    while (i !== -1) {
      dirs.add(e.path.slice(0, i));
      i = e.path.indexOf('/', i + 1);
    }
  }
  if (dirs.size === 0) return entries;
  return entries.filter((e) => {
    if (!dirs.has(e.path)) return true;
    rejected.push({ path: e.path, reason: 'a file and a directory share this path' });
    return false;
  });
}
