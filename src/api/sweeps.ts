import type { FetchContext } from './fetch-context.js';
import { dig, paginate } from './paginate.js';
import { PROJECT_SWEEPS, SWEEP_RUNS } from './queries/sweeps.js';
import type { Obj } from './shape.js';
import { num, optNum, optObj, optStr, reqObj, str } from './shape.js';
import type { SweepRecord } from './types.js';

export function mapSweep(s: Obj, path: string): SweepRecord {
  return {
    id: str(s, 'id', path),
    name: str(s, 'name', path),
    displayName: optStr(s, 'displayName', path),
    state: str(s, 'state', path).toUpperCase(),
    method: str(s, 'method', path),
    config: str(s, 'config', path),
    runCount: num(s, 'runCount', path),
    bestLoss: optNum(s, 'bestLoss', path),
    createdAt: str(s, 'createdAt', path),
    updatedAt: optStr(s, 'updatedAt', path),
  };
}

export function listSweeps(
  ctx: FetchContext,
  entity: string,
  project: string,
  signal?: AbortSignal,
): AsyncIterable<SweepRecord[]> {
  return paginate({
    ...ctx,
    op: PROJECT_SWEEPS,
    variables: { entity, project },
    ...(signal ? { signal } : {}),
    parentLabel: `project ${entity}/${project}`,
    connection: (data) => dig(data, 'project', 'sweeps'),
    mapEdge: (edge, path) => mapSweep(reqObj(edge, 'node', path), `${path}.node`),
  });
}

export function listSweepRunNames(
  ctx: FetchContext,
  entity: string,
  project: string,
  sweepName: string,
  signal?: AbortSignal,
): AsyncIterable<string[]> {
  return paginate({
    ...ctx,
    op: SWEEP_RUNS,
    variables: { entity, project, filters: JSON.stringify({ $and: [{ sweep: sweepName }] }) },
    ...(signal ? { signal } : {}),
    parentLabel: `project ${entity}/${project}`,
    connection: (data) => dig(data, 'project', 'runs'),
    mapEdge: (edge, path) => {
      const node = optObj(edge, 'node', path);
      return node === null ? null : str(node, 'name', `${path}.node`);
    },
  });
}
