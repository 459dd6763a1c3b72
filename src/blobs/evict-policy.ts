/** Which blobs to remove, decided from plain data so it is tested without disks or clocks. */
export interface EvictCandidate {
  key: string;
  sizeBytes: number;
  accessedAtMs: number;
  pinned: boolean;
}

export interface EvictGoal {
  /** Remove least recently used blobs until the total is at most this. */
  maxTotalBytes?: number;
  /** Free at least this many bytes (space claimed for a new fill). */
  needBytes?: number;
  /** Remove every blob last accessed before this instant. */
  accessedBeforeMs?: number;
}

export interface EvictPlan {
  evict: EvictCandidate[];
  /** Blobs the goal wanted gone but that are open somewhere; they stay. */
  skippedPinned: EvictCandidate[];
  freedBytes: number;
  /** Total bytes after the plan runs. */
  remainingBytes: number;
  /** False when pins kept the plan from reaching the size goals. */
  satisfied: boolean;
}

/** Least recently used first (ties: larger first, then key, so the order is deterministic). */
export function planEviction(candidates: readonly EvictCandidate[], goal: EvictGoal): EvictPlan {
  const ordered = [...candidates].sort(
    (a, b) => a.accessedAtMs - b.accessedAtMs || b.sizeBytes - a.sizeBytes || a.key.localeCompare(b.key),
  );
  let total = ordered.reduce((sum, c) => sum + c.sizeBytes, 0);
  let freed = 0;
  const evict: EvictCandidate[] = [];
  const skippedPinned: EvictCandidate[] = [];
  const wantsSpace = (): boolean =>
    (goal.maxTotalBytes !== undefined && total > goal.maxTotalBytes) ||
    (goal.needBytes !== undefined && freed < goal.needBytes);
  for (const c of ordered) {
    const old = goal.accessedBeforeMs !== undefined && c.accessedAtMs < goal.accessedBeforeMs;
    if (!old && !wantsSpace()) continue;
    if (c.pinned) {
      skippedPinned.push(c);
      continue;
    }
    evict.push(c);
    total -= c.sizeBytes;
    freed += c.sizeBytes;
  }
  return { evict, skippedPinned, freedBytes: freed, remainingBytes: total, satisfied: !wantsSpace() };
}
