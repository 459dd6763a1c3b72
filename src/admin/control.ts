import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage, WandbfsError } from '../core/errors.js';
import { ControlError, ControlTimeoutError } from './errors.js';
import type { Logger } from '../core/log.js';
import type {
  DownloadInfo,
  PinRequest,
  PinResult,
  WarmProgress,
  WarmRequest,
  WarmResult,
} from './warm-protocol.js';

/**
 * The control socket of a running mount: one JSON line in; zero or more event lines (progress of a
 * long request such as `warm`), then one reply line, out. The mount itself is read-only, so commands
 * such as `wandbfs refresh` reach the daemon this way (mode 0600 socket in the cache dir: only the
 * mounting user can talk to it). Closing the connection cancels a request still running.
 */
export type ControlRequest =
  | { op: 'refresh'; path: string }
  | { op: 'ping' }
  | ({ op: 'warm' } & WarmRequest)
  | ({ op: 'pin' } & PinRequest)
  | { op: 'downloads' };
export type ControlReply =
  { ok: true; result?: unknown } | { ok: false; error: string; code?: string; hint?: string };
/** A line sent before the reply; the client tells them apart by the `event` field. */
export interface ControlEvent {
  event: 'progress';
  data: WarmProgress;
}

export interface ControlHandlers {
  refresh(path: string): Promise<void>;
  warm?(req: WarmRequest, emit: (p: WarmProgress) => void, signal: AbortSignal): Promise<WarmResult>;
  pin?(req: PinRequest): Promise<PinResult>;
  downloads?(): DownloadInfo[];
}

export async function startControlServer(socket: string, h: ControlHandlers, log: Logger): Promise<Server> {
  await mkdir(dirname(socket), { recursive: true, mode: 0o700 });
  await rm(socket, { force: true });
  const server = createServer((conn) => serve(conn, h));
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(socket, () => res());
  });
  server.unref();
  log.debug('control socket listening', { socket });
  return server;
}

function serve(conn: Socket, h: ControlHandlers): void {
  let buf = '';
  let started = false;
  const abort = new AbortController();
  conn.setEncoding('utf8');
  conn.on('error', () => undefined);
  conn.on('close', () => abort.abort());
  conn.on('data', (d: string) => {
    if (started) return;
    buf += d;
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    started = true;
    const emit = (e: ControlEvent): void => {
      if (!conn.destroyed) conn.write(JSON.stringify(e) + '\n');
    };
    void handle(buf.slice(0, nl), h, emit, abort.signal).then(
      (r) => conn.end(JSON.stringify(r) + '\n'),
      (err: unknown) => conn.end(JSON.stringify(failure(err)) + '\n'),
    );
  });
}

function failure(err: unknown): ControlReply {
  const base = { ok: false as const, error: errorMessage(err) };
  if (!(err instanceof WandbfsError)) return base;
  return { ...base, code: err.code, ...(err.hint === undefined ? {} : { hint: err.hint }) };
}

const isInnerPath = (p: unknown): p is string => typeof p === 'string' && p.startsWith('/');
const isPathList = (p: unknown): p is string[] => Array.isArray(p) && p.length > 0 && p.every(isInnerPath);

async function handle(
  line: string,
  h: ControlHandlers,
  emit: (e: ControlEvent) => void,
  signal: AbortSignal,
): Promise<ControlReply> {
  const req = JSON.parse(line) as Partial<Record<string, unknown>> & { op?: unknown };
  if (req.op === 'ping') return { ok: true, result: { pid: process.pid } };
  if (req.op === 'refresh' && isInnerPath(req.path)) {
    await h.refresh(req.path);
    return { ok: true };
  }
  if (req.op === 'warm' && h.warm && isPathList(req.paths)) {
    const jobs = typeof req.jobs === 'number' && req.jobs >= 1 ? Math.floor(req.jobs) : 4;
    const warmReq = { paths: req.paths, jobs, dryRun: req.dryRun === true, pin: req.pin === true };
    const result = await h.warm(warmReq, (data) => emit({ event: 'progress', data }), signal);
    return { ok: true, result };
  }
  if (req.op === 'pin' && h.pin && isPathList(req.paths)) {
    return { ok: true, result: await h.pin({ paths: req.paths, pin: req.pin !== false }) };
  }
  if (req.op === 'downloads' && h.downloads) return { ok: true, result: h.downloads() };
  return { ok: false, error: 'unknown request (is the mount daemon an older wandbfs?)' };
}

export interface SendOptions {
  /** Fails when nothing (no event, no reply) arrives for this long. */
  idleTimeoutMs?: number;
  onEvent?: (e: ControlEvent) => void;
}

/** Sends one request and resolves with its reply; events before it go to `onEvent`. */
export function sendControl(
  socket: string,
  req: ControlRequest,
  options: number | SendOptions = {},
): Promise<ControlReply> {
  const o: SendOptions = typeof options === 'number' ? { idleTimeoutMs: options } : options;
  const idleMs = o.idleTimeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    let buf = '';
    let reply: ControlReply | null = null;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        conn.destroy();
        reject(new ControlTimeoutError(idleMs));
      }, idleMs);
    };
    arm();
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(JSON.stringify(req) + '\n'));
    conn.on('data', (d: string) => {
      arm();
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const msg = parseLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (msg && 'event' in msg) o.onEvent?.(msg);
        else reply = msg;
      }
    });
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
      const last = buf.trim() === '' ? null : parseLine(buf.trim());
      const msg = last && !('event' in last) ? last : reply;
      if (msg) resolve(msg);
      else reject(new ControlError('malformed answer from the mount daemon'));
    });
  });
}

function parseLine(line: string): ControlEvent | ControlReply | null {
  try {
    return JSON.parse(line) as ControlEvent | ControlReply;
  } catch {
    return null;
  }
}
