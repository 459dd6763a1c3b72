/**
 * A tiny HTTP proxy in front of the fake server that can rewrite one response (the fake's files are
 * not ours to change). It forwards every request, points the fake's origin in bodies and Location
 * headers at itself (so signed storage URLs also come through it), and lets a test replace the
 * status, headers or body of the responses it picks.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  method: string;
  /** path + query */
  url: string;
  /** request body (GraphQL JSON) */
  body: string;
  reqHeaders: IncomingHttpHeaders;
  status: number;
  headers: IncomingHttpHeaders;
  response: Buffer;
}

/** Returns a replacement for the response, or undefined to pass it through. */
export type Rewrite = (
  x: Exchange,
) => { status?: number; body: Buffer | string; headers?: Record<string, string> } | undefined;

export interface RewriteProxy {
  readonly url: string;
  rewrite: Rewrite | null;
  /** how many responses were rewritten */
  rewritten: number;
  /** every request seen: when it arrived (ms since epoch), its path and (GraphQL) operation name */
  seen: { atMs: number; url: string; op: string }[];
  close(): Promise<void>;
}

export async function startRewriteProxy(target: string): Promise<RewriteProxy> {
  const t = new URL(target);
  let self = '';
  const state: RewriteProxy = {
    url: '',
    rewrite: null,
    rewritten: 0,
    seen: [],
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const op = /"operationName"\s*:\s*"([^"]*)"/.exec(body.toString('utf8'))?.[1] ?? '';
      state.seen.push({ atMs: Date.now(), url: req.url ?? '/', op });
      const headers = { ...req.headers, host: t.host };
      const up = request(
        { host: t.hostname, port: t.port, method: req.method, path: req.url, headers },
        (ur) => {
          const parts: Buffer[] = [];
          ur.on('data', (c: Buffer) => parts.push(c));
          ur.on('end', () => {
            let out: Buffer = Buffer.concat(parts);
            const type = String(ur.headers['content-type'] ?? '');
            if (type.includes('json')) out = Buffer.from(out.toString('utf8').split(target).join(self));
            let status = ur.statusCode ?? 502;
            const x: Exchange = {
              method: req.method ?? 'GET',
              url: req.url ?? '/',
              body: body.toString('utf8'),
              reqHeaders: req.headers,
              status,
              headers: ur.headers,
              response: out,
            };
            const r = state.rewrite?.(x);
            const h: Record<string, string | string[]> = {};
            for (const [k, v] of Object.entries(ur.headers)) {
              if (v === undefined || k === 'transfer-encoding' || k === 'connection') continue;
              h[k] = k === 'location' ? String(v).split(target).join(self) : v;
            }
            if (r) {
              state.rewritten++;
              out = Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
              status = r.status ?? status;
              Object.assign(h, r.headers ?? {});
            }
            h['content-length'] = String(out.length);
            res.writeHead(status, h);
            res.end(out);
          });
          ur.on('error', () => res.destroy());
        },
      );
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, { url: self });
}
