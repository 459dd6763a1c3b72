/**
 * Pages of artifact file URLs as W&B serves them in bulk: `files(names:, first:, after:)` and
 * `filesByManifestEntries` answer up to 5000 files per call (the SDK's
 * WANDB_ARTIFACT_FETCH_FILE_URL_BATCH_SIZE, wandb-core's batch size), not the listing page cap.
 */
import type { ManifestEntryFx } from './fixture-types.js';
import { connection, type PageArgs } from './pagination.js';

export const MAX_FILE_URLS_PER_PAGE = 5000;

type Args = Record<string, unknown> & PageArgs;

/** `files(names:, first:, after:)`: the named entries (all when `names` is absent), 5000 per page. */
export function fileUrlPage<E>(
  entries: readonly ManifestEntryFx[],
  a: Args,
  edge: (e: ManifestEntryFx, cursor: string) => E,
) {
  const names = Array.isArray(a.names)
    ? new Set(a.names.filter((n): n is string => typeof n === 'string'))
    : null;
  const list = names !== null ? entries.filter((e) => names.has(e.path)) : entries;
  return page(list, a, edge);
}

/** `filesByManifestEntries(entries:)`: the entries matching name and digest, 5000 per page. */
export function entriesUrlPage<E>(
  entries: readonly ManifestEntryFx[],
  a: Args,
  edge: (e: ManifestEntryFx, cursor: string) => E,
) {
  const wanted = Array.isArray(a.entries) ? (a.entries as { name?: unknown; digest?: unknown }[]) : [];
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const list = wanted
    .map((w) => (typeof w.name === 'string' ? byPath.get(w.name) : undefined))
    .filter((e, i): e is ManifestEntryFx => e !== undefined && e.digest === wanted[i]?.digest);
  return page(list, a, edge);
}

function page<E>(list: readonly ManifestEntryFx[], a: Args, edge: (e: ManifestEntryFx, cursor: string) => E) {
  return {
    ...connection(
      list.length,
      (i) => list[i],
      a,
      MAX_FILE_URLS_PER_PAGE,
      (x) => edge(x.item, x.cursor),
    ),
    uploadHeaders: [],
  };
}
