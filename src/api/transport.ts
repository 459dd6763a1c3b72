import { Client, createRequest, fetchExchange } from '@urql/core';
import type { LimitFunction } from 'p-limit';
import { AbortedError, WandbfsError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { redact } from '../core/log.js';
import { unreachableCode, type Connectivity } from './connectivity.js';
import { PermanentError, TransientError } from './errors.js';
import { errorForGraphqlErrors, errorForStatus } from './http-errors.js';
import type { GqlOperation } from './queries/operation.js';
import type { RetryDeps, RetryPolicy } from './retry.js';
import { withRetry } from './retry.js';
import { rateLimitOf, retryDelayOf } from './rate-limit.js';
import { linkedController, raceAbort, runLimited } from './abort.js';
import type { Obj } from './shape.js';
import { isObj } from './shape.js';
import type { StatsRecorder } from './stats.js';
import type { ThrottleGate } from './throttle.js';

export type FetchFn = typeof globalThis.fetch;

export interface GraphqlTransportOptions {
  baseUrl: string;
  apiKey: string;
  userAgent: string;
  /** the shared GraphQL concurrency limit; held for one attempt, released during backoff */
  limit: LimitFunction;
  retry: RetryPolicy;
  retryDeps: RetryDeps;
  /** per attempt, from sending the request to the end of the response body */
  requestTimeoutMs: number;
  gate: ThrottleGate;
  stats: StatsRecorder;
  logger: Logger;
  fetch?: FetchFn;
  /** shared reachability: offline fails requests at once instead of retrying into the void */
  connectivity?: Connectivity;
}

/**
 * urql Client over fetch, driven from outside for retries. Two things urql would otherwise do are
 * switched off on purpose: its cache (SQLite is our cache; requestPolicy network-only, fetchExchange
 * only) and its sharing of in-flight operations with equal keys (every attempt gets its own key, so
 * each call keeps its own AbortSignal and timeout; single-flight is the metadata layer's job).
 * HTTP statuses never reach urql as data: the fetch wrapper turns non-2xx into typed errors, which
 * come back as CombinedError.networkError and are unwrapped here.
 */
export class GraphqlTransport {
  private readonly client: Client;
  private nextKey = 1;
  private readonly fetchImpl: FetchFn;

  constructor(private readonly o: GraphqlTransportOptions) {
    this.fetchImpl = o.fetch ?? globalThis.fetch;
    this.client = new Client({
      url: `${o.baseUrl}/graphql`,
      exchanges: [fetchExchange],
      requestPolicy: 'network-only',
      // W&B takes POST; a GET would also put variables into URLs that proxies log.
      preferGetMethod: false,
      fetchOptions: {
        headers: {
          authorization: `Basic ${Buffer.from(`api:${o.apiKey}`).toString('base64')}`,
          'user-agent': o.userAgent,
        },
      },
    });
  }

  /** Runs one operation with retries; resolves to its `data` object. */
  async query(op: GqlOperation, variables: Record<string, unknown>, signal?: AbortSignal): Promise<Obj> {
    return withRetry(
      async (ctx) => {
        this.failIfOffline(op);
        // A call cancelled while queued behind the limit returns now, not when a slot frees. The gate
        // is passed inside the slot, so requests queued behind the limit see the latest rate limit.
        return runLimited(
          this.o.limit,
          async () => {
            await this.o.gate.wait(signal);
            // W&B may have gone away while this call waited for a slot.
            this.failIfOffline(op);
            return this.attempt(op, variables, ctx.remainingMs, signal);
          },
          signal,
        );
      },
      {
        policy: this.o.retry,
        deps: this.o.retryDeps,
        ...(signal ? { signal } : {}),
        onRetry: (info) => {
          this.o.stats.retry();
          this.o.logger.warn('retrying GraphQL request', {
            operation: op.name,
            attempt: info.attempt,
            delayMs: info.delayMs,
            error: info.error.message,
          });
        },
      },
    );
  }

  private failIfOffline(op: GqlOperation): void {
    if (this.o.connectivity?.isOffline()) throw this.o.connectivity.offlineError(`GraphQL ${op.name}`);
  }

  /**
   * One attempt, no retry, sent even while offline: the reconnect probe. Resolves when W&B answered
   * (any status: a 500 or a 401 still means the network path is back), rejects when it did not.
   */
  async probe(op: GqlOperation, signal: AbortSignal): Promise<void> {
    // Any HTTP answer marks the connectivity reachable inside attempt(); the outcome itself is moot.
    await this.attempt(op, {}, this.o.requestTimeoutMs, signal).catch(() => undefined);
    if (this.o.connectivity?.isOffline()) throw new TransientError(`no answer from W&B to ${op.name}`);
  }

  private async attempt(
    op: GqlOperation,
    variables: Record<string, unknown>,
    remainingMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Obj> {
    if (signal?.aborted) throw new AbortedError();
    const timeoutMs = Math.max(1, Math.min(this.o.requestTimeoutMs, remainingMs));
    const timer = new AbortController();
    const handle = setTimeout(() => timer.abort(), timeoutMs);
    const attempt = linkedController(signal, timer.signal);
    const attemptSignal = attempt.controller.signal;
    const started = Date.now();
    let fetchLink: { dispose: () => void } | undefined;
    try {
      const fetchForAttempt: FetchFn = async (input, init) => {
        // urql passes its own signal (for teardown); ours (caller + timeout) must abort it too.
        const link = linkedController(init?.signal ?? undefined, attemptSignal);
        fetchLink = link;
        this.o.stats.graphqlRequest();
        const res = await this.fetchImpl(input, { ...init, signal: link.controller.signal });
        this.o.connectivity?.markReachable();
        // RateLimit-Remaining/-Reset slow every request down before W&B has to answer 429.
        const slowed = this.o.gate.observe(rateLimitOf((h) => res.headers.get(h)));
        if (res.ok) {
          if (slowed) this.o.stats.throttled();
          return res;
        }
        throw await this.statusError(res, op);
      };
      const request = { ...createRequest(op.document, variables), key: this.nextKey++ };
      // Raced against the attempt's signal too, so cancellation and the timeout hold even when a
      // fetch implementation is slow to notice its signal.
      const result = await raceAbort(
        this.client
          .executeQuery(request, { fetch: fetchForAttempt, requestPolicy: 'network-only' })
          .toPromise(),
        attemptSignal,
      );
      if (result.error?.networkError) throw result.error.networkError;
      if (result.error && result.error.graphQLErrors.length > 0) {
        throw errorForGraphqlErrors(op.name, result.error.graphQLErrors);
      }
      if (!isObj(result.data)) throw new PermanentError(`W&B sent no data for ${op.name}`);
      this.o.logger.debug('graphql', { operation: op.name, ms: Date.now() - started });
      return result.data;
    } catch (err) {
      if (signal?.aborted) throw new AbortedError();
      if (timer.signal.aborted) {
        throw new TransientError(`W&B request ${op.name} timed out after ${timeoutMs} ms`);
      }
      const unreachable = this.o.connectivity ? unreachableCode(err) : undefined;
      if (unreachable !== undefined && this.o.connectivity) {
        this.o.connectivity.markUnreachable(unreachable);
        throw this.o.connectivity.offlineError(`GraphQL ${op.name}`);
      }
      if (err instanceof WandbfsError) throw err;
      throw new TransientError(`network error during ${op.name}: ${redact(errorMessage(err))}`, {
        cause: err,
      });
    } finally {
      clearTimeout(handle);
      attempt.dispose();
      fetchLink?.dispose();
    }
  }

  private async statusError(res: Response, op: GqlOperation): Promise<WandbfsError> {
    const retryAfterMs = retryDelayOf((h) => res.headers.get(h), res.status, this.o.retryDeps.clock.nowMs());
    if (res.status === 429 || retryAfterMs !== undefined) this.o.stats.throttled();
    if (retryAfterMs !== undefined) this.o.gate.holdFor(retryAfterMs);
    let body = '';
    try {
      body = await res.text();
    } catch {
      // the status alone is enough to classify
    }
    return errorForStatus(res.status, `GraphQL ${op.name}`, {
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      detail: graphqlErrorText(body),
    });
  }
}

/** The messages of a GraphQL / W&B error body ({errors:[{message}]} or {error: ...}), else the text. */
function graphqlErrorText(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isObj(parsed)) {
      if (Array.isArray(parsed.errors)) {
        return parsed.errors.map((e: unknown) => (isObj(e) ? String(e.message) : String(e))).join('; ');
      }
      if (typeof parsed.error === 'string') return parsed.error;
      if (isObj(parsed.error) && typeof parsed.error.message === 'string') return parsed.error.message;
    }
  } catch {
    // not JSON
  }
  return body.trim();
}
