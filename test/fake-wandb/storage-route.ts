/**
 * Object storage behind signed URLs: no W&B auth; an expired URL answers like GCS (400 ExpiredToken)
 * or S3 (403) per `expiryStyle`, a bad signature 403; Range requests answer 206/416, and the storage
 * faults shape the body bytes. serveContent is shared with the authenticated fallback routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { BLOCK_BYTES, type BlobContent } from './content.js';
import { bump, type Counters } from './counters.js';
import type { ExpiryStyle, StorageFaults } from './faults.js';
import type { UrlSigner } from './signing.js';

/** Above this size the ETag is multipart-style (as S3 does for big uploads), so it needs no MD5 pass. */
const MD5_ETAG_MAX_BYTES = 64 * BLOCK_BYTES;

export function etagOf(content: BlobContent): string {
  if (content.sizeBytes < MD5_ETAG_MAX_BYTES) {
    return `"${Buffer.from(content.md5B64, 'base64').toString('hex')}"`;
  }
  const parts = Math.ceil(content.sizeBytes / (8 * BLOCK_BYTES));
  return `"${createHash('md5').update(content.blobId).digest('hex')}-${parts}"`;
}

export type RangeResult =
  { kind: 'full' } | { kind: 'range'; start: number; end: number } | { kind: 'unsatisfiable' };

/** RFC 9110 single byte range; a malformed or multi-range header is ignored (full body), as S3 does. */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'full' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null) return { kind: 'full' };
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return { kind: 'full' };
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - n), end: size };
  }
  const start = Number(a);
  const last = b === '' ? size - 1 : Number(b);
  if (b !== '' && last < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end: Math.min(size, last + 1) };
}

function xmlError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>\n`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export interface StorageDeps {
  signer: UrlSigner;
  counters: Counters;
  faults: () => StorageFaults;
  contentOf: (blobId: string) => BlobContent | undefined;
}

export async function handleStorage(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  d: StorageDeps,
): Promise<void> {
  const f = d.faults();
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return xmlError(res, 405, 'MethodNotAllowed', 'GET or HEAD');
  const blobId = decodeURIComponent(url.pathname.slice('/storage/'.length));
  // Checked before the signature too, so a threshold already passed expires this very request.
  const onBytes = (): void => {
    const at = f.expireIssuedAtBytes;
    if (at !== null && d.counters.storageBytes >= at) {
      f.expireIssuedAtBytes = null;
      d.signer.expireIssued();
    }
  };
  onBytes();
  if (f.expireUrls) return expired(res, f.expiryStyle);
  const check = d.signer.check(blobId, url.searchParams.get('Expires'), url.searchParams.get('Signature'));
  if (check === 'expired') return expired(res, f.expiryStyle);
  if (check === 'bad-signature') {
    return xmlError(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match');
  }
  const content = d.contentOf(blobId);
  if (content === undefined) return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
  bump(d.counters.storageByBlob, blobId);
  await serveContent(req, res, blobId, content, f, d.counters, onBytes);
}

function expired(res: ServerResponse, style: ExpiryStyle): void {
  if (style === 'gcs') {
    xmlError(res, 400, 'ExpiredToken', 'The provided token has expired. Request signature expired at: ...');
  } else {
    xmlError(res, 403, 'AccessDenied', 'Request has expired');
  }
}

/** 200/206/416 with the blob's bytes; counts bytes per blob. `onBytes` runs after each chunk sent. */
export async function serveContent(
  req: IncomingMessage,
  res: ServerResponse,
  blobId: string,
  content: BlobContent,
  f: StorageFaults,
  counters: Counters,
  onBytes: () => void = () => {},
): Promise<void> {
  const size = content.sizeBytes;
  const range = parseRange(req.headers.range, size);
  const headers: Record<string, string | number> = {
    'Content-Type': content.contentType,
    ETag: etagOf(content),
    'Accept-Ranges': 'bytes',
    'Last-Modified': 'Mon, 05 Jan 2026 10:00:00 GMT',
  };
  if (range.kind === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
    res.end();
    return;
  }
  const start = range.kind === 'range' ? range.start : 0;
  const end = range.kind === 'range' ? range.end : size;
  if (range.kind === 'range') {
    counters.storageRanges++;
    headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`;
  }
  res.writeHead(range.kind === 'range' ? 206 : 200, { ...headers, 'Content-Length': end - start });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await sendBody(res, content, start, end, f, (n) => {
    counters.storageBytes += n;
    bump(counters.bytesByBlob, blobId, n);
    onBytes();
  });
}

/** Resolves on 'drain' or 'close', removing both listeners (a race of two once() leaks one per chunk). */
function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function waitClosed(res: ServerResponse): Promise<void> {
  if (!res.destroyed) await once(res, 'close');
}

async function sendBody(
  res: ServerResponse,
  content: BlobContent,
  start: number,
  end: number,
  f: StorageFaults,
  sentBytes: (n: number) => void,
): Promise<void> {
  const bw = f.bandwidthBytesPerSec;
  // Small chunks under a bandwidth cap keep the pacing smooth; otherwise whole 1 MiB blocks.
  const chunkMax = bw > 0 ? Math.max(1024, Math.min(BLOCK_BYTES, Math.floor(bw / 20))) : BLOCK_BYTES;
  const resetAt = f.resetAfterBytes;
  const stallAt = f.stall ? Math.max(0, f.stallAfterBytes) : null;
  const t0 = Date.now();
  let pos = start;
  let sent = 0;
  if (resetAt !== null && resetAt <= 0) {
    res.flushHeaders();
    res.socket?.destroy();
    return;
  }
  while (pos < end) {
    if (res.destroyed) return;
    const boundary = (Math.floor(pos / BLOCK_BYTES) + 1) * BLOCK_BYTES;
    let n = Math.min(chunkMax, boundary - pos, end - pos);
    if (resetAt !== null) n = Math.min(n, resetAt - sent);
    if (stallAt !== null) {
      if (sent >= stallAt) break;
      n = Math.min(n, stallAt - sent);
    }
    const chunk = content.read(pos, pos + n);
    if (f.corrupt && sent === 0 && chunk.length > 0) chunk[0] = (chunk[0] as number) ^ 0xff;
    pos += n;
    sent += n;
    sentBytes(n);
    if (resetAt !== null && sent >= resetAt) {
      res.write(chunk, () => res.socket?.destroy());
      return;
    }
    if (!res.write(chunk)) await drainOrClose(res);
    if (bw > 0) {
      const ahead = (sent / bw) * 1000 - (Date.now() - t0);
      if (ahead > 0) await sleep(ahead);
    }
  }
  // A range that ends before the stall point is answered whole: a response left open after its
  // last byte holds every later request on that keep-alive socket behind it (30 s, until the
  // client's header timeout), which no real store does.
  if (stallAt !== null && pos < end && !res.destroyed) {
    // Headers and some bytes are out; the rest never comes. Only the client or stop() ends this.
    res.flushHeaders();
    await waitClosed(res);
    return;
  }
  res.end();
}
