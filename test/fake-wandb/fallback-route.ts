/**
 * The authenticated download URLs a client falls back to when a signed URL fails, as the SDK does
 * (`wandb_storage_policy.py` load_file): `File.url` (`/files/...`) and, for artifact files, the
 * `/artifactsV2/<region>/<entity>/<project>/<collection>/<artifactId>/<birthArtifactID>/<hexmd5>/<name>`
 * handler. Both need W&B auth (no signature, so expiry never applies) and serve the same bytes,
 * with Range, through the storage faults.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlobContent } from './content.js';
import type { Counters } from './counters.js';
import type { StorageFaults } from './faults.js';
import type { ArtifactFx, ManifestEntryFx } from './fixture-types.js';
import { isAuthorized, sendJson, sendUnauthorized } from './graphql-route.js';
import { serveContent } from './storage-route.js';

export interface FallbackDeps {
  apiKey: string;
  counters: Counters;
  faults: () => StorageFaults;
  contentOf: (blobId: string) => BlobContent | undefined;
  artifact: (id: string) => ArtifactFx | undefined;
}

const V2_PREFIX = '/artifactsV2/';

/** File.url of a run file or a manifest: the blob id in the path, the name for humans. */
export function fileUrl(baseUrl: string, blobId: string, name: string): string {
  return `${baseUrl}/files/${blobId}?name=${encodeURIComponent(name)}`;
}

/** The artifactsV2 URL of a stored entry, built the way the SDK builds it (URL-quoted segments). */
export function artifactV2Url(baseUrl: string, art: ArtifactFx, e: ManifestEntryFx, hexMd5: string): string {
  const segs = [
    'default',
    art.entityName,
    art.projectName,
    art.sequenceName,
    art.id,
    e.birthArtifactId ?? art.id,
    hexMd5,
    e.path.split('/').pop() ?? e.path,
  ];
  return baseUrl + V2_PREFIX + segs.map(encodeURIComponent).join('/');
}

export function isFallbackPath(pathname: string): 'files-redirect' | 'artifacts-v2' | null {
  if (pathname.startsWith('/files/')) return 'files-redirect';
  if (pathname.startsWith(V2_PREFIX)) return 'artifacts-v2';
  return null;
}

export async function handleFallback(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  d: FallbackDeps,
): Promise<void> {
  if (!isAuthorized(req, d.apiKey)) return sendUnauthorized(res);
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'GET or HEAD' });
  const forced = d.faults().fallbackStatus;
  if (forced !== null) return sendJson(res, forced, { error: `fake-wandb: fallbackStatus ${forced}` });
  const blobId = url.pathname.startsWith(V2_PREFIX)
    ? await v2BlobId(url.pathname.slice(V2_PREFIX.length), d)
    : decodeURIComponent(url.pathname.slice('/files/'.length));
  const content = blobId === null ? undefined : d.contentOf(blobId);
  if (blobId === null || content === undefined) return sendJson(res, 404, { error: 'file not found' });
  await serveContent(req, res, blobId, content, d.faults(), d.counters);
}

/** The stored entry of artifact <artifactId> whose MD5 is <hexmd5>; null when there is none. */
async function v2BlobId(rest: string, d: FallbackDeps): Promise<string | null> {
  const segs = rest.split('/').map((s) => decodeURIComponent(s));
  if (segs.length !== 8) return null;
  const [, , , , artifactId = '', , hexMd5 = ''] = segs;
  const art = d.artifact(artifactId);
  if (art === undefined) return null;
  for (const e of art.entries) {
    if (e.blobId === null) continue;
    const c = d.contentOf(e.blobId);
    if (c && Buffer.from(await c.md5B64Async(), 'base64').toString('hex') === hexMd5) return e.blobId;
  }
  return null;
}
