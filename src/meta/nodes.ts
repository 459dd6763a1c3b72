import { md5FromBase64 } from '../core/digest.js';
import { isTerminalRunState } from './freshness.js';
import type { MembershipScope } from '../api/types.js';
import type { FileContent, FileNode, Node } from './types.js';
import type { EntryRow, FileRow, RunRow } from './store/index.js';
import { referenceContent } from './ref-entry.js';

/** Builders of the Node values the FUSE core sees. */

export function dirNode(
  path: string,
  mtimeMs: number,
  immutable: boolean,
  xattrs: Record<string, string> = {},
): Node {
  return { kind: 'dir', path, mtimeMs, ctimeMs: mtimeMs, immutable, xattrs };
}

export function symlinkNode(path: string, target: string, mtimeMs: number, immutable: boolean): Node {
  return { kind: 'symlink', path, target, mtimeMs, ctimeMs: mtimeMs, immutable, xattrs: {} };
}

export function generatedFile(path: string, bytes: Buffer, mtimeMs: number, immutable: boolean): FileNode {
  return {
    kind: 'file',
    path,
    sizeBytes: bytes.length,
    content: { type: 'generated', bytes },
    mtimeMs,
    ctimeMs: mtimeMs,
    immutable,
    xattrs: {},
  };
}

export function runFileNode(
  path: string,
  loc: { entity: string; project: string; run: RunRow },
  file: FileRow,
  mtimeMs: number,
  url: string,
): FileNode {
  const digest = file.md5 === null ? null : md5FromBase64(file.md5);
  const content: FileContent = digest
    ? {
        type: 'blob',
        digest,
        locator: {
          kind: 'run-file',
          entity: loc.entity,
          project: loc.project,
          run: loc.run.name,
          name: file.name,
        },
      }
    : {
        type: 'unreadable',
        reason:
          file.md5 === null
            ? 'W&B has no MD5 for this run file'
            : 'W&B sent a malformed MD5 for this run file',
      };
  const xattrs: Record<string, string> = { 'user.wandb.id': loc.run.name, 'user.wandb.url': url };
  if (file.md5 !== null) {
    xattrs['user.wandb.digest'] = file.md5;
    xattrs['user.wandb.digest_algo'] = digest ? 'md5' : 'unknown';
  }
  return {
    kind: 'file',
    path,
    sizeBytes: file.sizeBytes,
    content,
    mtimeMs,
    ctimeMs: mtimeMs,
    immutable: false,
    live: !isTerminalRunState(loc.run.state),
    xattrs,
  };
}

/** Drops the query string of http(s) references: it may carry a signature or token. */
function displayRef(ref: string): string {
  return /^https?:\/\//i.test(ref) ? ref.replace(/[?#].*$/, '') : ref;
}

export function manifestFileNode(
  path: string,
  artifactId: string,
  entry: EntryRow,
  mtimeMs: number,
  immutable: boolean,
  url: string,
  via?: MembershipScope,
): FileNode {
  const xattrs: Record<string, string> = {
    'user.wandb.id': artifactId,
    'user.wandb.url': url,
    'user.wandb.digest': entry.digest,
  };
  let content: FileContent;
  if (entry.ref !== null) {
    content = referenceContent(entry.ref, entry.digest, entry.path);
    xattrs['user.wandb.digest_algo'] = 'reference';
    xattrs['user.wandb.ref'] = displayRef(entry.ref);
  } else {
    const digest = md5FromBase64(entry.digest);
    content = digest
      ? {
          type: 'blob',
          digest,
          // via: file URLs are asked in bulk through the collection being browsed
          locator: { kind: 'artifact-file', artifactId, path: entry.path, ...(via ? { via } : {}) },
        }
      : { type: 'unreadable', reason: 'manifest entry has no valid MD5 digest' };
    xattrs['user.wandb.digest_algo'] = digest ? 'md5' : 'unknown';
  }
  return {
    kind: 'file',
    path,
    sizeBytes: entry.sizeBytes,
    content,
    mtimeMs,
    ctimeMs: mtimeMs,
    immutable,
    xattrs,
  };
}
