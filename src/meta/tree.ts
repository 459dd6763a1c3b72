import type { WandbApi } from '../api/client-interface.js';
import type { EntityRecord } from '../api/types.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import { silentLogger, type Logger } from '../core/log.js';
import { ARTIFACT_KINDS } from './dirs/artifacts.js';
import { ENTITY_KINDS } from './dirs/entities.js';
import type { Ctx, KindTable, Listing, PathKind, TreeEnv } from './dirs/kind.js';
import { LINK_KINDS } from './dirs/link.js';
import { RUN_ARTIFACT_KINDS } from './dirs/run-artifacts.js';
import { RUN_KINDS } from './dirs/runs.js';
import { SWEEP_KINDS } from './dirs/sweeps.js';
import { Fetchers } from './fetchers.js';
import { DEFAULT_TTLS, negativeUntilMs, type Ttls } from './freshness.js';
import { sanitizeSegment } from './naming.js';
import { MetaStore, type ProjectRow } from './store/index.js';
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
}

/** The tree plus hooks tests and the status file use. */
export interface WandbMetaTree extends MetaTree {
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

  constructor(private readonly o: MetaTreeOptions) {
    if (o.rootProject !== undefined && o.rootEntity === undefined) {
      throw new Error('rootProject needs rootEntity');
    }
    this.api = o.api;
    this.clock = o.clock ?? systemClock;
    const log = o.log ?? silentLogger;
    this.ttls = { ...DEFAULT_TTLS, ...o.ttl };
    this.store = new MetaStore(o.db);
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
    const ctx = await this.resolve(path);
    return ctx ? kindOf(ctx).node(this.env, ctx, path) : null;
  }

  async readdir(path: string): Promise<DirEntry[] | null> {
    const ctx = await this.resolve(path);
    if (!ctx) return null;
    await this.ensure(ctx);
    const kind = kindOf(ctx);
    return kind.children ? kind.children(this.env, ctx) : null;
  }

  async refresh(path: string): Promise<void> {
    const ctx = await this.resolve(path);
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

  private async resolve(path: string): Promise<Ctx | null> {
    if (!path.startsWith('/')) return null;
    let ctx: Ctx | null = await this.rootCtx();
    for (const seg of path.split('/')) {
      if (seg === '') continue;
      // the kernel resolves '.' and '..' itself; as names they could only alias something else
      if (seg === '.' || seg === '..') return null;
      if (!ctx) return null;
      const kind = kindOf(ctx);
      ctx = kind.child ? await kind.child(this.env, ctx, seg) : null;
    }
    return ctx;
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
