import type { FetchContext } from './fetch-context.js';
import type { FileUrls } from './fallback-url.js';
import { NotFoundError } from './errors.js';
import { dig, paginate } from './paginate.js';
import { ARTIFACT_FILE_URL, RUN_FILE_URL, RUN_FILES } from './queries/files.js';
import type { Obj } from './shape.js';
import { arr, asObj, num, optObj, optStr, str } from './shape.js';
import type { FileLocator, RunFileRecord } from './types.js';

export function mapRunFile(f: Obj, path: string): RunFileRecord {
  return {
    name: str(f, 'name', path),
    sizeBytes: num(f, 'sizeBytes', path),
    md5: optStr(f, 'md5', path),
    updatedAt: optStr(f, 'updatedAt', path),
  };
}

/** Where a listing hands the signed URLs it carried (kept in memory only: they are credentials). */
export type UrlSink = (locator: FileLocator, urls: FileUrls) => void;

export function listRunFiles(
  ctx: FetchContext,
  entity: string,
  project: string,
  runName: string,
  signal?: AbortSignal,
  onUrls?: UrlSink,
): AsyncIterable<RunFileRecord[]> {
  return paginate({
    ...ctx,
    op: RUN_FILES,
    variables: { entity, project, run: runName },
    ...(signal ? { signal } : {}),
    parentLabel: `run ${entity}/${project}/${runName}`,
    connection: (data) => dig(data, 'project', 'run', 'files'),
    mapEdge: (edge, path) => {
      const node = optObj(edge, 'node', path);
      if (node === null) return null;
      const rec = mapRunFile(node, `${path}.node`);
      if (onUrls && typeof node.directUrl === 'string') {
        const locator: FileLocator = { kind: 'run-file', entity, project, run: runName, name: rec.name };
        onUrls(locator, fileUrlsOf(node, `${path}.node`));
      }
      return rec;
    },
  });
}

/**
 * Asks W&B for a fresh signed URL (and the authenticated fallback URL) of one file. The `names` filter should return exactly that file;
 * we still match the name so a server that ignores the filter can never make us serve another file.
 */
export async function fetchSignedUrl(
  ctx: FetchContext,
  locator: FileLocator,
  label: string,
  signal?: AbortSignal,
): Promise<FileUrls> {
  let conn: unknown;
  let wanted: string;
  if (locator.kind === 'run-file') {
    wanted = locator.name;
    const data = await ctx.transport.query(
      RUN_FILE_URL,
      { entity: locator.entity, project: locator.project, run: locator.run, names: [locator.name] },
      signal,
    );
    conn = dig(data, 'project', 'run', 'files');
  } else {
    wanted = locator.path;
    const data = await ctx.transport.query(
      ARTIFACT_FILE_URL,
      { id: locator.artifactId, names: [locator.path] },
      signal,
    );
    conn = dig(data, 'artifact', 'files');
  }
  if (conn !== null) {
    for (const [i, e] of arr(asObj(conn, 'files'), 'edges', 'files').entries()) {
      const node = optObj(asObj(e, `files.edges[${i}]`), 'node', `files.edges[${i}]`);
      if (node && str(node, 'name', 'file') === wanted) return fileUrlsOf(node, 'file');
    }
  }
  throw new NotFoundError(`file not found on W&B: ${label}`);
}

/** directUrl + url of a File node; a url that is not http(s) (a reference's URI) is no fallback. */
export function fileUrlsOf(node: Obj, path: string): FileUrls {
  const url = optStr(node, 'url', path);
  return {
    direct: str(node, 'directUrl', path),
    fallback: url !== null && /^https?:\/\//i.test(url) ? url : null,
  };
}
