/**
 * Stand-ins for the stores reference entries point at, on the fake's own port: plain https objects
 * (`/web/<name>`), S3 path-style `GET /<bucket>/<key>` (what AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL
 * point tools at), and GCS's JSON API media download `GET [/download]/storage/v1/b/<bucket>/o/<key>
 * ?alt=media` (what STORAGE_EMULATOR_HOST points Google's libraries at) plus the public XML form
 * `/<bucket>/<key>`.
 * No W&B auth anywhere: public objects answer with Range and ETag, private ones 403 AccessDenied.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlobContent } from './content.js';
import { bump, type Counters } from './counters.js';
import type { StorageFaults } from './faults.js';
import { serveContent } from './storage-route.js';

export interface ExternalObject {
  blobId: string;
  /** false: 403 AccessDenied, as a bucket without public read answers an anonymous GET */
  public: boolean;
}

/**
 * The objects a fixture's reference entries point at, by where they are served: 'web/<name>' for
 * https references, '<bucket>/<key>' for s3:// and gs:// (one namespace, like a single endpoint).
 * Tests flip `public`, swap `blobId` (the object changed: new ETag), or add redirect hops.
 */
export class ExternalObjects {
  readonly objects = new Map<string, ExternalObject>();
  /** 'web/<from>' → 'web/<to>': an https reference that redirects (chains allowed) */
  readonly redirects = new Map<string, string>();

  add(where: string, obj: ExternalObject): void {
    this.objects.set(where, obj);
  }

  get(where: string): ExternalObject | undefined {
    return this.objects.get(where);
  }
}

/** The object path a request names, or null when it is not an external-store request. */
export function externalPath(url: URL, ext: ExternalObjects): string | null {
  const gcs = /^(?:\/download)?\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
  if (gcs) return `${decodeURIComponent(gcs[1] ?? '')}/${decodeURIComponent(gcs[2] ?? '')}`;
  let path: string;
  try {
    path = url.pathname.slice(1).split('/').map(decodeURIComponent).join('/');
  } catch {
    return null;
  }
  if (ext.redirects.has(path) || ext.get(path)) return path;
  return path.startsWith('web/') ? path : null;
}

function xml(res: ServerResponse, status: number, code: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code></Error>\n`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export interface ExternalDeps {
  ext: ExternalObjects;
  counters: Counters;
  faults: () => StorageFaults;
  contentOf: (blobId: string) => BlobContent | undefined;
}

export async function handleExternal(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  d: ExternalDeps,
): Promise<void> {
  bump(d.counters.externalByPath, path);
  const to = d.ext.redirects.get(path);
  if (to !== undefined) {
    res.writeHead(302, { Location: `/${to}`, 'Content-Length': 0 });
    res.end();
    return;
  }
  const obj = d.ext.get(path);
  const content = obj ? d.contentOf(obj.blobId) : undefined;
  if (!obj || !content) return xml(res, 404, 'NoSuchKey');
  if (!obj.public) return xml(res, 403, 'AccessDenied');
  await serveContent(req, res, obj.blobId, content, d.faults(), d.counters);
}
