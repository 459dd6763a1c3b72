import type { Node, NodeKind } from '../meta/types.js';

/** The stat shape fuse-native's getStatArray reads (times in ms since the epoch). */
export interface FuseStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  blocks: number;
  blksize: number;
  nlink: number;
  atime: number;
  mtime: number;
  ctime: number;
}

export interface Owner {
  uid: number;
  gid: number;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

/** Type bits plus permissions: everything is read-only; symlinks are 0777 as on any Linux fs. */
export function modeFor(kind: NodeKind): number {
  if (kind === 'dir') return S_IFDIR | 0o555;
  if (kind === 'symlink') return S_IFLNK | 0o777;
  return S_IFREG | 0o444;
}

export function sizeOf(node: Node): number {
  if (node.kind === 'file') return node.sizeBytes;
  if (node.kind === 'symlink') return Buffer.byteLength(node.target);
  return 4096;
}

/** Attributes derive only from the node, so repeated calls give identical answers. */
export function statFor(node: Node, owner: Owner): FuseStat {
  return makeStat(node.kind, sizeOf(node), node.mtimeMs, node.ctimeMs, owner);
}

export function makeStat(
  kind: NodeKind,
  size: number,
  mtimeMs: number,
  ctimeMs: number,
  owner: Owner,
): FuseStat {
  return {
    mode: modeFor(kind),
    uid: owner.uid,
    gid: owner.gid,
    size,
    // 512-byte units as du expects: du -s then equals the sum of apparent sizes rounded per file.
    blocks: Math.ceil(size / 512),
    blksize: 4096,
    nlink: kind === 'dir' ? 2 : 1,
    atime: mtimeMs,
    mtime: mtimeMs,
    ctime: ctimeMs,
  };
}

/** readdir entries carry only their type, so `find` and `ls` get d_type without a getattr each. */
export function typeOnlyStat(kind: NodeKind, owner: Owner): FuseStat {
  return makeStat(kind, 0, 0, 0, owner);
}
