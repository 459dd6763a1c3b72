import type { DirEntry, DirNode, FileNode, MetaTree, Node, SymlinkNode } from '../meta/types.js';
import type { StatusSnapshots } from './status-file.js';

/**
 * What FsCore resolves paths through: the metadata tree's lookup and readdir, plus a notice when a
 * file it returned is opened (a tree whose files change per open uses it to move on).
 */
export interface FsTree {
  /** The node at `path`, or null when nothing is there. */
  lookup(path: string): Promise<Node | null>;
  /** The node at `path` when memory alone can tell, else undefined (see MetaTree.lookupCached). */
  lookupCached(path: string): Node | undefined;
  /** The children of the directory at `path`, or null when `path` is not a directory. */
  readdir(path: string): Promise<DirEntry[] | null>;
  opened(node: FileNode): void;
}

const STATUS_NAME = '.wandbfs';
const STATUS_DIR = '/' + STATUS_NAME;
const STATUS_LINK = STATUS_DIR + '/status.json';
const SNAP_DIR = STATUS_DIR + '/snapshots';
const SNAP_FILE = /^\/\.wandbfs\/snapshots\/(\d{12})\.json$/;

/** Fixed width, so the link's size never changes between its getattr and its readlink. */
function snapshotName(n: number): string {
  return `${String(n).padStart(12, '0')}.json`;
}

/**
 * The virtual /.wandbfs tree (status.json -> snapshots/<n>.json, see StatusSnapshots) composed in
 * front of the metadata tree: it answers every path under /.wandbfs itself, adds `.wandbfs` to the
 * root listing, and hands every other path to `inner` untouched. Status nodes are ordinary nodes
 * (generated files, a relative symlink, directories), so FsCore serves them like any other.
 */
export class StatusOverlay implements FsTree {
  constructor(
    private readonly inner: Pick<MetaTree, 'lookup' | 'lookupCached' | 'readdir'>,
    private readonly snapshots: StatusSnapshots,
    private readonly startedAtMs: number,
    private readonly now: () => number,
  ) {}

  static owns(path: string): boolean {
    return path === STATUS_DIR || path.startsWith(STATUS_DIR + '/');
  }

  async lookup(path: string): Promise<Node | null> {
    if (!StatusOverlay.owns(path)) return this.inner.lookup(path);
    if (path === STATUS_DIR || path === SNAP_DIR) return this.node(path, this.startedAtMs, { kind: 'dir' });
    if (path === STATUS_LINK) {
      const target = 'snapshots/' + snapshotName(this.snapshots.currentNumber());
      return this.node(path, this.now(), { kind: 'symlink', target });
    }
    const n = snapshotNumber(path);
    const snap = n === null ? null : this.snapshots.get(n);
    if (!snap) return null;
    return this.node(path, snap.renderedAtMs, {
      kind: 'file',
      sizeBytes: snap.bytes.length,
      content: { type: 'generated', bytes: snap.bytes },
    });
  }

  /** Status paths are built per call (status.json moves on), so only the inner tree's are cached. */
  lookupCached(path: string): Node | undefined {
    return StatusOverlay.owns(path) ? undefined : this.inner.lookupCached?.(path);
  }

  async readdir(path: string): Promise<DirEntry[] | null> {
    if (path === STATUS_DIR) {
      return [
        { name: 'status.json', kind: 'symlink' },
        { name: 'snapshots', kind: 'dir' },
      ];
    }
    // Snapshots are reached through the link only; listing hundreds of old ones would help no one.
    if (path === SNAP_DIR) return [];
    if (StatusOverlay.owns(path)) return null;
    const entries = await this.inner.readdir(path);
    if (path !== '/' || entries === null || entries.some((e) => e.name === STATUS_NAME)) return entries;
    return [...entries, { name: STATUS_NAME, kind: 'dir' }];
  }

  opened(node: FileNode): void {
    const n = snapshotNumber(node.path);
    if (n !== null) this.snapshots.opened(n);
  }

  private node(path: string, mtimeMs: number, shape: NodeShape): Node {
    return { path, mtimeMs, ctimeMs: mtimeMs, immutable: false, xattrs: {}, ...shape };
  }
}

type NodeShape =
  | Pick<DirNode, 'kind'>
  | Pick<SymlinkNode, 'kind' | 'target'>
  | Pick<FileNode, 'kind' | 'sizeBytes' | 'content'>;

function snapshotNumber(path: string): number | null {
  const m = SNAP_FILE.exec(path);
  return m?.[1] ? Number(m[1]) : null;
}
