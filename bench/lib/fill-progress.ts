/**
 * How far a wandbfs mount's downloads have come, from its status.json: said next to a cold random
 * read, it tells how many of the reads could have been served by the background fill rather than
 * by a miss.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface StatusDoc {
  downloads?: { percent?: unknown }[];
  downloadsInFlight?: unknown;
}

/** e.g. "background fill at 23.4%", or "no download in flight (the fill had finished)". */
export async function fillProgress(mnt: string): Promise<string> {
  const doc = JSON.parse(await readFile(join(mnt, '.wandbfs', 'status.json'), 'utf8')) as StatusDoc;
  if (doc.downloadsInFlight === 0) return 'no download in flight (the fill had finished)';
  const percents = (doc.downloads ?? []).map((d) => (typeof d.percent === 'number' ? `${d.percent}%` : '?'));
  return `background fill at ${percents.join(', ') || '?'}`;
}
