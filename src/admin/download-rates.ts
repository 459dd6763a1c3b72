import type { DownloadInfo } from './warm-protocol.js';

/** The fields of a fill in progress that rates are computed from (FillProgress of the blob cache). */
export interface FillSample {
  digest: string;
  label: string;
  sizeBytes: number;
  bytesDone: number;
  startedAtMs: number;
}

const WINDOW_MS = 10_000;

/**
 * Download rates for `wandbfs status`. Samples are taken when someone asks (no timer in an idle
 * mount): the rate is measured since the oldest sample within the last 10 s, and a download seen for
 * the first time gets its average since it started (which counts bytes resumed from an earlier run).
 */
export class DownloadRates {
  private readonly seen = new Map<string, { t: number; bytes: number }[]>();

  constructor(
    private readonly fills: () => FillSample[],
    private readonly now: () => number = Date.now,
  ) {}

  current(): DownloadInfo[] {
    const t = this.now();
    const live = this.fills();
    const keep = new Set(live.map((f) => f.digest));
    for (const k of this.seen.keys()) if (!keep.has(k)) this.seen.delete(k);
    return live.map((f) => {
      const hist = (this.seen.get(f.digest) ?? []).filter((s) => t - s.t <= WINDOW_MS);
      const oldest = hist[0];
      const rate =
        oldest && t - oldest.t >= 500
          ? (f.bytesDone - oldest.bytes) / ((t - oldest.t) / 1000)
          : t - f.startedAtMs >= 500
            ? f.bytesDone / ((t - f.startedAtMs) / 1000)
            : null;
      hist.push({ t, bytes: f.bytesDone });
      this.seen.set(f.digest, hist);
      const left = Math.max(0, f.sizeBytes - f.bytesDone);
      return {
        label: f.label,
        sizeBytes: f.sizeBytes,
        bytesDone: f.bytesDone,
        percent: f.sizeBytes > 0 ? Math.floor((f.bytesDone / f.sizeBytes) * 1000) / 10 : 100,
        rateBytesPerSec: rate === null ? null : Math.max(0, Math.round(rate)),
        etaSeconds: rate !== null && rate > 0 ? Math.ceil(left / rate) : null,
      };
    });
  }
}
