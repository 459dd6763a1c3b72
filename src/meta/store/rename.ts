import { assignNames, type NameItem } from '../naming.js';
import { num, str, strOrNull, type Row } from './rows.js';

/**
 * Writes the directory names that changed after naming.ts assigned them; rows are keyed by
 * `keyCol`, carry their current `fs_name`, and are updated by `pk`.
 */
export function applyNames(
  rows: Row[],
  names: Map<string, string>,
  keyCol: string,
  set: (name: string, pk: number) => void,
): void {
  for (const r of rows) {
    const name = names.get(str(r, keyCol));
    if (name !== undefined && name !== strOrNull(r, 'fs_name')) set(name, num(r, 'pk'));
  }
}

/**
 * Runs and sweeps: the display base name stored with the row, disambiguated by the W&B name (the
 * run or sweep id) when two share one.
 */
export function renameByStoredBase(rows: Row[], set: (name: string, pk: number) => void): void {
  const items: NameItem[] = rows.map((r) => ({
    key: str(r, 'name'),
    base: str(r, 'base_name'),
    disambiguator: str(r, 'name'),
  }));
  applyNames(rows, assignNames(items), 'name', set);
}
