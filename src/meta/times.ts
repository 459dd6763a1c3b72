import type { RunRecord } from '../api/types.js';

/**
 * How W&B timestamps become mtimes (the "Times" rule in docs/semantics.md). One rule for every node, so a
 * directory and the row it was stored from can never disagree about its time.
 */

/** Milliseconds since the epoch, or null for a missing or unreadable timestamp. */
export function isoToMs(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

/** A run changes while it is alive: its newest time of any kind, 0 when it has none. */
export function runMtimeMs(run: RunRecord): number {
  const times = [run.updatedAt, run.heartbeatAt, run.createdAt]
    .map(isoToMs)
    .filter((t): t is number => t !== null);
  return times.length > 0 ? Math.max(...times) : 0;
}

/** Projects, collections and sweeps: last update, else creation, else 0. */
export function recordMtimeMs(record: { updatedAt: string | null; createdAt: string | null }): number {
  return isoToMs(record.updatedAt) ?? isoToMs(record.createdAt) ?? 0;
}
