/**
 * The subset of W&B's Mongo-style run filters and order strings that clients send:
 * {"state": "finished"}, {"$and": [{"sweep": "abc"}]}, {"$or": ...}, {"tags": {"$in": [...]}},
 * order "+created_at" / "-created_at" / "heartbeat_at" / "config.<k>.value" / "summary_metrics.<k>".
 */
import { GraphQLError } from 'graphql';
import type { RunFx } from './fixture-types.js';

function fieldValue(run: RunFx, key: string): unknown {
  switch (key) {
    case 'state':
      return run.state;
    case 'sweep':
    case 'sweepName':
      return run.sweepName;
    case 'name':
      return run.name;
    case 'displayName':
    case 'display_name':
      return run.displayName;
    case 'group':
      return run.group;
    case 'jobType':
    case 'job_type':
      return run.jobType;
    case 'tags':
      return run.tags;
    case 'createdAt':
    case 'created_at':
      return run.createdAt;
    case 'heartbeatAt':
    case 'heartbeat_at':
      return run.heartbeatAt;
    case 'username':
      return run.username;
  }
  const cfg = /^config\.([^.]+)(?:\.value)?$/.exec(key);
  if (cfg?.[1] !== undefined) return (run.config[cfg[1]] as { value?: unknown } | undefined)?.value;
  const sum = /^summary_metrics\.(.+)$/.exec(key);
  if (sum?.[1] !== undefined) return run.summary[sum[1]];
  throw new GraphQLError(`unsupported run filter/order key: ${key}`);
}

function equals(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(actual)) return actual.some((a) => equals(a, expected));
  return actual === expected;
}

function matchValue(actual: unknown, cond: unknown): boolean {
  if (cond === null || typeof cond !== 'object' || Array.isArray(cond)) return equals(actual, cond);
  return Object.entries(cond as Record<string, unknown>).every(([op, v]) => {
    switch (op) {
      case '$eq':
        return equals(actual, v);
      case '$ne':
        return !equals(actual, v);
      case '$in':
        return Array.isArray(v) && v.some((x) => equals(actual, x));
      case '$nin':
        return Array.isArray(v) && !v.some((x) => equals(actual, x));
      case '$regex':
        return typeof actual === 'string' && typeof v === 'string' && new RegExp(v).test(actual);
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte': {
        if (typeof actual !== typeof v || actual === null || actual === undefined) return false;
        const a = actual as number | string;
        const b = v as number | string;
        return op === '$gt' ? a > b : op === '$gte' ? a >= b : op === '$lt' ? a < b : a <= b;
      }
      default:
        throw new GraphQLError(`unsupported run filter operator: ${op}`);
    }
  });
}

export function matchRun(run: RunFx, filter: unknown): boolean {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    throw new GraphQLError('run filters must be a JSON object');
  }
  return Object.entries(filter as Record<string, unknown>).every(([k, v]) => {
    if (k === '$and') return Array.isArray(v) && v.every((f) => matchRun(run, f));
    if (k === '$or') return Array.isArray(v) && v.some((f) => matchRun(run, f));
    if (k === '$nor') return Array.isArray(v) && !v.some((f) => matchRun(run, f));
    return matchValue(fieldValue(run, k), v);
  });
}

export function parseFilters(filters: string | null | undefined): unknown {
  if (filters === null || filters === undefined || filters === '') return null;
  try {
    const f: unknown = JSON.parse(filters);
    return f !== null && typeof f === 'object' && Object.keys(f).length === 0 ? null : f;
  } catch {
    throw new GraphQLError('filters is not valid JSON');
  }
}

export interface RunOrder {
  key: string;
  desc: boolean;
}

/** null = no order given (the server then lists newest first, see run-order.ts) */
export function parseOrder(order: string | null | undefined): RunOrder | null {
  if (order === null || order === undefined || order === '') return null;
  const desc = order.startsWith('-');
  return { key: order.replace(/^[+-]/, ''), desc };
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

export function compareRuns(order: RunOrder): (a: RunFx, b: RunFx) => number {
  return (a, b) => {
    const c = compareValues(fieldValue(a, order.key), fieldValue(b, order.key));
    return order.desc ? -c : c;
  };
}
