/**
 * A small local HTTP file server: the byte source for curl and rclone (and a stand-in for cloud storage
 * until the fake W&B server is used). Range requests, an HTML index for rclone's http backend, 1 MiB
 * read chunks (64 KiB halves throughput, see perf-ceilings.md), and cloud-like shaping: a delay before
 * each response and a bandwidth cap per TCP connection.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { sleep } from './timing.js';

export interface Shaping {
  /** added before every response, like a bucket's first-byte latency */
  latencyMs: number;
  /** per TCP connection; 0 = unlimited */
  bandwidthBytesPerSec: number;
}

export interface FileServer {
  /** base URL ending in '/' */
  url: string;
  urlFor(name: string): string;
  /** add or replace a served file */
  files: Record<string, ServedFile>;
  shaping: Shaping;
  counters: { requests: number; rangeRequests: number; bytes: number };
  close(): Promise<void>;
}

const CHUNK = 1024 * 1024;

/** name → local path, or a function giving a URL to redirect to (e.g. a fresh signed URL) */
export type ServedFile = string | (() => Promise<string>);

export async function startFileServer(files: Record<string, ServedFile>): Promise<FileServer> {
  const shaping: Shaping = { latencyMs: 0, bandwidthBytesPerSec: 0 };
  const counters = { requests: 0, rangeRequests: 0, bytes: 0 };
  const nextFreeAt = new WeakMap<Socket, number>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    counters.requests++;
    if (shaping.latencyMs > 0) await sleep(shaping.latencyMs);
    const name = decodeURIComponent((req.url ?? '/').split('?')[0]?.replace(/^\/+/, '') ?? '');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (name === '') {
      const links = Object.keys(files)
        .map((n) => `<a href="${encodeURIComponent(n)}">${n}</a>`)
        .join('\n');
      const body = `<html><body><pre>\n${links}\n</pre></body></html>\n`;
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const path = files[name];
    if (!path) {
      res.writeHead(404).end();
      return;
    }
    if (typeof path === 'function') {
      res.writeHead(302, { location: await path(), 'content-length': 0 }).end();
      return;
    }
    const st = await stat(path);
    const size = st.size;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const headers: Record<string, string | number> = {
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      'last-modified': st.mtime.toUTCString(),
      etag: `"${size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
    };
    const range = req.headers.range;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range);
      const a = m?.[1] ?? '';
      const b = m?.[2] ?? '';
      if (!m || (a === '' && b === '')) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      if (a === '') {
        start = Math.max(0, size - Number(b));
      } else {
        start = Number(a);
        if (b !== '') end = Math.min(end, Number(b));
      }
      if (start >= size || start > end) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
      counters.rangeRequests++;
    }
    headers['content-length'] = end - start + 1;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    const bw = shaping.bandwidthBytesPerSec;
    // Unshaped: big chunks. Shaped: smaller chunks so pacing is smooth.
    const stream = createReadStream(path, { start, end, highWaterMark: bw > 0 ? 64 * 1024 : CHUNK });
    const sock = req.socket;
    res.on('close', () => stream.destroy());
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      counters.bytes += buf.length;
      if (!res.write(buf))
        await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
      if (res.destroyed) return;
      if (bw > 0) {
        const now = Date.now();
        const startAt = Math.max(now, nextFreeAt.get(sock) ?? now);
        const freeAt = startAt + (buf.length / bw) * 1000;
        nextFreeAt.set(sock, freeAt);
        if (freeAt > now + 1) await sleep(freeAt - now);
      }
    }
    res.end();
  };

  const server: Server = createServer({ highWaterMark: CHUNK }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
      process.stderr.write(`bench file server: ${String(err)}\n`);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    urlFor: (name) => url + encodeURIComponent(name),
    files,
    shaping,
    counters,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
