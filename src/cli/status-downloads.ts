import { sendControl } from '../admin/control.js';
import type { DownloadInfo } from '../admin/warm-protocol.js';
import { formatBytes } from '../core/units.js';
import { formatEta, formatRate } from './progress.js';

interface LiveDownload {
  label?: string;
  sizeBytes?: number;
  bytesDone?: number;
  percent?: number;
  elapsedSeconds?: number;
}

/**
 * Downloads in progress with rate and ETA. The daemon measures rates over its last few seconds
 * (control socket); an older daemon without that request falls back to status.json, whose average
 * since each download started is the best rate it offers.
 */
export async function collectDownloads(
  socket: string | null,
  live: Record<string, unknown> | null,
): Promise<DownloadInfo[] | null> {
  if (socket) {
    const reply = await sendControl(socket, { op: 'downloads' }, 3000).catch(() => null);
    if (reply?.ok) return reply.result as DownloadInfo[];
  }
  const list = live?.downloads;
  if (!Array.isArray(list)) return null;
  return (list as LiveDownload[]).map((d) => {
    const size = d.sizeBytes ?? 0;
    const done = d.bytesDone ?? 0;
    const rate = d.elapsedSeconds ? done / d.elapsedSeconds : null;
    return {
      label: d.label ?? '?',
      sizeBytes: size,
      bytesDone: done,
      percent: d.percent ?? 0,
      rateBytesPerSec: rate,
      etaSeconds: rate ? Math.ceil((size - done) / rate) : null,
    };
  });
}

export function downloadLines(list: readonly DownloadInfo[]): string[] {
  return list.map(
    (d) =>
      `  downloading ${d.label}  ${d.percent.toFixed(1)}% of ${formatBytes(d.sizeBytes)}  ` +
      `${formatRate(d.rateBytesPerSec)}  ETA ${formatEta(d.etaSeconds)}`,
  );
}
