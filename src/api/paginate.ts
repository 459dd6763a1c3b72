import type { Logger } from '../core/log.js';
import { NotFoundError, PermanentError } from './errors.js';
import type { GqlOperation } from './queries/operation.js';
import type { Obj } from './shape.js';
import { arr, asObj, bool, optStr, reqObj } from './shape.js';
import type { GraphqlTransport } from './transport.js';

export interface PaginateOptions<T> {
  transport: GraphqlTransport;
  op: GqlOperation;
  variables: Record<string, unknown>;
  pageSize: number;
  signal?: AbortSignal;
  logger: Logger;
  /** the connection object inside `data`, or null when its parent (project, run, ...) is missing */
  connection: (data: Obj) => unknown;
  /** what is missing when `connection` returns null, for the NotFoundError */
  parentLabel: string;
  /** one edge to one record; null skips the edge (e.g. a null node) */
  mapEdge: (edge: Obj, path: string) => T | null;
}

/**
 * Relay pagination: first/after until hasNextPage is false, one yielded page per request. No cap on
 * the total. A record that fails to map is logged and skipped so one bad row cannot hide a listing;
 * a cursor that does not advance is an error rather than an endless loop.
 */
export async function* paginate<T>(o: PaginateOptions<T>): AsyncGenerator<T[]> {
  let after: string | null = null;
  for (let page = 0; ; page++) {
    const data = await o.transport.query(o.op, { ...o.variables, first: o.pageSize, after }, o.signal);
    const raw = o.connection(data);
    if (raw === null || raw === undefined) throw new NotFoundError(`${o.parentLabel} not found`);
    const path = `${o.op.name}[page ${page}]`;
    const conn = asObj(raw, path);
    const edges = arr(conn, 'edges', path);
    const pageInfo = reqObj(conn, 'pageInfo', path);
    const out: T[] = [];
    edges.forEach((edge, i) => {
      const edgePath = `${path}.edges[${i}]`;
      try {
        const rec = o.mapEdge(asObj(edge, edgePath), edgePath);
        if (rec !== null) out.push(rec);
      } catch (err) {
        if (!(err instanceof PermanentError)) throw err;
        o.logger.warn('skipping malformed record', { operation: o.op.name, path: edgePath, error: err });
      }
    });
    yield out;
    if (!bool(pageInfo, 'hasNextPage', `${path}.pageInfo`)) return;
    const next = optStr(pageInfo, 'endCursor', `${path}.pageInfo`);
    if (next === null || next === after) {
      throw new PermanentError(`${o.op.name}: W&B reported more pages but the cursor did not advance`);
    }
    after = next;
  }
}

/** Follows a chain of nullable objects (project → run → files); null as soon as one is missing. */
export function dig(data: Obj, ...keys: string[]): unknown {
  let cur: unknown = data;
  let path = 'data';
  for (const k of keys) {
    if (cur === null || cur === undefined) return null;
    cur = asObj(cur, path)[k];
    path = `${path}.${k}`;
  }
  return cur ?? null;
}
