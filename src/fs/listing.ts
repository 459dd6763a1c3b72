import type { DirEntry } from '../meta/types.js';
import { typeOnlyStat, type FuseStat, type Owner } from './attrs.js';

/** A directory's listing as fuse-native's readdir takes it: names, and each entry's type as a stat. */
export interface DirListing {
  names: string[];
  stats: FuseStat[];
}

/**
 * The listing of `entries`, after `.` and `..`. A name fuse-native cannot pass (non-string) would
 * hang the caller; a bad name would corrupt the listing. The metadata layer should never produce
 * one, so each is skipped and handed to `invalid` to be said loudly.
 */
export function toListing(
  entries: readonly DirEntry[],
  owner: Owner,
  invalid: (name: string) => void,
): DirListing {
  const names = ['.', '..'];
  const stats = [typeOnlyStat('dir', owner), typeOnlyStat('dir', owner)];
  for (const e of entries) {
    if (
      typeof e.name !== 'string' ||
      e.name === '' ||
      e.name === '.' ||
      e.name === '..' ||
      /[/\0]/.test(e.name)
    ) {
      invalid(String(e.name));
      continue;
    }
    names.push(e.name);
    stats.push(typeOnlyStat(e.kind, owner));
  }
  return { names, stats };
}
