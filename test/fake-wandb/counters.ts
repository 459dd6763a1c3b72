/** What tests observe: requests per route and operation, bytes and ranges served, concurrency, statuses. */
export type Route = 'graphql' | 'storage' | 'files-redirect' | 'artifacts-v2' | 'external' | 'other';

export interface Counters {
  requests: Record<string, number>;
  graphqlOps: Record<string, number>;
  /** body bytes written by storage responses */
  storageBytes: number;
  /** storage responses with status 206 */
  storageRanges: number;
  /** storage requests per blob id (a blob cache test asserts a warm read fetched nothing) */
  storageByBlob: Record<string, number>;
  /** body bytes sent per blob, over signed URLs and the authenticated fallbacks alike */
  bytesByBlob: Record<string, number>;
  /** requests to the reference stand-ins per object path ('web/x', '<bucket>/<key>'), see external.ts */
  externalByPath: Record<string, number>;
  inFlight: { graphql: number; storage: number };
  maxInFlight: { graphql: number; storage: number };
  /** TCP connections accepted (a client reusing keep-alive sockets opens few) */
  connections: number;
  /** HTTP status of every response by route-independent code, plus 'reset' for dropped connections */
  statusCounts: Record<string, number>;
}

export function emptyCounters(): Counters {
  return {
    requests: {},
    graphqlOps: {},
    storageBytes: 0,
    storageRanges: 0,
    storageByBlob: {},
    bytesByBlob: {},
    externalByPath: {},
    inFlight: { graphql: 0, storage: 0 },
    maxInFlight: { graphql: 0, storage: 0 },
    connections: 0,
    statusCounts: {},
  };
}

/** Resets in place so references tests hold stay valid; in-flight requests stay counted. */
export function resetCounters(c: Counters): void {
  const fresh = emptyCounters();
  c.requests = fresh.requests;
  c.graphqlOps = fresh.graphqlOps;
  c.storageBytes = 0;
  c.storageRanges = 0;
  c.storageByBlob = fresh.storageByBlob;
  c.bytesByBlob = fresh.bytesByBlob;
  c.externalByPath = fresh.externalByPath;
  c.statusCounts = fresh.statusCounts;
  c.maxInFlight.graphql = c.inFlight.graphql;
  c.maxInFlight.storage = c.inFlight.storage;
}

export function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}
