/**
 * Page weight: a response costs server time per node it returns, and past a cap the server refuses
 * the query as too expensive. Nodes are connection edges at any depth (a runs page of 50 runs with
 * 100 files each is 50 + 5,000 nodes). The real cap is not published [U]: `maxNodesPerResponse` is a
 * knob, and a client that stays under it for the worst case of what it asks (first x nested first)
 * is safe whatever the project looks like.
 */
import { GraphQLError, type ExecutionResult } from 'graphql';

export interface PageWeight {
  /** server time added per returned node, in ms (default 0.01: 10 µs) */
  perNodeMs: number;
  /** a response with more nodes than this becomes a "too expensive" GraphQL error; null = no cap */
  maxNodesPerResponse: number | null;
}

export interface PageWeightStats {
  responses: number;
  /** responses refused because of the cap */
  capHits: number;
  /** most nodes any response had (refused ones included) */
  largestResponse: number;
}

export const DEFAULT_MAX_NODES_PER_RESPONSE = 5000;
export const DEFAULT_PER_NODE_MS = 0.01;

export function defaultPageWeight(): PageWeight {
  return { perNodeMs: DEFAULT_PER_NODE_MS, maxNodesPerResponse: DEFAULT_MAX_NODES_PER_RESPONSE };
}

export function emptyPageWeightStats(): PageWeightStats {
  return { responses: 0, capHits: 0, largestResponse: 0 };
}

/** Connection edges anywhere in `value`. */
export function countNodes(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countNodes(v), 0);
  if (value === null || typeof value !== 'object') return 0;
  let n = 0;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'edges' && Array.isArray(v)) n += v.length;
    n += countNodes(v);
  }
  return n;
}

/** The response to send and how long the server takes over it. */
export function weigh(
  result: ExecutionResult,
  w: PageWeight,
  stats: PageWeightStats,
): { result: ExecutionResult; delayMs: number } {
  const nodes = countNodes(result.data);
  stats.responses++;
  stats.largestResponse = Math.max(stats.largestResponse, nodes);
  const cap = w.maxNodesPerResponse;
  if (cap !== null && nodes > cap) {
    stats.capHits++;
    const message =
      `Query too expensive: the response would hold ${nodes} nodes, more than the ${cap} allowed; ` +
      'ask for smaller pages';
    return { result: { data: null, errors: [new GraphQLError(message)] }, delayMs: cap * w.perNodeMs };
  }
  return { result, delayMs: nodes * w.perNodeMs };
}
