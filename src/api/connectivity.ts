import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { WandbfsError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { silentLogger } from '../core/log.js';

/**
 * Connection-level failures that mean "W&B cannot be reached from here": nothing answered at all.
 * A slow server, a reset or an HTTP error means it *was* reached and keeps the retry/backoff path.
 * ETIMEDOUT counts only when it comes from connect() (a read timing out is a slow server).
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The errno-style code of an "unreachable" failure anywhere in `err`'s cause chain, else undefined. */
export function unreachableCode(err: unknown, depth = 0): string | undefined {
  if (depth > 6 || typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; syscall?: unknown; cause?: unknown; errors?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return code;
  if (code === 'ETIMEDOUT' && e.syscall === 'connect') return code;
  // Happy-eyeballs connects fail with an AggregateError of one error per address tried.
  if (Array.isArray(e.errors)) {
    const all = e.errors.map((x) => unreachableCode(x, depth + 1));
    if (all.length > 0 && all.every((x) => x !== undefined)) return all[0];
  }
  return unreachableCode(e.cause, depth + 1);
}

/**
 * W&B cannot be reached (connection refused, no DNS, no route, connect timeout), or was not reached
 * moments ago and has not answered a probe since. Never retried: the caller answers from what is
 * stored, or fails at once. `reconnected` resolves when W&B answers again.
 */
export class OfflineError extends WandbfsError {
  readonly reconnected: Promise<void>;
  constructor(message: string, reconnected: Promise<void>) {
    super('ERR_OFFLINE', message, {
      hint: 'wandbfs serves what the cache holds and reconnects on its own; see `wandbfs status`',
    });
    this.reconnected = reconnected;
  }
}

export interface ConnectivitySnapshot {
  state: 'online' | 'offline';
  /** ISO time of the last change of state (for online: since the mount started or reconnected) */
  since: string;
  /** why it is offline: the failure code (ECONNREFUSED, ENOTFOUND, ...) or "mounted with --offline" */
  reason: string | null;
  /** reconnect probes sent since going offline */
  probes: number;
}

export interface ConnectivityOptions {
  baseUrl: string;
  /** One request to W&B; resolves when anything answered (any HTTP status), rejects otherwise. */
  probe: (signal: AbortSignal) => Promise<void>;
  logger?: Logger;
  clock?: Clock;
  /** first reconnect probe after going offline; doubles up to maxProbeIntervalMs (default 1 s) */
  minProbeIntervalMs?: number;
  /** default 15 s: an outage that ends is noticed within that */
  maxProbeIntervalMs?: number;
  /** a probe that takes longer counts as unanswered (default 20 s, above undici's 10 s connect timeout) */
  probeTimeoutMs?: number;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Whether W&B is reachable, shared by GraphQL and storage requests. The first unreachable failure
 * turns it offline (one log line); from then on requests fail at once with OfflineError instead of
 * waiting out retries, and a background probe with growing intervals asks W&B until it answers.
 */
export class Connectivity {
  private state: 'online' | 'offline' = 'online';
  private sinceMs: number;
  private reason: string | null = null;
  private probes = 0;
  private timer: NodeJS.Timeout | null = null;
  private probing: AbortController | null = null;
  private nextIntervalMs: number;
  private reconnect = deferred();
  private closed = false;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly probeTimeoutMs: number;

  constructor(private readonly o: ConnectivityOptions) {
    this.log = o.logger ?? silentLogger;
    this.clock = o.clock ?? systemClock;
    this.sinceMs = this.clock.nowMs();
    this.minMs = o.minProbeIntervalMs ?? 1000;
    this.maxMs = o.maxProbeIntervalMs ?? 15_000;
    this.probeTimeoutMs = o.probeTimeoutMs ?? 20_000;
    this.nextIntervalMs = this.minMs;
  }

  isOffline(): boolean {
    return this.state === 'offline';
  }

  /** Resolves the next time W&B answers after being unreachable. */
  whenOnline(): Promise<void> {
    return this.state === 'online' ? Promise.resolve() : this.reconnect.promise;
  }

  /** The error for a request not sent (or failed) because W&B is unreachable. */
  offlineError(what: string): OfflineError {
    const since = new Date(this.sinceMs).toISOString();
    return new OfflineError(
      `${what}: W&B at ${this.o.baseUrl} is unreachable (${this.reason ?? 'offline'}, offline since ${since})`,
      this.reconnect.promise,
    );
  }

  /** An unreachable host other than W&B itself (storage): fails fast, leaves the state alone. */
  unreachableError(message: string): OfflineError {
    return new OfflineError(message, this.reconnect.promise);
  }

  /** A request found nothing listening (code from unreachableCode). */
  markUnreachable(code: string): void {
    this.goOffline(code);
  }

  /** Mounted with --offline: no request is sent until a probe gets an answer. */
  startOffline(reason: string): void {
    this.goOffline(reason);
  }

  /** Something at the server answered (any HTTP status). */
  markReachable(): void {
    if (this.state === 'online' || this.closed) return;
    const offlineMs = this.clock.nowMs() - this.sinceMs;
    this.state = 'online';
    this.sinceMs = this.clock.nowMs();
    this.reason = null;
    this.cancelProbe();
    this.log.info('W&B is reachable again; refreshing stale listings', { offlineMs, probes: this.probes });
    const done = this.reconnect;
    this.reconnect = deferred();
    done.resolve();
  }

  snapshot(): ConnectivitySnapshot {
    return {
      state: this.state,
      since: new Date(this.sinceMs).toISOString(),
      reason: this.reason,
      probes: this.probes,
    };
  }

  close(): void {
    this.closed = true;
    this.cancelProbe();
  }

  private goOffline(reason: string): void {
    if (this.state === 'offline' || this.closed) return;
    this.state = 'offline';
    this.sinceMs = this.clock.nowMs();
    this.reason = reason;
    this.probes = 0;
    this.nextIntervalMs = this.minMs;
    this.log.warn('W&B is unreachable; uncached requests fail at once until a reconnect probe is answered', {
      server: this.o.baseUrl,
      reason,
    });
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.state === 'online') return;
    const wait = this.nextIntervalMs;
    this.nextIntervalMs = Math.min(this.maxMs, this.nextIntervalMs * 2);
    this.timer = setTimeout(() => void this.probeOnce(), wait);
    // Reconnecting is background work: it must not keep a finished process alive.
    this.timer.unref();
  }

  private async probeOnce(): Promise<void> {
    this.timer = null;
    if (this.closed || this.state === 'online') return;
    this.probes++;
    const ac = new AbortController();
    this.probing = ac;
    const timeout = setTimeout(() => ac.abort(), this.probeTimeoutMs);
    try {
      await this.o.probe(ac.signal);
      this.markReachable();
    } catch (err) {
      this.log.debug('reconnect probe failed', { probe: this.probes, error: errorMessage(err) });
      this.schedule();
    } finally {
      clearTimeout(timeout);
      if (this.probing === ac) this.probing = null;
    }
  }

  private cancelProbe(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.probing?.abort();
    this.probing = null;
  }
}
