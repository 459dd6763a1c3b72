import type { WandbApi } from '../api/client-interface.js';
import type { EntityRecord } from '../api/types.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import { silentLogger, type Logger } from '../core/log.js';
import { ARTIFACT_KINDS } from './dirs/artifacts.js';
import { ENTITY_KINDS } from './dirs/entities.js';
import type { Ctx, KindTable, Listing, PathKind, ResolvedEntry, TreeEnv } from './dirs/kind.js';
import { LINK_KINDS } from './dirs/link.js';
import { RUN_ARTIFACT_KINDS } from './dirs/run-artifacts.js';
import { RUN_KINDS } from './dirs/runs.js';
import { SWEEP_KINDS } from './dirs/sweeps.js';
import { Fetchers } from './fetchers.js';
import { DEFAULT_TTLS, freshUntilMs, negativeUntilMs, type Ttls } from './freshness.js';
import { sanitizeSegment } from './naming.js';
import { PathCache, type Resolved } from './path-cache.js';
import { MetaStore, type ProjectRow } from './store/index.js';
import { watchWrites } from './store/write-watch.js';
import { Syncer } from './sync.js';
import type { DirEntry, MetaStatus, MetaTree, Node } from './types.js';
import { AppUrls, appUrlFromBaseUrl } from './urls.js';

export interface MetaTreeOptions {
  /** from core/db.ts openDb({ dir }) with migrations applied */
  db: Db;
  api: WandbApi;
  clock?: Clock;
  log?: Logger;
  ttl?: Partial<Ttls>;
  /** show only this entity's projects at '/' */
  rootEntity?: string;
  /** with rootEntity: show this project's runs/ artifacts/ sweeps/ at '/' */
  rootProject?: string;
  /** the W&B API base URL (default https://api.wandb.ai); the app URL for xattrs is derived from it */
  baseUrl?: string;
  /** overrides the derived web app URL used in user.wandb.url */
  appBaseUrl?: string;
  /** resolved paths kept in memory (default PATH_CACHE_ENTRIES) */
  pathCacheEntries?: number;
}

/**
 * Enough for every directory and file a `find` over a 10,000-run project visits (about 220,000
 * paths): a second walk is answered from memory. An entry is a few hundred bytes (rows are shared).
 */
export const PATH_CACHE_ENTRIES = 250_000;

/** The tree plus hooks tests and the status file use. */
export interface WandbMetaTree extends MetaTree {
  lookupCached(path: string): Node | undefined;
  /** resolves when no fetch is in flight */
  idle(): Promise<void>;
  /** fetches started since construction (foreground and background) */
  fetchCount(): number;
}

export function createMetaTree(options: MetaTreeOptions): WandbMetaTree {
  return new Tree(options);
}

/** Every kind of path, each implemented by the module of its W&B noun. */
const KINDS: KindTable = {
  ...ENTITY_KINDS,
  ...RUN_KINDS,
  ...RUN_ARTIFACT_KINDS,
  ...ARTIFACT_KINDS,
  ...SWEEP_KINDS,
  ...LINK_KINDS,
};

/**
 * The entry for `ctx`'s own kind. KindTable pairs each kind with its own context type; through the
 * union TypeScript cannot see that pairing, so the entry is handed out as taking any Ctx.
 */
function kindOf(ctx: Ctx): PathKind<Ctx> {
  return KINDS[ctx.kind];
}

/** names worth asking W&B about when they are not in a listing (not '.git', '.Trash', ...) */
const PLAUSIBLE_NAME = /^[^./\0][^/\0]*$/;

class Tree implements WandbMetaTree {
  private readonly store: MetaStore;
  private readonly sync: Syncer;
  private readonly clock: Clock;
  private readonly ttls: Ttls;
  private readonly api: WandbApi;
  private readonly env: TreeEnv;
  private readonly negative = new Map<string, number>();
  private readonly cache: PathCache;

  constructor(private readonly o: MetaTreeOptions) {
    if (o.rootProject !== undefined && o.rootEntity === undefined) {
      throw new Error('rootProject needs rootEntity');
    }
    this.api = o.api;
    this.clock = o.clock ?? systemClock;
    const log = o.log ?? silentLogger;
    this.ttls = { ...DEFAULT_TTLS, ...o.ttl };
    this.cache = new PathCache(o.pathCacheEntries ?? PATH_CACHE_ENTRIES);
    // every write to the metadata store drops the resolved paths built from it
    this.store = new MetaStore(watchWrites(o.db, () => this.cache.invalidate()));
    this.sync = new Syncer(this.store, this.clock, log, this.ttls);
    this.env = {
      store: this.store,
      fetchers: new Fetchers(o.api, this.store, log, (l) => this.sync.recordInline(l)),
      ttls: this.ttls,
      urls: new AppUrls(o.appBaseUrl ?? appUrlFromBaseUrl(o.baseUrl ?? 'https://api.wandb.ai')),
      startedAtMs: this.clock.nowMs(),
      listings: (ctx) => this.listings(ctx),
      ensure: (ctx) => this.ensure(ctx),
      remoteEntity: (name) => this.remoteEntity(name),
      remoteProject: (entity, name) => this.remoteProject(entity, name),
    };
  }

