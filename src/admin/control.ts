import { createConnection, createServer, type Server } from 'node:net';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage } from '../core/errors.js';
import { ControlError, ControlTimeoutError } from './errors.js';
import type { Logger } from '../core/log.js';

/**
 * The control socket of a running mount: one JSON line in, one JSON line out. The mount itself is
 * read-only, so commands such as `wandbfs refresh` reach the daemon this way (mode 0600 socket in
 * the cache dir: only the mounting user can talk to it).
 */
export type ControlRequest = { op: 'refresh'; path: string } | { op: 'ping' };
export type ControlReply = { ok: true; result?: unknown } | { ok: false; error: string };

export interface ControlHandlers {
  refresh(path: string): Promise<void>;
}

export async function startControlServer(socket: string, h: ControlHandlers, log: Logger): Promise<Server> {
  await mkdir(dirname(socket), { recursive: true, mode: 0o700 });
  await rm(socket, { force: true });
  const server = createServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('error', () => undefined);
    conn.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      void handle(line, h).then(
        (r) => conn.end(JSON.stringify(r) + '\n'),
        (err: unknown) => conn.end(JSON.stringify({ ok: false, error: errorMessage(err) }) + '\n'),
      );
    });
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(socket, () => res());
  });
  server.unref();
  log.debug('control socket listening', { socket });
  return server;
}

async function handle(line: string, h: ControlHandlers): Promise<ControlReply> {
  const req = JSON.parse(line) as Partial<ControlRequest>;
  if (req.op === 'ping') return { ok: true, result: { pid: process.pid } };
  if (req.op === 'refresh' && typeof req.path === 'string' && req.path.startsWith('/')) {
    await h.refresh(req.path);
    return { ok: true };
  }
  return { ok: false, error: 'unknown request' };
}

export function sendControl(socket: string, req: ControlRequest, timeoutMs = 120_000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    let buf = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new ControlTimeoutError(timeoutMs));
    }, timeoutMs);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(JSON.stringify(req) + '\n'));
    conn.on('data', (d: string) => (buf += d));
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(
        new ControlError(
          `cannot reach the mount daemon: ${err.message}`,
          'is the mount running? see `wandbfs status`',
        ),
      );
    });
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf) as ControlReply);
      } catch {
        reject(new ControlError('malformed answer from the mount daemon'));
      }
    });
  });
}
