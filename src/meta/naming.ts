import { createHash } from 'node:crypto';
import type { RunRecord, SweepRecord } from '../api/types.js';

/**
 * How W&B names become directory entries. Every rule is deterministic (the same records give the
 * same names on every mount) and documented in docs/semantics.md.
 */

export const MAX_NAME_BYTES = 255;
/** Separator between a name and its disambiguator: `name~<runid>`. */
export const DUP_SEPARATOR = '~';

const SLASH_REPLACEMENT = '\uFF0F'; // FULLWIDTH SOLIDUS, as rclone encodes '/'
const NUL_REPLACEMENT = '\u2400'; // SYMBOL FOR NULL
const DOT_REPLACEMENT = '\uFF0E'; // FULLWIDTH FULL STOP, so '.' and '..' stay visible but harmless
const EMPTY_NAME = '_';

export function shortHash(text: string, hexChars = 8): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, hexChars);
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a code point. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const n = utf8Bytes(ch);
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out;
}

/** `base` + `suffix`, cutting `base` so the whole fits in one path segment. */
export function withSuffix(base: string, suffix: string): string {
  const room = MAX_NAME_BYTES - utf8Bytes(suffix);
  if (room <= 0) return truncateUtf8(suffix, MAX_NAME_BYTES);
  return truncateUtf8(base, room) + suffix;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Lone surrogates cannot be encoded as UTF-8; replace them as String#toWellFormed would. */
function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * One safe path segment from any string: '/' and NUL replaced, '.'/'..'/'' impossible, lone
 * surrogates made well-formed, and names over 255 bytes cut with a hash of the full name appended.
 */
export function sanitizeSegment(raw: string): string {
  let name = wellFormed(raw).replaceAll('/', SLASH_REPLACEMENT).replaceAll('\0', NUL_REPLACEMENT);
  if (name === '') name = EMPTY_NAME;
  else if (name === '.' || name === '..') name = DOT_REPLACEMENT.repeat(name.length);
  if (utf8Bytes(name) > MAX_NAME_BYTES) name = withSuffix(name, DUP_SEPARATOR + shortHash(raw));
  return name;
}

/** A display name when it has any non-blank text, else the id: what runs and sweeps want to be called. */
function displayBase(record: { name: string; displayName: string | null }): string {
  const display = record.displayName;
  return sanitizeSegment(display !== null && display.trim() !== '' ? display : record.name);
}

/** The name a run directory wants in runs/ (its display name, else its run id). */
export function runBase(run: RunRecord): string {
  return displayBase(run);
}

/** The name a sweep directory wants in sweeps/ (its display name, else its sweep id). */
export function sweepBase(sweep: SweepRecord): string {
  return displayBase(sweep);
}

export interface NameItem {
  /** unique within the directory (e.g. the run id); decides order and tie-breaks */
  key: string;
  /** the sanitized name it would like (sanitizeSegment output) */
  base: string;
  /** appended as `base~<disambiguator>` when the base is shared */
  disambiguator: string;
}

/**
 * Names for one directory. Items whose base is unique keep it; items sharing a base all get
 * `base~<disambiguator>` (none is favoured, so names do not depend on listing order). A generated
 * name that still collides (a display name literally `a~b`) falls back to a hash of the key.
 * Nothing is ever dropped.
 */
export function assignNames(items: readonly NameItem[]): Map<string, string> {
  const sorted = [...items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const byBase = new Map<string, number>();
  for (const it of sorted) byBase.set(it.base, (byBase.get(it.base) ?? 0) + 1);
  const out = new Map<string, string>();
  const taken = new Set<string>();
  // Unique bases first, so they keep their plain name even if a generated one would match it.
  for (const it of sorted) {
    if (byBase.get(it.base) === 1) {
      out.set(it.key, it.base);
      taken.add(it.base);
    }
  }
  for (const it of sorted) {
    if (byBase.get(it.base) === 1) continue;
    let name = withSuffix(it.base, DUP_SEPARATOR + sanitizeSegment(it.disambiguator));
    for (let n = 8; taken.has(name); n += 4) name = withSuffix(it.base, DUP_SEPARATOR + shortHash(it.key, n));
    out.set(it.key, name);
    taken.add(name);
  }
  return out;
}

export interface PlacedFile {
  /** original path (the key) */
  path: string;
  /** sanitized parent directory, segments joined by '/'; '' for the top */
  dir: string;
  name: string;
}

export interface Placement {
  files: PlacedFile[];
  /** implicit directories: parent ('' = top) and name */
  dirs: { parent: string; name: string }[];
  /** paths that cannot be placed safely (empty, '.' or '..' segments) */
  skipped: { path: string; reason: string }[];
}

/**
 * Places file paths (split at '/') into a tree of safe segments. Directories whose names are equal
 * after sanitizing are merged; a file that clashes with a directory or another file gets
 * `name~<hash of its full path>`.
 */
export function placeFiles(paths: readonly string[]): Placement {
  const skipped: Placement['skipped'] = [];
  const dirs = new Map<string, Set<string>>(); // parent -> child dir names
  const pending: { path: string; dir: string; base: string }[] = [];
  for (const path of [...paths].sort()) {
    const segs = path.split('/');
    const bad = segs.find((s) => s === '' || s === '.' || s === '..');
    if (bad !== undefined) {
      skipped.push({ path, reason: bad === '' ? 'empty path segment' : `'${bad}' path segment` });
      continue;
    }
    const safe = segs.map(sanitizeSegment);
    const base = safe.pop() ?? EMPTY_NAME;
    let parent = '';
    for (const seg of safe) {
      let set = dirs.get(parent);
      if (!set) dirs.set(parent, (set = new Set()));
      set.add(seg);
      parent = parent === '' ? seg : `${parent}/${seg}`;
    }
    pending.push({ path, dir: parent, base });
  }
  const files: PlacedFile[] = [];
  const byDir = new Map<string, typeof pending>();
  for (const p of pending) {
    const list = byDir.get(p.dir);
    if (list) list.push(p);
    else byDir.set(p.dir, [p]);
  }
  for (const [dir, list] of byDir) {
    const dirNames = dirs.get(dir) ?? new Set<string>();
    const counts = new Map<string, number>();
    for (const p of list) counts.set(p.base, (counts.get(p.base) ?? 0) + 1);
    const taken = new Set<string>([
      ...dirNames,
      ...list.filter((p) => counts.get(p.base) === 1).map((p) => p.base),
    ]);
    for (const p of list) {
      if (counts.get(p.base) === 1 && !dirNames.has(p.base)) {
        files.push({ path: p.path, dir, name: p.base });
        continue;
      }
      let name = withSuffix(p.base, DUP_SEPARATOR + shortHash(p.path));
      for (let n = 12; taken.has(name); n += 4)
        name = withSuffix(p.base, DUP_SEPARATOR + shortHash(p.path, n));
      taken.add(name);
      files.push({ path: p.path, dir, name });
    }
  }
  const dirList: Placement['dirs'] = [];
  for (const [parent, set] of dirs) for (const name of set) dirList.push({ parent, name });
  return { files, dirs: dirList, skipped };
}
