import { AbortedError } from '../core/errors.js';
import { linkedController } from './abort.js';
import { ForbiddenError, RegistryDownloadDeniedError } from './errors.js';
import type { FetchContext } from './fetch-context.js';
import type { FileUrls } from './fallback-url.js';
import { fetchSignedUrl, fileUrlsOf } from './files.js';
import { dig, paginate } from './paginate.js';
import { ARTIFACT_FILE_URLS, MEMBERSHIP_FILE_URLS, RUN_FILE_URLS } from './queries/files.js';
import type { GqlOperation } from './queries/operation.js';
import type { Obj } from './shape.js';
import { optObj, str } from './shape.js';
import type { SignedUrlCache } from './signed-urls.js';
import type { FileLocator, MembershipScope } from './types.js';

/** What W&B answers per file-URL request at most (the SDK and wandb-core use 5000). */
export const FILE_URL_BATCH = 5000;
/** How long an open waits to learn whether a registry role allows the download. */
const ADMIT_WAIT_MS = 10_000;
/** A group load stops after this many files; files beyond it are asked for one by one. */
const MAX_GROUP_FILES = 50_000;

export function locatorKey(locator: FileLocator): string {
  return locator.kind === 'run-file'
    ? JSON.stringify(['run-file', locator.entity, locator.project, locator.run, locator.name])
    : JSON.stringify(['artifact-file', locator.artifactId, locator.path]);
}

interface GroupQuery {
  key: string;
  op: GqlOperation;
  variables: Record<string, unknown>;
  pageSize: number;
  connection: (data: Obj) => unknown;
  fileKey: (name: string) => string;
}

/**
 * Signed URLs come in bulk, never one GraphQL request per file (that is how a client gets
 * rate-limited): run files from their listing, artifact files all names of a version per request
 * through the membership of the collection being browsed. A file whose URL is not known loads its
 * whole group (run / version) once, shared by every concurrent miss; only a file the group does not
 * return is asked for alone. URLs are kept until storage rejects them or their TTL passes.
 */
export class FileUrlBook {
  private readonly loads = new Map<string, Promise<Map<string, FileUrls>>>();

  constructor(
    private readonly ctx: FetchContext,
    private readonly cache: SignedUrlCache,
  ) {}

  remember(locator: FileLocator, urls: FileUrls): void {
    this.cache.put(locatorKey(locator), urls);
  }

  get(locator: FileLocator, label: string, signal?: AbortSignal): Promise<FileUrls> {
    const key = locatorKey(locator);
    return this.cache.get(key, () => this.resolve(locator, key, label), signal);
  }

  /**
   * See WandbApi.admitDownload: only files browsed through a registry collection are asked about,
   * and for at most ADMIT_WAIT_MS: a slow W&B must not fail the open of a file the cache holds.
   */
  async admit(locator: FileLocator, label: string, signal?: AbortSignal): Promise<void> {
    if (locator.kind !== 'artifact-file' || !locator.via || !isRegistryScope(locator.via)) return;
    const bound = linkedController(signal, AbortSignal.timeout(ADMIT_WAIT_MS));
    try {
      await this.get(locator, label, bound.controller.signal);
    } catch (err) {
      if (err instanceof RegistryDownloadDeniedError) throw err;
      if (err instanceof AbortedError && signal?.aborted) throw err;
      this.ctx.logger.debug('registry access not checked', { file: label, error: err });
    } finally {
      bound.dispose();
    }
  }

  invalidate(locator: FileLocator, directUrl: string): Promise<void> {
    return this.cache.invalidate(locatorKey(locator), directUrl);
  }

  private async resolve(locator: FileLocator, key: string, label: string): Promise<FileUrls> {
    const group = groupQuery(locator, this.ctx.pageSize);
    try {
      const hit = (await this.load(group)).get(key);
      if (hit) return hit;
    } catch (err) {
      if (err instanceof AbortedError) throw err;
      // Refused through the collection being browsed: asking by artifact id would use the source
      // project's rights to get around the collection's (a registry role), so the refusal stands.
      if (err instanceof ForbiddenError && locator.kind === 'artifact-file' && locator.via) {
        throw refusedThrough(locator.via, err);
      }
      // e.g. the membership is gone: the file may still be reachable by its own query
      this.ctx.logger.debug('file URL batch failed, asking for one file', { file: label, error: err });
    }
    return fetchSignedUrl(this.ctx, locator, label);
  }

  private load(g: GroupQuery): Promise<Map<string, FileUrls>> {
    let p = this.loads.get(g.key);
    if (!p) {
      p = this.fetchGroup(g).finally(() => this.loads.delete(g.key));
      this.loads.set(g.key, p);
    }
    return p;
  }

  private async fetchGroup(g: GroupQuery): Promise<Map<string, FileUrls>> {
    const out = new Map<string, FileUrls>();
    const pages = paginate({
      transport: this.ctx.transport,
      logger: this.ctx.logger,
      op: g.op,
      variables: g.variables,
      pageSize: g.pageSize,
      parentLabel: g.key,
      connection: g.connection,
      mapEdge: (edge, path) => {
        const node = optObj(edge, 'node', path);
        return node === null ? null : ([str(node, 'name', path), fileUrlsOf(node, path)] as const);
      },
    });
    for await (const page of pages) {
      for (const [name, urls] of page) {
        const key = g.fileKey(name);
        out.set(key, urls);
        this.cache.put(key, urls);
      }
      if (out.size >= MAX_GROUP_FILES) break;
    }
    return out;
  }
}

/** W&B Registry collections live in projects named so (wandb-api.md §12b). */
export const REGISTRY_PROJECT_PREFIX = 'wandb-registry-';

export function isRegistryScope(via: MembershipScope): boolean {
  return via.project.startsWith(REGISTRY_PROJECT_PREFIX);
}

function refusedThrough(via: MembershipScope, err: ForbiddenError): Error {
  if (!isRegistryScope(via)) return err;
  const name = `${via.entity}/${via.project}/${via.collection}:${via.version}`;
  return new RegistryDownloadDeniedError(name, { cause: err });
}

function groupQuery(locator: FileLocator, listingPageSize: number): GroupQuery {
  if (locator.kind === 'run-file') {
    const { entity, project, run } = locator;
    return {
      key: JSON.stringify(['run', entity, project, run]),
      op: RUN_FILE_URLS,
      variables: { entity, project, run },
      // run file pages follow the listing page size (W&B's cap for run files is not known to be 5000)
      pageSize: listingPageSize,
      connection: (data) => dig(data, 'project', 'run', 'files'),
      fileKey: (name) => locatorKey({ ...locator, name }),
    };
  }
  const fileKey = (path: string): string =>
    locatorKey({ kind: 'artifact-file', artifactId: locator.artifactId, path });
  if (locator.via) {
    const { entity, project, collection, version } = locator.via;
    return {
      key: JSON.stringify(['membership', entity, project, collection, version]),
      op: MEMBERSHIP_FILE_URLS,
      variables: { entity, project, collection, alias: version },
      pageSize: FILE_URL_BATCH,
      connection: (data) => dig(data, 'project', 'artifactCollection', 'artifactMembership', 'files'),
      fileKey,
    };
  }
  return {
    key: JSON.stringify(['artifact', locator.artifactId]),
    op: ARTIFACT_FILE_URLS,
    variables: { id: locator.artifactId },
    pageSize: FILE_URL_BATCH,
    connection: (data) => dig(data, 'artifact', 'files'),
    fileKey,
  };
}