  // ---- MetaTree -------------------------------------------------------------------------------

  async lookup(path: string): Promise<Node | null> {
    const r = await this.resolve(path);
    return r ? this.nodeOf(r, path) : null;
  }

  /** A node is built for the path it was asked by; a path cached under another spelling gets its own. */
  private nodeOf(r: Resolved, path: string): Node {
    if (r.node?.path === path) return r.node;
    const node = kindOf(r.ctx).node(this.env, r.ctx, path);
    r.node = node;
    return node;
  }

  lookupCached(path: string): Node | undefined {
    // FUSE paths are canonical, so the path is its own cache key (another spelling simply misses)
    const r = this.cache.get(path, this.clock.nowMs());
    return r ? this.nodeOf(r, path) : undefined;
  }

  async readdir(path: string): Promise<DirEntry[] | null> {
    const r = await this.resolve(path);
    if (!r) return null;
    const kind = kindOf(r.ctx);
    if (!kind.children) return null;
    if (r.children && r.children.checkAtMs > this.clock.nowMs()) return [...r.children.entries];
    const epoch = this.cache.epoch;
    const horizon = { atMs: r.checkAtMs };
    await this.ensureTracked(r.ctx, horizon);
    const resolved = kind.resolvedChildren?.(this.env, r.ctx);
    const entries = resolved
      ? resolved.map(({ name, kind: k }) => ({ name, kind: k }))
      : kind.children(this.env, r.ctx);
    if (epoch === this.cache.epoch && horizon.atMs > this.clock.nowMs()) {
      r.children = { entries, checkAtMs: horizon.atMs };
      if (resolved) this.seed(path, resolved, horizon.atMs, epoch);
    }
    return [...entries];
  }

  /**
   * Stores the children of the directory at `path` as resolved paths, trusted as long as the listing
   * they came from. Not for a directory so large it would push most of the cache out.
   */
  private seed(path: string, children: readonly ResolvedEntry[], checkAtMs: number, epoch: number): void {
    if (children.length > this.cache.capacity / 4) return;
    const base = prefixPath(
      path.split('/').filter((seg) => seg !== ''),
      Infinity,
    );
    const dir = base === '/' ? '' : base;
    const nowMs = this.clock.nowMs();
    for (const c of children) this.cache.set(`${dir}/${c.name}`, { ctx: c.ctx, checkAtMs }, epoch, nowMs);
  }

  async refresh(path: string): Promise<void> {
    const ctx = (await this.resolve(path))?.ctx;
    if (!ctx) return;
    const kind = kindOf(ctx);
    for (const prefix of kind.stalePrefixes(this.env, ctx)) this.store.markStale(prefix);
    this.negative.clear();
    const listings = kind.refreshListings ? kind.refreshListings(this.env, ctx) : this.listings(ctx);
    await Promise.all(listings.map((l) => this.sync.run(l.key, l.fetch)));
  }

  status(): MetaStatus {
    return {
      staleListings: this.store.staleCount(),
      refreshesInFlight: this.sync.inFlight(),
      lastError: this.sync.lastError(),
      resolvedPaths: this.cache.size,
    };
  }

  async close(): Promise<void> {
    await this.sync.close();
  }

  idle(): Promise<void> {
    return this.sync.idle();
  }

  fetchCount(): number {
    return this.sync.fetchesStarted;
  }

  // ---- resolution -----------------------------------------------------------------------------

  /**
   * What `path` names, from the longest resolved prefix in the cache onwards: a warm path costs a
   * map read, a path whose parent is cached one step. Each step is stored with the horizon of the
   * listings it went through (and its parent's), unless the store was written meanwhile.
   */
  private async resolve(path: string): Promise<Resolved | null> {
    if (!path.startsWith('/')) return null;
    const segs = path.split('/').filter((seg) => seg !== '');
    // the kernel resolves '.' and '..' itself; as names they could only alias something else
    if (segs.some((seg) => seg === '.' || seg === '..')) return null;
    const nowMs = this.clock.nowMs();
    let i = segs.length;
    let at: Resolved | undefined;
    for (; i >= 0 && at === undefined; i--) at = this.cache.get(prefixPath(segs, i), nowMs);
    i++;
    let cur: Resolved | null = at ?? (await this.resolveRoot());
    for (; cur !== null && i < segs.length; i++) cur = await this.step(cur, segs, i);
    return cur;
  }

