import type { Logger } from '../core/log.js';
import type { FetchContext } from './fetch-context.js';
import { parseJsonObjectLenient, unwrapRunConfig } from './json-fields.js';
import { dig, paginate } from './paginate.js';
import { PROJECT_RUNS, RUN } from './queries/runs.js';
import type { Obj } from './shape.js';
import { asObj, optObj, optStr, str, strList } from './shape.js';
import type { RunRecord } from './types.js';

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

export function listRuns(
  ctx: FetchContext,
  entity: string,
  project: string,
  signal?: AbortSignal,
): AsyncIterable<RunRecord[]> {
  return paginate({
    ...ctx,
    op: PROJECT_RUNS,
    variables: { entity, project },
    ...(signal ? { signal } : {}),
    parentLabel: `project ${entity}/${project}`,
    connection: (data) => dig(data, 'project', 'runs'),
    mapEdge: (edge, path) => {
      const node = optObj(edge, 'node', path);
      return node === null ? null : mapRun(node, `${path}.node`, ctx.logger);
    },
  });
}
