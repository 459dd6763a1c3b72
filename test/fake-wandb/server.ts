/**
 * The local fake W&B server: GraphQL + signed-URL storage + the authenticated fallback URLs, with fault
 * injection and counters. Start one per test file (port 0); stop()/start() simulate an outage on
 * the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { bump, emptyCounters, resetCounters, type Counters, type Route } from './counters.js';
import {
  defaultFaults,
  drawFault,
  FAULT_SEED,
  type ExpiryStyle,
  type Faults,
  type RouteFaults,
} from './faults.js';
import { externalPath, handleExternal } from './external.js';
import { handleFallback, isFallbackPath } from './fallback-route.js';
import type { FixtureBase } from './fixture-base.js';
import type { Fixture, FixtureName } from './fixture-types.js';
import { loadFixture } from './fixtures/index.js';
import { handleGraphql, sendJson } from './graphql-route.js';
import { Prng } from './prng.js';
import { ListingControls } from './listing-controls.js';
import {
  defaultPageWeight,
  emptyPageWeightStats,
  type PageWeight,
  type PageWeightStats,
} from './page-weight.js';
import { QuotaWindow, tooManyHeaders } from './rate-limit.js';
import type { ResolverContext } from './resolvers.js';
import { UrlSigner } from './signing.js';
import { handleStorage } from './storage-route.js';
import { LiveObjects } from './live-objects.js';

export type { Counters } from './counters.js';
export type { ExpiryStyle, Faults, RouteFaults, StorageFaults } from './faults.js';
export type { Fixture, FixtureName } from './fixture-types.js';
export type { PageWeight, PageWeightStats } from './page-weight.js';
export type { ListingControls } from './listing-controls.js';

/** Fixed default key in W&B's on-prem format: 'local-' + 40 [a-z0-9]. */
export const DEFAULT_API_KEY = 'local-' + 'fakewandb0123456789abcdefghijklmnopqrstuv'.slice(0, 40);

export interface FakeWandbOptions {
  fixture?: FixtureName;
  port?: number;
  apiKey?: string;
  /** larger `first` values are clamped to this, like a real server; default 100 */
  maxPageSize?: number;
  /** lifetime of signed storage URLs; default one hour */
  signedUrlTtlMs?: number;
  /** initial page weight knobs (see page-weight.ts); later changes go through `pageWeight` */
  pageWeight?: Partial<PageWeight>;
  /**
   * How expired signed URLs answer (faults.storage.expiryStyle starts here and resetFaults returns
   * to it): 'gcs' = 400 ExpiredToken as W&B SaaS storage does, 's3' = 403 (default)
   */
  expiryStyle?: ExpiryStyle;
}

export interface FakeWandb {
  /** 'http://127.0.0.1:PORT'; GraphQL at url + '/graphql' */
  readonly url: string;
  readonly apiKey: string;
  readonly fixture: Fixture;
  faults: Faults;
  counters: Counters;
  /** per-node response time and the nodes-per-response cap; change at any time */
  pageWeight: PageWeight;
  /** responses weighed, refused by the cap, and the largest one */
  readonly pageWeightStats: PageWeightStats;
  /** runs created mid-listing, Sweep.runs timeouts */
  readonly listing: ListingControls;
  /** stored objects that change after they were listed (a running run's growing output.log) */
  readonly live: LiveObjects;
  /** zeroes counters and pageWeightStats */
  resetCounters(): void;
  /**
   * Resolves once no GraphQL or storage response is open: a request the previous test aborted is
   * closed on this side a little later, and its close must not land in the next test's counters.
   */
  settled(timeoutMs?: number): Promise<void>;
  /** restores every fault, page weight and listing knob to its default and re-seeds the fault PRNG */
  resetFaults(): void;
  /** stop listening and destroy open sockets (an outage); state and port are kept */
  stop(): Promise<void>;
  /** listen again on the same port */
  start(): Promise<void>;
  close(): Promise<void>;
}

class FakeWandbServer implements FakeWandb {
  faults: Faults;
  counters: Counters = emptyCounters();
  pageWeight: PageWeight;
  readonly pageWeightStats: PageWeightStats = emptyPageWeightStats();
  readonly listing = new ListingControls();
  readonly live: LiveObjects;
  readonly apiKey: string;
  private readonly initialPageWeight: PageWeight;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly signer: UrlSigner;
  private readonly maxPageSize: number;
  private readonly expiryStyle: ExpiryStyle;
  private prng = new Prng(FAULT_SEED);
  /** request quotas of the graphql and the storage routes */
  private readonly quotas = [new QuotaWindow(), new QuotaWindow()] as const;
  private port: number;
  private listening = false;
  private closed = false;

