/**
 * The runs a Project.runs page holds, in the order the real server serves them. Without `order`
 * W&B lists the newest runs first, and its cursors are offsets into that order
 * (`arrayconnection:N`): a run created while a client pages lands at offset 0 and shifts every
 * later page by one, so the client sees one run twice and never sees the new one (SDK issues
 * #6614, #7666). With `+created_at` (what the SDK sends since PRs #7675, #10130) new runs land at
 * the end and nothing is skipped. Fixtures append runs in creation order, so list order is
 * creation order and both directions stay lazy for a 10,000-run project.
 */
import type { LazyList, RunFx } from './fixture-types.js';
import { compareRuns, matchRun, parseFilters, parseOrder, type RunOrder } from './run-query.js';

/** An indexable view of a runs listing; `at(i)` may build the run on demand. */
export interface RunSequence {
  readonly length: number;
  at(index: number): RunFx | undefined;
}

/** What the real server uses when the client sends no `order`. */
export const DEFAULT_RUN_ORDER: RunOrder = { key: 'created_at', desc: true };

function isCreationOrder(o: RunOrder): boolean {
  return o.key === 'created_at' || o.key === 'createdAt';
}

function view(list: readonly RunFx[]): RunSequence {
  return { length: list.length, at: (i) => list[i] };
}

/**
 * The runs of a project after `filters`, in `order` (newest first when absent). `only` restricts the
 * listing to named runs (Sweep.runs); they keep the project's creation order before ordering.
 */
export function orderedRuns(
  runs: LazyList<RunFx>,
  filters: unknown,
  order: unknown,
  only: readonly string[] | null,
): RunSequence {
  const f = parseFilters(typeof filters === 'string' ? filters : null);
  const o = parseOrder(typeof order === 'string' ? order : null) ?? DEFAULT_RUN_ORDER;
  if (f === null && only === null && isCreationOrder(o)) {
    const n = runs.length;
    return o.desc ? { length: n, at: (i) => runs.at(n - 1 - i) } : { length: n, at: (i) => runs.at(i) };
  }
  let list: RunFx[];
  if (only !== null) {
    const idx = only
      .map((name) => runs.indexOf(name))
      .filter((i): i is number => i !== undefined)
      .sort((a, b) => a - b);
    list = idx.map((i) => runs.at(i)).filter((r): r is RunFx => r !== undefined);
  } else {
    list = [...runs];
  }
  if (f !== null) list = list.filter((r) => matchRun(r, f));
  if (isCreationOrder(o)) return view(o.desc ? list.reverse() : list);
  return view(list.sort(compareRuns(o)));
}