  /** Resolves segment `i` inside `parent` (the path of segs[0..i)). */
  private async step(parent: Resolved, segs: string[], i: number): Promise<Resolved | null> {
    const kind = kindOf(parent.ctx);
    if (!kind.child) return null;
    const epoch = this.cache.epoch;
    const horizon = { atMs: parent.checkAtMs };
    const env: TreeEnv = { ...this.env, ensure: (ctx) => this.ensureTracked(ctx, horizon) };
    const ctx = await kind.child(env, parent.ctx, segs[i] as string);
    if (!ctx) return null;
    const r: Resolved = { ctx, checkAtMs: horizon.atMs };
    this.cache.set(prefixPath(segs, i + 1), r, epoch, this.clock.nowMs());
    return r;
  }

  private async resolveRoot(): Promise<Resolved | null> {
    const epoch = this.cache.epoch;
    const ctx = await this.rootCtx();
    if (!ctx) return null;
    const r: Resolved = { ctx, checkAtMs: Number.POSITIVE_INFINITY };
    this.cache.set('/', r, epoch, this.clock.nowMs());
    return r;
  }

  private async rootCtx(): Promise<Ctx | null> {
    const { rootEntity, rootProject } = this.o;
    if (rootEntity === undefined) return { kind: 'root' };
    if (rootProject === undefined) {
      return { kind: 'entity', entity: rootEntity, mtimeMs: this.env.startedAtMs };
    }
    const project =
      this.store.projectByName(rootEntity, rootProject) ??
      (await this.remoteProject(rootEntity, rootProject));
    return project ? { kind: 'project', project } : null;
  }

  // ---- listings -------------------------------------------------------------------------------

  /** The listings a path's children come from. */
  private listings(ctx: Ctx): Listing[] {
    const kind = kindOf(ctx);
    return kind.listings ? kind.listings(this.env, ctx) : [];
  }

  private async ensure(ctx: Ctx): Promise<void> {
    for (const l of this.listings(ctx)) await this.sync.ensure(l.key, l.ttlMs, l.fetch);
  }

  /** ensure(), lowering `horizon` to when the first of those listings stops being fresh. */
  private async ensureTracked(ctx: Ctx, horizon: { atMs: number }): Promise<void> {
    for (const l of this.listings(ctx)) {
      await this.sync.ensure(l.key, l.ttlMs, l.fetch);
      const until = freshUntilMs(this.store.listing(l.key), l.ttlMs, this.clock.nowMs(), this.ttls);
      horizon.atMs = Math.min(horizon.atMs, until);
    }
  }

  // ---- names W&B resolves that no listing shows -----------------------------------------------

  private isNegative(key: string): boolean {
    const until = this.negative.get(key);
    if (until === undefined) return false;
    if (until > this.clock.nowMs()) return true;
    this.negative.delete(key);
    return false;
  }

  /** Asks W&B once; "not found" and failures are remembered briefly so lookups do not hammer it. */
  private async remote<T>(nkey: string, name: string, ask: () => Promise<T | null>): Promise<T | null> {
    if (!PLAUSIBLE_NAME.test(name) || this.isNegative(nkey)) return null;
    try {
      const found = await ask();
      if (found === null) this.negative.set(nkey, negativeUntilMs(this.clock.nowMs(), this.ttls));
      return found;
    } catch (err) {
      this.negative.set(nkey, negativeUntilMs(this.clock.nowMs(), this.ttls));
      throw err;
    }
  }

  /** The entity whose directory name is `name`, stored; null when W&B has none by that name. */
  private async remoteEntity(name: string): Promise<EntityRecord | null> {
    const e = await this.remote(`entity\0${name}`, name, () => this.api.entity(name));
    if (!e || sanitizeSegment(e.name) !== name) return null;
    this.store.putEntity(e);
    return e;
  }

  private async remoteProject(entity: string, name: string): Promise<ProjectRow | null> {
    const p = await this.remote(`project\0${entity}\0${name}`, name, () => this.api.project(entity, name));
    return p ? this.store.putProject(p) : null;
  }
}

/** The cache key of the first `n` segments: '/', '/a', '/a/b' (one spelling per path). */
function prefixPath(segs: readonly string[], n: number): string {
  return '/' + segs.slice(0, n).join('/');
}
