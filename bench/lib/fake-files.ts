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

/** A fresh signed URL (directUrl) for a run file, asked through GraphQL like any client would. */
export async function signedUrl(fake: FakeWandb, f: FixtureFile): Promise<string> {
  const query = `query BenchFileUrl($entity: String!, $project: String!, $run: String!, $names: [String]) {
    project(name: $project, entityName: $entity) { run(name: $run) {
      files(first: 1, names: $names) { edges { node { name sizeBytes directUrl } } } } } }`;
  const res = await fetch(new URL('/graphql', fake.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`api:${fake.apiKey}`).toString('base64')}`,
    },
    body: JSON.stringify({
      query,
      operationName: 'BenchFileUrl',
      variables: { entity: f.entity, project: f.project, run: f.run, names: [f.file] },
    }),
  });
  if (!res.ok) throw new Error(`fake GraphQL answered ${res.status}`);
  const body = (await res.json()) as {
    data?: { project?: { run?: { files?: { edges?: { node?: { directUrl?: string } }[] } } } };
  };
  const url = body.data?.project?.run?.files?.edges?.[0]?.node?.directUrl;
  if (!url) throw new Error(`no directUrl for ${f.file}`);
  return new URL(url, fake.url).href;
}

/** Total GraphQL requests the fake has served so far. */
export function graphqlRequests(fake: FakeWandb): number {
  return fake.counters.requests.graphql ?? 0;
}
