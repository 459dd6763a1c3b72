/**
 * Finding the big files of a fake-server fixture and their signed URLs, so curl, rclone and wandbfs
 * read the same bytes from the same server.
 */
import type { FakeWandb } from './wandbfs.js';

export interface FixtureFile {
  entity: string;
  project: string;
  run: string;
  file: string;
  sizeBytes: number;
}

/** Every run file of at least `minBytes`, looking at no more than a few hundred runs per project. */
export function bigRunFiles(fake: FakeWandb, minBytes: number): FixtureFile[] {
  const out: FixtureFile[] = [];
  for (const ent of fake.fixture.entities) {
    for (const proj of ent.projects) {
      for (let r = 0; r < Math.min(proj.runs.length, 300); r++) {
        const run = proj.runs.at(r);
        if (!run) continue;
        for (let i = 0; i < Math.min(run.files.length, 1000); i++) {
          const f = run.files.at(i);
          if (f && f.sizeBytes >= minBytes) {
            out.push({
              entity: ent.name,
              project: proj.name,
              run: run.name,
              file: f.name,
              sizeBytes: f.sizeBytes,
            });
          }
        }
      }
    }
  }
  return out.sort((a, b) => a.sizeBytes - b.sizeBytes);
}

/** One run file's GraphQL node with the asked-for scalar fields, asked like any client would. */
async function runFileNode(
  fake: FakeWandb,
  f: FixtureFile,
  operationName: string,
  fields: string,
): Promise<Record<string, unknown>> {
  const query = `query ${operationName}($entity: String!, $project: String!, $run: String!, $names: [String]) {
    project(name: $project, entityName: $entity) { run(name: $run) {
      files(first: 1, names: $names) { edges { node { name ${fields} } } } } } }`;
  const res = await fetch(new URL('/graphql', fake.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`api:${fake.apiKey}`).toString('base64')}`,
    },
    body: JSON.stringify({
      query,
      operationName,
      variables: { entity: f.entity, project: f.project, run: f.run, names: [f.file] },
    }),
  });
  if (!res.ok) throw new Error(`fake GraphQL answered ${res.status}`);
  const body = (await res.json()) as {
    data?: { project?: { run?: { files?: { edges?: { node?: Record<string, unknown> }[] } } } };
  };
  const node = body.data?.project?.run?.files?.edges?.[0]?.node;
  if (!node) throw new Error(`no file node for ${f.file}`);
  return node;
}

/** A fresh signed URL (directUrl) for a run file. */
export async function signedUrl(fake: FakeWandb, f: FixtureFile): Promise<string> {
  const url = (await runFileNode(fake, f, 'BenchFileUrl', 'sizeBytes directUrl')).directUrl;
  if (typeof url !== 'string' || !url) throw new Error(`no directUrl for ${f.file}`);
  return new URL(url, fake.url).href;
}

/** The file's MD5 (base64) as the fake's GraphQL reports it: what a cold read must verify. */
export async function fileMd5(fake: FakeWandb, f: FixtureFile): Promise<string> {
  const md5 = (await runFileNode(fake, f, 'BenchFileMd5', 'md5')).md5;
  if (typeof md5 !== 'string' || !md5) throw new Error(`no md5 for ${f.file}`);
  return md5;
}

/** Total GraphQL requests the fake has served so far. */
export function graphqlRequests(fake: FakeWandb): number {
  return fake.counters.requests.graphql ?? 0;
}
