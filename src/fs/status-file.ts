import { redact } from '../core/log.js';
import type { BlobCacheCounters, FillProgress } from '../blobs/types.js';
import type { MetaStatus } from '../meta/types.js';
import type { OpStats } from './wrap.js';

const MAX_LISTED_FILLS = 200;
const KEPT_SNAPSHOTS = 32;
/**
 * How long a snapshot that was looked up but not yet opened stays the one status.json names. `cp`
 * and `rsync` stat the file, then open it, and give up if the two resolve to different files; a
 * bare stat long before an open must not make that open read old data either.
 */
export const UNOPENED_REUSE_MS = 2000;

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
 * The numbered, immutable renderings behind /.wandbfs/status.json. libfuse 2 caches a path's
 * attributes (size) and auto_cache keeps its pages for attr_timeout, so one path cannot show a
 * document that changes: status.json is a symlink (libfuse 2 never caches readlink) to
 * snapshots/<n>.json, and each snapshot is rendered once, at its first lookup, so its size and bytes
 * always agree. The link moves to a new number only once the current snapshot has been opened (so
 * every new `cat` sees fresh data), or when it was rendered more than UNOPENED_REUSE_MS ago without
 * being opened; until then every resolution (`cp`'s stat, then its open) reaches the same file.
 */
export class StatusSnapshots {
  /** the number status.json names now; 0 before the first resolution */
  private current = 0;
  private currentOpened = false;
  private readonly kept = new Map<number, Snapshot>();

  constructor(
    private readonly render: () => Buffer,
    private readonly now: () => number,
  ) {}

  /** The number status.json resolves to at this moment. */
  currentNumber(): number {
    const snap = this.kept.get(this.current);
    const stale = snap !== undefined && this.now() - snap.renderedAtMs > UNOPENED_REUSE_MS;
    if (this.current === 0 || this.currentOpened || stale) {
      this.current++;
      this.currentOpened = false;
    }
    return this.current;
  }

  /**
   * Snapshot `n`, rendered now if this is its first lookup. null for numbers never handed out and for
   * evicted ones: re-rendering an old number would contradict the size the kernel cached for it.
   */
  get(n: number): Snapshot | null {
    const found = this.kept.get(n);
    if (found) return found;
    if (n !== this.current || n === 0) return null;
    const snap = { bytes: this.render(), renderedAtMs: this.now() };
    this.kept.set(n, snap);
    for (const k of this.kept.keys()) {
      if (this.kept.size <= KEPT_SNAPSHOTS) break;
      this.kept.delete(k);
    }
    return snap;
  }

  /** A reader opened snapshot `n`: the next resolution of status.json gets a new one. */
  opened(n: number): void {
    if (n === this.current) this.currentOpened = true;
  }
}
