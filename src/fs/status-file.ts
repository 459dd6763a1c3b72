import { redact } from '../core/log.js';
import type { BlobCacheCounters, FillProgress } from '../blobs/types.js';
import type { MetaStatus } from '../meta/types.js';
import type { OpStats } from './wrap.js';

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

export interface Snapshot {
  bytes: Buffer;
  renderedAtMs: number;
}

/**
 * The numbered, immutable renderings behind /.wandbfs/status.json. status.json is a symlink to a new
 * snapshots/<n>.json at every resolution: libfuse 2 caches attributes and page contents per path for
 * attr_timeout, so a plain file would show a stale (and size-trimmed) document. Each snapshot is
 * rendered once, at its first lookup, so its size and bytes agree; libfuse 2 never caches readlink,
 * so every `cat` sees a new one.
 */
export class StatusSnapshots {
  private current = 0;
  private readonly kept = new Map<number, Snapshot>();

  constructor(
    private readonly render: () => Buffer,
    private readonly now: () => number,
  ) {}

  /** The number status.json resolves to at this moment. */
  currentNumber(): number {
    return ++this.current;
  }

  /** Snapshot `n`, rendered now if this is its first lookup; null for numbers never handed out. */
  get(n: number): Snapshot | null {
    if (n < 1 || n > this.current) return null;
    let snap = this.kept.get(n);
    if (!snap) {
      snap = { bytes: this.render(), renderedAtMs: this.now() };
      this.kept.set(n, snap);
      for (const k of this.kept.keys()) {
        if (this.kept.size <= KEPT_SNAPSHOTS) break;
        this.kept.delete(k);
      }
    }
    return snap;
  }

  opened(_n: number): void {}
}
