import type { Logger } from '../core/log.js';
import { mapRunArtifactEdge } from './artifacts.js';
import { PermanentError } from './errors.js';
import type { FetchContext } from './fetch-context.js';
import { mapRunFile } from './files.js';
import { parseJsonObjectLenient, unwrapRunConfig } from './json-fields.js';
import { dig, paginate } from './paginate.js';
import { PROJECT_RUNS, RUN } from './queries/runs.js';
import type { Obj } from './shape.js';
import { arr, asObj, bool, optObj, optStr, reqObj, str, strList } from './shape.js';
import type { InlinePage, ListedRun, RunRecord } from './types.js';

export function mapRun(r: Obj, path: string, logger: Logger): RunRecord {
  const name = str(r, 'name', path);
  const user = optObj(r, 'user', path);
  return {
    id: str(r, 'id', path),
    name,
    displayName: optStr(r, 'displayName', path),
    state: optStr(r, 'state', path)?.toLowerCase() ?? null,
    config: unwrapRunConfig(
      parseJsonObjectLenient(optStr(r, 'config', path), `config of run ${name}`, logger),
    ),
    summary: parseJsonObjectLenient(optStr(r, 'summaryMetrics', path), `summary of run ${name}`, logger),
    tags: strList(r, 'tags', path),
    group: optStr(r, 'group', path),
    jobType: optStr(r, 'jobType', path),
    sweepName: optStr(r, 'sweepName', path),
    username: user === null ? null : optStr(user, 'username', `${path}.user`),
    createdAt: str(r, 'createdAt', path),
    heartbeatAt: optStr(r, 'heartbeatAt', path),
    updatedAt: optStr(r, 'updatedAt', path),
  };
}

export async function fetchRun(
  ctx: FetchContext,
  entity: string,
  project: string,
  runName: string,
  signal?: AbortSignal,
): Promise<RunRecord | null> {
  const data = await ctx.transport.query(RUN, { entity, project, run: runName }, signal);
  const r = dig(data, 'project', 'run');
  return r === null ? null : mapRun(asObj(r, 'project.run'), 'project.run', ctx.logger);
}

/** Page sizes of the runs listing and of the listings asked inline for each run. */
export interface RunsListingSizes {
  /** runs per page */
  runs: number;
  /** files per run, inline */
  files: number;
  /** input and output artifacts per run, inline */
  artifacts: number;
}

/**
 * Connection edges one response may carry before W&B refuses the query as too expensive. The real
 * limit is not published; the fake server enforces this one (test/fake-wandb/page-weight.ts).
 */
export const RESPONSE_NODE_BUDGET = 5000;

/** Most edges a runs page can hold: every run with full inline file and artifact pages. */
export function runsPageNodes(s: RunsListingSizes): number {
  return s.runs * (1 + s.files + 2 * s.artifacts);
}

/**
 * Shrinks inline pages (artifacts to at most a quarter of a run's share, files to the rest) so that
 * even a project whose every run has many files stays within `budget`; runs per page are kept.
 */
export function fitRunsPage(s: RunsListingSizes, budget: number): RunsListingSizes {
  const runs = Math.max(1, Math.min(s.runs, budget));
  const perRun = Math.floor(budget / runs) - 1;
  const artifacts = Math.min(s.artifacts, Math.floor(perRun / 4));
  return { runs, files: Math.min(s.files, perRun - 2 * artifacts), artifacts };
}

/** 100 runs a page (fewest round trips for `ls runs/`), each with 29 files and 10+10 artifacts inline. */
export const RUNS_LISTING_DEFAULTS: RunsListingSizes = { runs: 100, files: 29, artifacts: 10 };

/**
 * The first page of a connection nested in a run node. Malformed edges are skipped like paginate
 * does; a malformed or missing connection gives null (the per-run listing is then fetched as usual)
 * rather than hiding the run.
 */
function inlinePage<T>(
  node: Obj,
  field: string,
  path: string,
  logger: Logger,
  mapEdge: (edge: Obj, path: string) => T | null,
): InlinePage<T> | null {
  const cp = `${path}.${field}`;
  try {
    const conn = optObj(node, field, path);
    if (conn === null) return null;
    const complete = !bool(reqObj(conn, 'pageInfo', cp), 'hasNextPage', `${cp}.pageInfo`);
    const items: T[] = [];
    for (const [i, e] of arr(conn, 'edges', cp).entries()) {
      const ep = `${cp}.edges[${i}]`;
      try {
        const rec = mapEdge(asObj(e, ep), ep);
        if (rec !== null) items.push(rec);
      } catch (err) {
        if (!(err instanceof PermanentError)) throw err;
        logger.warn('skipping malformed record', { operation: PROJECT_RUNS.name, path: ep, error: err });
      }
    }
    return { items, complete };
  } catch (err) {
    if (!(err instanceof PermanentError)) throw err;
    logger.warn('ignoring a malformed inline listing', {
      operation: PROJECT_RUNS.name,
      path: cp,
      error: err,
    });
    return null;
  }
}

export function mapListedRun(
  node: Obj,
  path: string,
  entity: string,
  project: string,
  logger: Logger,
): ListedRun {
  return {
    record: mapRun(node, path, logger),
    files: inlinePage(node, 'files', path, logger, (edge, ep) => {
      const f = optObj(edge, 'node', ep);
      return f === null ? null : mapRunFile(f, `${ep}.node`);
    }),
    inputArtifacts: inlinePage(node, 'inputArtifacts', path, logger, (edge, ep) =>
      mapRunArtifactEdge(edge, ep, 'input', entity, project, logger),
    ),
    outputArtifacts: inlinePage(node, 'outputArtifacts', path, logger, (edge, ep) =>
      mapRunArtifactEdge(edge, ep, 'output', entity, project, logger),
    ),
  };
}

export function listRuns(
  ctx: FetchContext,
  entity: string,
  project: string,
  sizes: RunsListingSizes,
  signal?: AbortSignal,
): AsyncIterable<ListedRun[]> {
  return paginate({
    ...ctx,
    pageSize: sizes.runs,
    op: PROJECT_RUNS,
    variables: { entity, project, files: sizes.files, artifacts: sizes.artifacts },
    ...(signal ? { signal } : {}),
    parentLabel: `project ${entity}/${project}`,
    connection: (data) => dig(data, 'project', 'runs'),
    mapEdge: (edge, path) => {
      const node = optObj(edge, 'node', path);
      return node === null ? null : mapListedRun(node, `${path}.node`, entity, project, ctx.logger);
    },
  });
}
