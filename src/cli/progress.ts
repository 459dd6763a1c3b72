import { formatBytes } from '../core/units.js';

/** `0:07`, `3:25`, `1:02:09`; `?` when unknown. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function formatRate(bytesPerSec: number | null): string {
  return bytesPerSec === null ? '- /s' : `${formatBytes(Math.round(bytesPerSec))}/s`;
}

/** A rate over the last `windowMs` of (time, bytes) samples; null until two samples span 300 ms. */
export class RateMeter {
  private readonly samples: { t: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 5_000) {}

  add(t: number, bytes: number): void {
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - (this.samples[0]?.t ?? t) > this.windowMs) this.samples.shift();
  }

  rate(): number | null {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t - first.t < 300) return null;
    return (last.bytes - first.bytes) / ((last.t - first.t) / 1000);
  }
}

export interface ProgressLine {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  rate: number | null;
}

function etaOf(p: ProgressLine): number | null {
  return p.rate !== null && p.rate > 0 ? (p.bytesTotal - p.bytesDone) / p.rate : null;
}

/** The TTY form: a bar that fits `width` columns, redrawn in place. */
export function barLine(p: ProgressLine, width: number): string {
  const pct = p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : 1;
  const text =
    ` ${(pct * 100).toFixed(0).padStart(3)}%  ${p.filesDone}/${p.filesTotal} files  ` +
    `${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}  ${formatRate(p.rate)}  ETA ${formatEta(etaOf(p))}`;
  const barWidth = Math.max(10, Math.min(40, width - text.length - 3));
  const filled = Math.round(pct * barWidth);
  return `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]${text}`;
}

/** The log form (not a terminal): one self-contained line. */
export function plainLine(p: ProgressLine): string {
  return (
    `warm: ${p.filesDone}/${p.filesTotal} files, ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}, ` +
    `${formatRate(p.rate)}, ETA ${formatEta(etaOf(p))}`
  );
}
