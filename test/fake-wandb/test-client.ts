/** Tiny GraphQL/HTTP helpers for tests that talk to the fake server with fetch. */
import type { FakeWandb } from './server.js';

export function basicAuth(apiKey: string, user = 'api'): string {
  return 'Basic ' + Buffer.from(`${user}:${apiKey}`, 'utf8').toString('base64');
}

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  data: T | null;
  errors: { message: string }[] | undefined;
  headers: Headers;
}

export async function gql<T = Record<string, unknown>>(
  server: Pick<FakeWandb, 'url' | 'apiKey'>,
  query: string,
  variables: Record<string, unknown> = {},
  operationName?: string,
  authorization: string | null = basicAuth(server.apiKey),
): Promise<GqlResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== null) headers.authorization = authorization;
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables, operationName }),
  });
  const body = (await res.json()) as { data?: T | null; errors?: { message: string }[] };
  return { status: res.status, data: body.data ?? null, errors: body.errors, headers: res.headers };
}

/** Like gql() but throws on HTTP or GraphQL errors and returns `data`. */
export async function gqlData<T = Record<string, unknown>>(
  server: Pick<FakeWandb, 'url' | 'apiKey'>,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const r = await gql<T>(server, query, variables);
  if (r.status !== 200 || r.errors !== undefined || r.data === null) {
    throw new Error(`graphql failed: ${r.status} ${JSON.stringify(r.errors)}`);
  }
  return r.data;
}

/** Signed URL of a run file, fresh from the server. */
export async function runFileDirectUrl(
  server: Pick<FakeWandb, 'url' | 'apiKey'>,
  entity: string,
  project: string,
  run: string,
  name: string,
): Promise<{ directUrl: string; url: string; md5: string; sizeBytes: number }> {
  const d = await gqlData<{
    project: {
      run: {
        files: { edges: { node: { directUrl: string; url: string; md5: string; sizeBytes: number } }[] };
      };
    };
  }>(
    server,
    `query F($e: String!, $p: String!, $r: String!, $n: [String]) { project(name: $p, entityName: $e) {
      run(name: $r) { files(names: $n) { edges { node { directUrl url md5 sizeBytes } } } } } }`,
    { e: entity, p: project, r: run, n: [name] },
  );
  const node = d.project.run.files.edges[0]?.node;
  if (node === undefined) throw new Error(`no file ${name}`);
  return node;
}