  constructor(
    readonly fixture: FixtureBase,
    opts: FakeWandbOptions,
  ) {
    this.apiKey = opts.apiKey ?? DEFAULT_API_KEY;
    this.live = new LiveObjects(fixture);
    this.maxPageSize = opts.maxPageSize ?? 100;
    this.initialPageWeight = { ...defaultPageWeight(), ...opts.pageWeight };
    this.pageWeight = { ...this.initialPageWeight };
    this.expiryStyle = opts.expiryStyle ?? 's3';
    this.faults = defaultFaults(this.expiryStyle);
    this.signer = new UrlSigner(opts.signedUrlTtlMs ?? 3_600_000);
    this.port = opts.port ?? 0;
    // 1 MiB buffers: with the 64 KiB default a Node server caps well below what clients can take.
    this.server = createServer({ highWaterMark: 1 << 20, keepAliveTimeout: 5000 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { errors: [{ message: `fake-wandb: ${String(err)}` }] });
        else res.destroy();
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.counters.connections++;
      s.setNoDelay(true);
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  resetCounters(): void {
    resetCounters(this.counters);
    Object.assign(this.pageWeightStats, emptyPageWeightStats());
  }

  async settled(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const open = (): number => this.counters.inFlight.graphql + this.counters.inFlight.storage;
    while (open() > 0) {
      if (Date.now() > deadline) {
        throw new Error(`fake-wandb: ${open()} responses still open after ${timeoutMs} ms`);
      }
      await sleep(5);
    }
  }

  resetFaults(): void {
    this.faults = defaultFaults(this.expiryStyle);
    this.pageWeight = { ...this.initialPageWeight };
    this.listing.reset();
    this.prng = new Prng(FAULT_SEED);
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error('fake-wandb: closed');
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const addr = this.server.address();
    if (addr !== null && typeof addr === 'object') this.port = addr.port;
    this.listening = true;
    this.fixture.baseUrl = this.url;
  }

  async stop(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await closed;
  }

  async close(): Promise<void> {
    await this.stop();
    this.closed = true;
  }

  private context(): ResolverContext {
    return {
      fixture: this.fixture,
      baseUrl: this.url,
      signer: this.signer,
      maxPageSize: this.maxPageSize,
      listing: this.listing,
    };
  }

  private routeOf(url: URL): Route {
    const pathname = url.pathname;
    if (pathname === '/graphql') return 'graphql';
    // the GCS JSON API stand-in (/storage/v1/b/...) before W&B's signed /storage/<blob> URLs
    if (externalPath(url, this.fixture.external) !== null) return 'external';
    if (pathname.startsWith('/storage/')) return 'storage';
    return isFallbackPath(pathname) ?? 'other';
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const route = this.routeOf(url);
    bump(this.counters.requests, route);
    res.on('close', () =>
      bump(this.counters.statusCounts, res.headersSent ? String(res.statusCode) : 'reset'),
    );
    if (route === 'graphql' || route === 'storage') {
      const c = this.counters;
      c.inFlight[route]++;
      c.maxInFlight[route] = Math.max(c.maxInFlight[route], c.inFlight[route]);
      // Decrement through the object current at close time: resetCounters() replaces nothing here.
      res.on('close', () => this.counters.inFlight[route]--);
    }
    const f: RouteFaults = route === 'graphql' ? this.faults.graphql : this.faults.storage;
    // W&B's faults are W&B's: the reference stand-ins are other stores
    if (route !== 'other' && route !== 'external') {
      if (f.latencyMs > 0) await sleep(f.latencyMs);
      const quota = f.quota === null ? null : this.quotas[route === 'graphql' ? 0 : 1].take(f.quota);
      if (quota !== null) for (const [k, v] of Object.entries(quota.headers)) res.setHeader(k, v);
      const outcome = quota?.over ? 429 : drawFault(this.prng, f);
      if (outcome === 'reset') {
        req.socket.destroy();
        return;
      }
      if (outcome === 429) {
        const headers = tooManyHeaders(f, quota?.headers ?? null);
        return sendJson(res, 429, { errors: [{ message: 'rate limit exceeded' }] }, headers);
      }
      if (outcome === 500 || outcome === 503) {
        return sendJson(res, outcome, {
          error: outcome === 500 ? 'internal server error' : 'service unavailable',
        });
      }
    }
    switch (route) {
      case 'graphql':
        return handleGraphql(req, res, {
          apiKey: this.apiKey,
          counters: this.counters,
          context: () => this.context(),
          pageWeight: () => this.pageWeight,
          pageWeightStats: this.pageWeightStats,
        });
      case 'storage':
        return handleStorage(req, res, url, {
          signer: this.signer,
          counters: this.counters,
          faults: () => this.faults.storage,
          contentOf: (id) => this.live.contentOf(id),
        });
      case 'external':
        return handleExternal(req, res, externalPath(url, this.fixture.external) ?? '', {
          ext: this.fixture.external,
          counters: this.counters,
          faults: () => this.faults.external,
          contentOf: (id) => this.fixture.contentOf(id),
        });
      case 'files-redirect':
      case 'artifacts-v2':
        return handleFallback(req, res, url, {
          apiKey: this.apiKey,
          counters: this.counters,
          faults: () => this.faults.storage,
          contentOf: (id) => this.live.contentOf(id),
          artifact: (id) => this.fixture.artifact(id),
        });
      default:
        return sendJson(res, 404, { error: 'not found' });
    }
  }
}

export async function startFakeWandb(opts: FakeWandbOptions = {}): Promise<FakeWandb> {
  const fixture = loadFixture(opts.fixture ?? 'demo');
  await fixture.digestsReady();
  const server = new FakeWandbServer(fixture, opts);
  await server.start();
  return server;
}
