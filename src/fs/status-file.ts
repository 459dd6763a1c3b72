import { redact } from '../core/log.js';
import type { BlobCacheCounters, FillProgress } from '../blobs/types.js';
import type { MetaStatus, NodeKind } from '../meta/types.js';
import type { OpStats } from './wrap.js';

export const STATUS_DIR = '/.wandbfs';
export const STATUS_LINK = '/.wandbfs/status.json';
const SNAP_DIR = '/.wandbfs/snapshots';
const MAX_LISTED_FILLS = 200;
const KEPT_SNAPSHOTS = 32;

export interface StatusInput {
  version: string;
  mountPoint: string;
  startedAtMs: number;
  nowMs: number;
  openHandles: number;
  fills: FillProgress[];
  blobCounters: BlobCacheCounters;
  meta: MetaStatus;
  ops: OpStats & Record<string, unknown>;
  /** Anything the composition root adds (API request/throttle counters); must hold no secrets. */
  extra: Record<string, unknown>;
}

/** The document behind /.wandbfs/status.json. Never holds the API key or a signed URL. */
export function renderStatus(s: StatusInput): Buffer {
  const doc = {
    version: s.version,
    mountPoint: s.mountPoint,
    pid: process.pid,
    uptimeSeconds: Math.round((s.nowMs - s.startedAtMs) / 1000),
    generatedAt: new Date(s.nowMs).toISOString(),
    openFiles: s.openHandles,
    downloads: s.fills.slice(0, MAX_LISTED_FILLS).map((f) => ({
      label: f.label,
      digest: f.digest,
      sizeBytes: f.sizeBytes,
      bytesDone: f.bytesDone,
      percent: f.sizeBytes > 0 ? Math.floor((f.bytesDone / f.sizeBytes) * 1000) / 10 : 100,
      elapsedSeconds: Math.round((s.nowMs - f.startedAtMs) / 1000),
    })),
    downloadsInFlight: s.fills.length,
    cache: s.blobCounters,
    metadata: s.meta,
    fuse: s.ops,
    ...s.extra,
  };
  return Buffer.from(redact(JSON.stringify(doc, null, 2)) + '\n');
}

export type StatusEntry =
  | { kind: 'dir'; mtimeMs: number }
  | { kind: 'symlink'; target: string; mtimeMs: number }
  | { kind: 'file'; bytes: Buffer; mtimeMs: number };

/**
 * The virtual /.wandbfs tree. status.json is a symlink to a new snapshots/<n>.json at every
 * resolution: libfuse 2 caches attributes and page contents per path for attr_timeout, so a plain
 * file would show a stale (and size-trimmed) document. Each snapshot is rendered once, at its first
 * lookup, so its size and bytes agree; libfuse 2 never caches readlink, so every `cat` sees a new one.
 */
export class StatusTree {
  private counter = 0;
  private readonly snapshots = new Map<string, { bytes: Buffer; mtimeMs: number }>();

  constructor(
    private readonly render: () => Buffer,
    private readonly now: () => number,
    private readonly startedAtMs: number,
  ) {}

  static owns(path: string): boolean {
    return path === STATUS_DIR || path.startsWith(STATUS_DIR + '/');
  }

  /** null when nothing is at `path`. */
  entry(path: string): StatusEntry | null {
    if (path === STATUS_DIR || path === SNAP_DIR) return { kind: 'dir', mtimeMs: this.startedAtMs };
    if (path === STATUS_LINK) return { kind: 'symlink', target: this.nextTarget(), mtimeMs: this.now() };
    const m = /^\/\.wandbfs\/snapshots\/(\d{12})\.json$/.exec(path);
    if (!m?.[1] || Number(m[1]) > this.counter) return null;
    let snap = this.snapshots.get(m[1]);
    if (!snap) {
      snap = { bytes: this.render(), mtimeMs: this.now() };
      this.snapshots.set(m[1], snap);
      for (const k of this.snapshots.keys()) {
        if (this.snapshots.size <= KEPT_SNAPSHOTS) break;
        this.snapshots.delete(k);
      }
    }
    return { kind: 'file', bytes: snap.bytes, mtimeMs: snap.mtimeMs };
  }

  /** The symlink's size must not change between getattr and readlink: fixed-width names. */
  private nextTarget(): string {
    this.counter++;
    return `snapshots/${String(this.counter).padStart(12, '0')}.json`;
  }

  children(path: string): { name: string; kind: NodeKind }[] | null {
    if (path === STATUS_DIR) {
      return [
        { name: 'status.json', kind: 'symlink' },
        { name: 'snapshots', kind: 'dir' },
      ];
    }
    if (path === SNAP_DIR) return [];
    return null;
  }
}
