/** Relay pagination over an indexable list, with graphql-relay style offset cursors. */
import { GraphQLError } from 'graphql';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

const PREFIX = 'arrayconnection:';

export function encodeCursor(index: number): string {
  return Buffer.from(`${PREFIX}${index}`, 'utf8').toString('base64');
}

/** Index encoded in a cursor; a malformed cursor is a client bug, so it is an error, not page 1. */
export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  const n = text.startsWith(PREFIX) ? Number(text.slice(PREFIX.length)) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new GraphQLError(`invalid cursor: ${cursor}`);
  return n;
}

export interface Page {
  start: number;
  end: number;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

/** Window [start, end) of a list of `total` items; page sizes are clamped to maxPageSize like a real server. */
export function pageWindow(total: number, args: PageArgs, maxPageSize: number): Page {
  for (const k of ['first', 'last'] as const) {
    const v = args[k];
    if (v !== undefined && v !== null && v < 0)
      throw new GraphQLError(`Argument "${k}" must be a non-negative integer`);
  }
  let start = args.after ? decodeCursor(args.after) + 1 : 0;
  let end = args.before ? decodeCursor(args.before) : total;
  start = Math.min(start, total);
  end = Math.max(start, Math.min(end, total));
  const first = args.first ?? null;
  const last = args.last ?? null;
  if (first !== null) end = Math.min(end, start + Math.min(first, maxPageSize));
  if (last !== null) start = Math.max(start, end - Math.min(last, maxPageSize));
  if (first === null && last === null) end = Math.min(end, start + maxPageSize);
  return { start, end, hasNextPage: end < total, hasPreviousPage: start > 0 };
}

export interface Edge<T> {
  cursor: string;
  item: T;
  index: number;
}

export interface Connection<E> {
  edges: E[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: number;
}

/** Builds a connection; `edge` turns an item into the GraphQL edge object (cursor + node + extras). */
export function connection<T, E>(
  total: number,
  at: (index: number) => T | undefined,
  args: PageArgs,
  maxPageSize: number,
  edge: (e: Edge<T>) => E,
): Connection<E> {
  const w = pageWindow(total, args, maxPageSize);
  const edges: E[] = [];
  for (let i = w.start; i < w.end; i++) {
    const item = at(i);
    if (item !== undefined) edges.push(edge({ cursor: encodeCursor(i), item, index: i }));
  }
  return {
    edges,
    pageInfo: {
      hasNextPage: w.hasNextPage,
      hasPreviousPage: w.hasPreviousPage,
      startCursor: w.end > w.start ? encodeCursor(w.start) : null,
      endCursor: w.end > w.start ? encodeCursor(w.end - 1) : null,
    },
    totalCount: total,
  };
}
