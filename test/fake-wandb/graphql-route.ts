/** POST /graphql: W&B auth, graphql-js execution against the repo's SDL subset, per-operation counters. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { buildSchema, graphql, Kind, parse, type GraphQLSchema } from 'graphql';
import { packageRoot } from '../../src/core/package-root.js';
import { bump, type Counters } from './counters.js';
import { weigh, type PageWeight, type PageWeightStats } from './page-weight.js';
import { Resolvers, type ResolverContext } from './resolvers.js';

let schemaMemo: GraphQLSchema | undefined;

export function schemaPath(): string {
  return join(packageRoot(), 'test', 'fake-wandb', 'schema.graphql');
}

export function fakeSchema(): GraphQLSchema {
  schemaMemo ??= buildSchema(readFileSync(schemaPath(), 'utf8'));
  return schemaMemo;
}

const MAX_BODY_BYTES = 16 << 20;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** True when the request carries HTTP Basic `api:<apiKey>`, which is how W&B clients authenticate. */
export function isAuthorized(req: IncomingMessage, apiKey: string): boolean {
  const h = req.headers.authorization;
  if (h === undefined || !/^Basic /i.test(h)) return false;
  return Buffer.from(h.slice(6).trim(), 'base64').toString('utf8') === `api:${apiKey}`;
}

export function sendUnauthorized(res: ServerResponse): void {
  sendJson(
    res,
    401,
    { errors: [{ message: 'Unauthorized: the API key is missing or invalid' }] },
    {
      'WWW-Authenticate': 'Basic realm="wandb"',
    },
  );
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > MAX_BODY_BYTES) return null;
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function operationNameOf(query: string, requested: unknown): string {
  if (typeof requested === 'string' && requested !== '') return requested;
  try {
    for (const def of parse(query).definitions) {
      if (def.kind === Kind.OPERATION_DEFINITION) return def.name?.value ?? '(anonymous)';
    }
  } catch {
    return '(unparseable)';
  }
  return '(anonymous)';
}

export interface GraphqlDeps {
  apiKey: string;
  counters: Counters;
  context: () => ResolverContext;
  /** page weight knobs (read per request) and what they did */
  pageWeight: () => PageWeight;
  pageWeightStats: PageWeightStats;
}

export async function handleGraphql(
  req: IncomingMessage,
  res: ServerResponse,
  d: GraphqlDeps,
): Promise<void> {
  if (req.method !== 'POST')
    return sendJson(res, 405, { errors: [{ message: 'POST only' }] }, { Allow: 'POST' });
  if (!isAuthorized(req, d.apiKey)) return sendUnauthorized(res);
  const raw = await readBody(req);
  if (raw === null) return sendJson(res, 413, { errors: [{ message: 'request body too large' }] });
  let body: { query?: unknown; variables?: unknown; operationName?: unknown };
  try {
    body = JSON.parse(raw.toString('utf8')) as typeof body;
  } catch {
    return sendJson(res, 400, { errors: [{ message: 'request body is not JSON' }] });
  }
  if (body === null || typeof body !== 'object' || typeof body.query !== 'string') {
    return sendJson(res, 400, { errors: [{ message: 'missing "query"' }] });
  }
  bump(d.counters.graphqlOps, operationNameOf(body.query, body.operationName));
  const ctx = d.context();
  const result = await graphql({
    schema: fakeSchema(),
    source: body.query,
    rootValue: new Resolvers(ctx).root(),
    contextValue: ctx,
    variableValues:
      body.variables !== null && typeof body.variables === 'object'
        ? (body.variables as Record<string, unknown>)
        : {},
    operationName:
      typeof body.operationName === 'string' && body.operationName !== '' ? body.operationName : null,
  });
  const weighed = weigh(result, d.pageWeight(), d.pageWeightStats);
  if (weighed.delayMs > 0) await sleep(weighed.delayMs);
  sendJson(res, 200, weighed.result);
}
