/**
 * ArtifactCollection.artifacts(filters:): the real server lists versions in every state (PENDING
 * while an upload is in progress, DELETED after a delete) unless the client filters, as the SDK
 * does with {"state": "COMMITTED"} (apis/public/artifacts.py). Supported: Mongo-style conditions on
 * `state`, plain or with $eq/$ne/$in/$nin, combined with $and/$or. Anything else is an error, so an
 * unsupported filter is noticed instead of silently matching everything.
 */
import { GraphQLError } from 'graphql';
import type { ArtifactFx } from './fixture-types.js';

function matchState(state: string, cond: unknown): boolean {
  if (typeof cond === 'string') return state === cond;
  if (cond === null || typeof cond !== 'object' || Array.isArray(cond))
    throw new GraphQLError('artifact filter: state condition must be a string or an operator object');
  return Object.entries(cond as Record<string, unknown>).every(([op, v]) => {
    switch (op) {
      case '$eq':
        return state === v;
      case '$ne':
        return state !== v;
      case '$in':
        return Array.isArray(v) && v.includes(state);
      case '$nin':
        return Array.isArray(v) && !v.includes(state);
      default:
        throw new GraphQLError(`unsupported artifact filter operator: ${op}`);
    }
  });
}

export function matchArtifact(art: ArtifactFx, filter: unknown): boolean {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter))
    throw new GraphQLError('artifact filters must be a JSON object');
  return Object.entries(filter as Record<string, unknown>).every(([k, v]) => {
    if (k === '$and') return Array.isArray(v) && v.every((f) => matchArtifact(art, f));
    if (k === '$or') return Array.isArray(v) && v.some((f) => matchArtifact(art, f));
    if (k === 'state') return matchState(art.state, v);
    throw new GraphQLError(`unsupported artifact filter key: ${k}`);
  });
}

/** Parsed filters, or null for none ({} and '' mean none). */
export function parseArtifactFilters(filters: unknown): unknown {
  if (typeof filters !== 'string' || filters.trim() === '') return null;
  let f: unknown;
  try {
    f = JSON.parse(filters);
  } catch {
    throw new GraphQLError('filters is not valid JSON');
  }
  return f !== null && typeof f === 'object' && Object.keys(f).length === 0 ? null : f;
}
