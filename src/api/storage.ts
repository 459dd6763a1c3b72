import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { AbortedError, WandbfsError } from '../core/errors.js';
import { unreachableCode, type Connectivity } from './connectivity.js';
import { PermanentError, TransientError } from './errors.js';
import type { StatsRecorder } from './stats.js';
import { errnoCode } from '../core/errno-code.js';

export interface StorageClientOptions {
  userAgent: string;
  /** from sending the request to the response headers */
  headersTimeoutMs: number;
  /** longest gap between two body chunks while we are waiting for bytes */
  stallTimeoutMs: number;
  /** keep-alive sockets per host; matches the download limit */
  maxSockets: number;
  stats: StatsRecorder;
  /**
   * While W&B is offline no GET is sent; a storage host that cannot be reached fails at once instead
   * of being retried for minutes (storage may live elsewhere, so it does not switch W&B offline).
   */
  connectivity?: Connectivity;
}

/**
 * Plain GETs of signed storage URLs (no W&B auth: the signature is the credential). node:http rather
 * than fetch: it measured faster for large bodies here (perf-ceilings.md) and gives us the socket to
 * destroy on stalls. Errors never carry the URL (its query string is a credential).
 */
export class StorageClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly o: StorageClientOptions) {
    const agentOptions = { keepAlive: true, maxSockets: o.maxSockets, maxFreeSockets: o.maxSockets };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
  }

  get(
    url: string,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
    label: string,
  ): Promise<IncomingMessage> {
    if (signal?.aborted) return Promise.reject(new AbortedError());
    if (this.o.connectivity?.isOffline()) {
      return Promise.reject(this.o.connectivity.offlineError(`download of ${label}`));
    }
    const target = new URL(url);
    const isHttps = target.protocol === 'https:';
    if (!isHttps && target.protocol !== 'http:') {
      // e.g. a reference entry whose "URL" is s3://...: W&B cannot serve it, and retrying will not help.
      return Promise.reject(
        new PermanentError(`W&B gave no downloadable URL for ${label} (${target.protocol})`),
      );
    }
    this.o.stats.storageRequest();
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = (isHttps ? https : http).request(
        target,
        {
          method: 'GET',
          agent: isHttps ? this.httpsAgent : this.httpAgent,
          headers: { 'user-agent': this.o.userAgent, ...headers },
        },
        (res) => {
          cleanup();
          // A reset after the headers must not become an uncaught 'error' while nobody is reading
          // (e.g. an error body being discarded); readers see it through body()'s iterator.
          res.on('error', () => {});
          resolve(res);
        },
      );
      const timer = setTimeout(() => {
        req.destroy(
          new TransientError(`storage did not answer within ${this.o.headersTimeoutMs} ms (${label})`),
        );
      }, this.o.headersTimeoutMs);
      const onAbort = (): void => {
        req.destroy(new AbortedError());
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => {
        cleanup();
        reject(this.connectError(err, label, signal));
      });
      req.end();
    });
  }

  /**
   * The body's chunks, with the stall timeout armed only while we wait for the network (not while
   * the consumer is busy with the previous chunk). Leaving the loop early destroys the response.
   */
  async *body(res: IncomingMessage, signal: AbortSignal | undefined, label: string): AsyncGenerator<Buffer> {
    const stallMs = this.o.stallTimeoutMs;
    const onStall = (): void => {
      res.destroy(new TransientError(`storage stalled: no bytes for ${stallMs} ms (${label})`));
    };
    const onAbort = (): void => {
      res.destroy(new AbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer = setTimeout(onStall, stallMs);
    try {
      for await (const chunk of res) {
        clearTimeout(timer);
        yield chunk as Buffer;
        timer = setTimeout(onStall, stallMs);
      }
      if (!res.complete) throw new TransientError(`storage closed the connection early (${label})`);
    } catch (err) {
      throw networkError(err, label, signal);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (!res.complete) res.destroy();
    }
  }

  /**
   * Reads a small body into `buf` with 'data' events and one timer: lighter than body()'s async
   * iterator (promises per chunk) for the 16 KiB urgent ranges, each paid once per random read.
   * Resolves with the byte count once the body ended; more bytes than `buf` holds, a stall or a
   * body that ends early reject (and destroy the response).
   */
  bodyInto(res: IncomingMessage, buf: Buffer, label: string): Promise<number> {
    const stallMs = this.o.stallTimeoutMs;
    return new Promise<number>((resolve, reject) => {
      let got = 0;
      let timer = setTimeout(onStall, stallMs);
      function onStall(): void {
        res.destroy(new TransientError(`storage stalled: no bytes for ${stallMs} ms (${label})`));
      }
      const fail = (err: unknown): void => {
        clearTimeout(timer);
        res.destroy();
        reject(networkError(err, label, undefined));
      };
      res.on('data', (chunk: Buffer) => {
        if (got + chunk.length > buf.length) {
          fail(new PermanentError(`storage sent more bytes than asked for ${label}`));
          return;
        }
        chunk.copy(buf, got);
        got += chunk.length;
        clearTimeout(timer);
        timer = setTimeout(onStall, stallMs);
      });
      res.once('end', () => {
        clearTimeout(timer);
        if (res.complete) resolve(got);
        else reject(new TransientError(`storage closed the connection early (${label})`));
      });
      res.once('error', fail);
      res.once('close', () => {
        if (!res.complete) fail(new TransientError(`storage closed the connection early (${label})`));
      });
    });
  }

  private connectError(err: unknown, label: string, signal: AbortSignal | undefined): WandbfsError {
    const code = signal?.aborted ? undefined : unreachableCode(err);
    if (code !== undefined && this.o.connectivity) {
      return this.o.connectivity.unreachableError(`storage unreachable (${code}) for ${label}`);
    }
    return networkError(err, label, signal);
  }

  /** Reads and discards a (small) error body so the keep-alive socket can be reused. */
  discard(res: IncomingMessage): void {
    res.resume();
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function networkError(err: unknown, label: string, signal: AbortSignal | undefined): WandbfsError {
  if (signal?.aborted) return err instanceof AbortedError ? err : new AbortedError();
  if (err instanceof WandbfsError) return err;
  // Only the code: Node's messages for some failures quote the request target.
  const code = errnoCode(err) ?? 'connection error';
  return new TransientError(`storage connection failed (${code}) for ${label}`, { cause: err });
}
