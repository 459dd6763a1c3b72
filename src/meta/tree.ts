import type { WandbApi } from '../api/client-interface.js';
import type { VersionRecord } from '../api/types.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import { silentLogger, type Logger } from '../core/log.js';
import { Fetchers } from './fetchers.js';
import {
  DEFAULT_TTLS,
  IMMUTABLE,
  isCommittedVersion,
  negativeUntilMs,
  runTtlMs,
  type Ttls,
} from './freshness.js';
import * as keys from './keys.js';
import { versionMetadataJson, runMetadataJson, sweepMetadataJson } from './metadata-json.js';
import { assignNames, sanitizeSegment } from './naming.js';
import { dirNode, generatedFile, manifestFileNode, runFileNode, symlinkNode } from './nodes.js';
import {
  isoToMs,
  MetaStore,
  type CollectionRow,
  type EntryRow,
  type FileRow,
  type ProjectRow,
  type RunArtifactRow,
  type RunRow,
  type SweepRow,
} from './store.js';
import { Syncer, type Fetch } from './sync.js';
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

type Direction = 'input' | 'output';

interface VersionCtx {
  record: VersionRecord;
  committed: boolean;
  mtimeMs: number;
  url: string;
  usedAs?: string[];
}

interface LinkGroup {
  fsName: string;
  links: RunArtifactRow[];
}

type Ctx =
  | { k: 'root' }
  | { k: 'entity'; entity: string; mtimeMs: number }
  | { k: 'project'; p: ProjectRow }
  | { k: 'runs' | 'artifacts' | 'sweeps'; p: ProjectRow }
  | { k: 'run' | 'run-meta' | 'run-arts'; p: ProjectRow; run: RunRow }
  | { k: 'run-files'; p: ProjectRow; run: RunRow; dir: string }
  | { k: 'run-file'; p: ProjectRow; run: RunRow; file: FileRow }
  | { k: 'run-arts-dir'; p: ProjectRow; run: RunRow; direction: Direction }
  | { k: 'run-arts-coll'; p: ProjectRow; run: RunRow; direction: Direction; group: LinkGroup }
  | { k: 'version' | 'version-meta'; v: VersionCtx }
  | { k: 'version-files'; v: VersionCtx; dir: string }
  | { k: 'version-file'; v: VersionCtx; entry: EntryRow }
  | { k: 'collection'; p: ProjectRow; c: CollectionRow }
  | { k: 'sweep' | 'sweep-meta' | 'sweep-runs'; p: ProjectRow; s: SweepRow }
  | { k: 'link'; target: string; mtimeMs: number; immutable: boolean };

interface Listing {
  key: string;
  ttlMs: number;
  fetch: Fetch;
}

const PROJECT_DIRS = ['artifacts', 'runs', 'sweeps'] as const;
const VERSION_DIR = /^v(0|[1-9]\d*)$/;
/** names worth asking W&B about when they are not in a listing (not '.git', '.Trash', ...) */
const PLAUSIBLE_NAME = /^[^./\0][^/\0]*$/;

function joinDir(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

function projectMtime(p: ProjectRow): number {
  return isoToMs(p.record.updatedAt) ?? isoToMs(p.record.createdAt) ?? 0;
}

class Tree implements WandbMetaTree {
  private readonly store: MetaStore;
  private readonly sync: Syncer;
  private readonly fetchers: Fetchers;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly ttls: Ttls;
  private readonly urls: AppUrls;
  private readonly api: WandbApi;
  private readonly startedAtMs: number;
  private readonly negative = new Map<string, number>();

  constructor(private readonly o: MetaTreeOptions) {
    if (o.rootProject !== undefined && o.rootEntity === undefined) {
      throw new Error('rootProject needs rootEntity');
    }
    this.api = o.api;
    this.clock = o.clock ?? systemClock;
    this.log = o.log ?? silentLogger;
    this.ttls = { ...DEFAULT_TTLS, ...o.ttl };
    this.store = new MetaStore(o.db);
    this.sync = new Syncer(this.store, this.clock, this.log, this.ttls);
    this.fetchers = new Fetchers(o.api, this.store, this.log, (l) => this.sync.recordInline(l));
    this.urls = new AppUrls(o.appBaseUrl ?? appUrlFromBaseUrl(o.baseUrl ?? 'https://api.wandb.ai'));
    this.startedAtMs = this.clock.nowMs();
  }

  // ---- MetaTree -------------------------------------------------------------------------------

  async lookup(path: string): Promise<Node | null> {
    const ctx = await this.resolve(path);
    return ctx ? this.node(ctx, path) : null;
  }

  async readdir(path: string): Promise<DirEntry[] | null> {
    const ctx = await this.resolve(path);
    return ctx ? this.children(ctx) : null;
  }

  async refresh(path: string): Promise<void> {
    const ctx = await this.resolve(path);
    if (!ctx) return;
    for (const prefix of this.stalePrefixes(ctx)) this.store.markStale(prefix);
    this.negative.clear();
    await Promise.all(this.refreshListings(ctx).map((l) => this.sync.run(l.key, l.fetch)));
  }

  /** What `refresh` re-lists at once: the directory's own listing, or its contents' for fixed dirs. */
  private refreshListings(ctx: Ctx): Listing[] {
    switch (ctx.k) {
      case 'project':
        return (['runs', 'artifacts', 'sweeps'] as const).flatMap((k) => this.listingsOf({ k, p: ctx.p }));
      case 'run':
      case 'run-meta':
        return this.listingsOf({ k: 'run-files', p: ctx.p, run: ctx.run, dir: '' });
      case 'run-arts':
        return (['input', 'output'] as const).flatMap((direction) =>
          this.listingsOf({ k: 'run-arts-dir', p: ctx.p, run: ctx.run, direction }),
        );
      case 'version':
      case 'version-meta':
        return this.listingsOf({ k: 'version-files', v: ctx.v, dir: '' });
      case 'sweep':
      case 'sweep-meta':
        return this.listingsOf({ k: 'sweep-runs', p: ctx.p, s: ctx.s });
      default:
        return this.listingsOf(ctx);
    }
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
      ctx = await this.child(ctx, seg);
    }
    return ctx;
  }

  private async rootCtx(): Promise<Ctx | null> {
    const { rootEntity, rootProject } = this.o;
    if (rootEntity === undefined) return { k: 'root' };
    if (rootProject === undefined) return { k: 'entity', entity: rootEntity, mtimeMs: this.startedAtMs };
    const p =
      this.store.projectByName(rootEntity, rootProject) ??
      (await this.remoteProject(rootEntity, rootProject));
    return p ? { k: 'project', p } : null;
  }

  private async child(ctx: Ctx, name: string): Promise<Ctx | null> {
    switch (ctx.k) {
      case 'root': {
        await this.ensureAll(ctx);
        const e = this.store.entityByFsName(name);
        if (e) return { k: 'entity', entity: e.name, mtimeMs: isoToMs(e.createdAt) ?? this.startedAtMs };
        return this.remoteEntity(name);
      }
      case 'entity': {
        await this.ensureAll(ctx);
        const p =
          this.store.projectByFsName(ctx.entity, name) ?? (await this.remoteProject(ctx.entity, name));
        return p ? { k: 'project', p } : null;
      }
      case 'project':
        return (PROJECT_DIRS as readonly string[]).includes(name)
          ? { k: name as 'runs' | 'artifacts' | 'sweeps', p: ctx.p }
          : null;
      case 'runs': {
        await this.ensureAll(ctx);
        // The listing is complete, so W&B is not asked about other names: a run created since
        // appears with the next refresh of the listing.
        const run = this.store.runByFsName(ctx.p.pk, name) ?? this.store.runByName(ctx.p.pk, name);
        return run ? { k: 'run', p: ctx.p, run } : null;
      }
      case 'run':
        if (name === 'files') return { k: 'run-files', p: ctx.p, run: ctx.run, dir: '' };
        if (name === 'artifacts') return { k: 'run-arts', p: ctx.p, run: ctx.run };
        if (name === 'metadata.json') {
          await this.ensureAll({ k: 'run-files', p: ctx.p, run: ctx.run, dir: '' });
          const run = this.store.runByName(ctx.p.pk, ctx.run.name);
          return run ? { k: 'run-meta', p: ctx.p, run } : null;
        }
        return null;
      case 'run-files': {
        await this.ensureAll(ctx);
        const file = this.store.runFile(ctx.run.pk, ctx.dir, name);
        if (file) return { k: 'run-file', p: ctx.p, run: ctx.run, file };
        return this.store.runFileDirExists(ctx.run.pk, ctx.dir, name)
          ? { k: 'run-files', p: ctx.p, run: ctx.run, dir: joinDir(ctx.dir, name) }
          : null;
      }
      case 'run-arts':
        return name === 'input' || name === 'output'
          ? { k: 'run-arts-dir', p: ctx.p, run: ctx.run, direction: name }
          : null;
      case 'run-arts-dir': {
        await this.ensureAll(ctx);
        const group = this.linkGroups(ctx.run, ctx.direction).find((g) => g.fsName === name);
        return group ? { k: 'run-arts-coll', p: ctx.p, run: ctx.run, direction: ctx.direction, group } : null;
      }
      case 'run-arts-coll': {
        const link = ctx.group.links.find((l) => `v${l.versionIndex}` === name);
        if (link) return { k: 'version', v: this.versionCtx(link.link.version, link.link.usedAs) };
        const target = this.groupAliases(ctx.group).get(name);
        if (target === undefined) return null;
        const v = ctx.group.links.find((l) => l.versionIndex === target);
        const vctx = v ? this.versionCtx(v.link.version) : null;
        return { k: 'link', target: `v${target}`, mtimeMs: vctx?.mtimeMs ?? 0, immutable: false };
      }
      case 'artifacts': {
        await this.ensureAll(ctx);
        const c = this.store.collectionByFsName(ctx.p.pk, name);
        return c ? { k: 'collection', p: ctx.p, c } : null;
      }
      case 'collection': {
        await this.ensureAll(ctx);
        const m = VERSION_DIR.exec(name);
        if (m) {
          const row = this.store.version(ctx.c.pk, Number(m[1]));
          return row ? { k: 'version', v: this.versionCtx(row.record) } : null;
        }
        const alias = this.store.aliasByFsName(ctx.c.pk, name);
        if (!alias) return null;
        return {
          k: 'link',
          target: `v${alias.versionIndex}`,
          mtimeMs: this.collectionMtime(ctx.c),
          immutable: false,
        };
      }
      case 'version':
        if (name === 'metadata.json') return { k: 'version-meta', v: ctx.v };
        if (name === 'files') return { k: 'version-files', v: ctx.v, dir: '' };
        return null;
      case 'version-files': {
        await this.ensureAll(ctx);
        const id = ctx.v.record.id;
        const entry = this.store.manifestEntry(id, ctx.dir, name);
        if (entry) return { k: 'version-file', v: ctx.v, entry };
        return this.store.manifestDirExists(id, ctx.dir, name)
          ? { k: 'version-files', v: ctx.v, dir: joinDir(ctx.dir, name) }
          : null;
      }
      case 'sweeps': {
        await this.ensureAll(ctx);
        const s = this.store.sweepByFsName(ctx.p.pk, name) ?? this.store.sweepByName(ctx.p.pk, name);
        return s ? { k: 'sweep', p: ctx.p, s } : null;
      }
      case 'sweep':
        if (name === 'metadata.json') return { k: 'sweep-meta', p: ctx.p, s: ctx.s };
        if (name === 'runs') return { k: 'sweep-runs', p: ctx.p, s: ctx.s };
        return null;
      case 'sweep-runs': {
        await this.ensureAll(ctx);
        if (!this.store.hasSweepRun(ctx.s.pk, ctx.p.pk, name)) return null;
        return {
          k: 'link',
          target: `../../../runs/${name}`,
          mtimeMs: this.sweepMtime(ctx.s),
          immutable: false,
        };
      }
      default:
        return null;
    }
  }

  private async children(ctx: Ctx): Promise<DirEntry[] | null> {
    await this.ensureAll(ctx);
    const dirs = (names: string[]): DirEntry[] => names.map((name) => ({ name, kind: 'dir' }));
    switch (ctx.k) {
      case 'root':
        return dirs(this.store.rootEntities());
      case 'entity':
        return dirs(this.store.projects(ctx.entity));
      case 'project':
        return dirs([...PROJECT_DIRS]);
      case 'runs':
        return dirs(this.store.runs(ctx.p.pk));
      case 'run':
        return [
          { name: 'artifacts', kind: 'dir' },
          { name: 'files', kind: 'dir' },
          { name: 'metadata.json', kind: 'file' },
        ];
      case 'run-files':
        return this.store.runFileChildren(ctx.run.pk, ctx.dir);
      case 'run-arts':
        return dirs(['input', 'output']);
      case 'run-arts-dir':
        return dirs(this.linkGroups(ctx.run, ctx.direction).map((g) => g.fsName));
      case 'run-arts-coll': {
        const versions = [...ctx.group.links].sort((a, b) => a.versionIndex - b.versionIndex);
        const out: DirEntry[] = versions.map((l) => ({ name: `v${l.versionIndex}`, kind: 'dir' }));
        for (const alias of [...this.groupAliases(ctx.group).keys()].sort())
          out.push({ name: alias, kind: 'symlink' });
        return out;
      }
      case 'artifacts':
        return dirs(this.store.collections(ctx.p.pk));
      case 'collection': {
        const out: DirEntry[] = this.store.versions(ctx.c.pk).map((i) => ({ name: `v${i}`, kind: 'dir' }));
        for (const a of this.store.aliases(ctx.c.pk)) out.push({ name: a.fsName, kind: 'symlink' });
        return out;
      }
      case 'version':
        return [
          { name: 'files', kind: 'dir' },
          { name: 'metadata.json', kind: 'file' },
        ];
      case 'version-files':
        return this.store.manifestChildren(ctx.v.record.id, ctx.dir);
      case 'sweeps':
        return dirs(this.store.sweeps(ctx.p.pk));
      case 'sweep':
        return [
          { name: 'metadata.json', kind: 'file' },
          { name: 'runs', kind: 'dir' },
        ];
      case 'sweep-runs':
        return this.store.sweepRuns(ctx.s.pk, ctx.p.pk).map((name) => ({ name, kind: 'symlink' }));
      default:
        return null;
    }
  }

  private node(ctx: Ctx, path: string): Node {
    switch (ctx.k) {
      case 'root':
        return dirNode(path, this.startedAtMs, false);
      case 'entity':
        return dirNode(path, ctx.mtimeMs, false, { 'user.wandb.url': this.urls.entity(ctx.entity) });
      case 'project':
        return dirNode(path, projectMtime(ctx.p), false, {
          'user.wandb.id': ctx.p.record.id,
          'user.wandb.url': this.urls.project(ctx.p.entity, ctx.p.name),
        });
      case 'runs':
      case 'artifacts':
      case 'sweeps':
        return dirNode(path, projectMtime(ctx.p), false);
      case 'run':
        return dirNode(path, ctx.run.mtimeMs, false, this.runXattrs(ctx.p, ctx.run));
      case 'run-meta': {
        const url = this.urls.run(ctx.p.entity, ctx.p.name, ctx.run.name);
        return generatedFile(
          path,
          runMetadataJson(ctx.run.record, ctx.p.entity, ctx.p.name, url),
          ctx.run.mtimeMs,
          false,
        );
      }
      case 'run-files':
      case 'run-arts':
      case 'run-arts-dir':
        return dirNode(path, ctx.run.mtimeMs, false);
      case 'run-file': {
        const url = this.urls.runFile(ctx.p.entity, ctx.p.name, ctx.run.name, ctx.file.name);
        const mtime = isoToMs(ctx.file.updatedAt) ?? ctx.run.mtimeMs;
        return runFileNode(
          path,
          { entity: ctx.p.entity, project: ctx.p.name, run: ctx.run },
          ctx.file,
          mtime,
          url,
        );
      }
      case 'run-arts-coll': {
        const times = ctx.group.links.map((l) => isoToMs(l.link.version.createdAt) ?? 0);
        return dirNode(path, Math.max(0, ...times), false);
      }
      case 'version':
        return dirNode(path, ctx.v.mtimeMs, ctx.v.committed, {
          'user.wandb.id': ctx.v.record.id,
          'user.wandb.state': ctx.v.record.state,
          'user.wandb.url': ctx.v.url,
        });
      case 'version-meta':
        return generatedFile(
          path,
          versionMetadataJson(ctx.v.record, ctx.v.url, ctx.v.usedAs),
          ctx.v.mtimeMs,
          ctx.v.committed,
        );
      case 'version-files':
        return dirNode(path, ctx.v.mtimeMs, ctx.v.committed);
      case 'version-file': {
        const r = ctx.v.record;
        const url = this.urls.versionFile(
          r.entityName,
          r.projectName,
          r.typeName,
          r.collectionName,
          r.versionIndex,
          ctx.entry.path,
        );
        return manifestFileNode(path, r.id, ctx.entry, ctx.v.mtimeMs, ctx.v.committed, url, {
          entity: r.entityName,
          project: r.projectName,
          collection: r.collectionName,
          version: `v${r.versionIndex}`,
        });
      }
      case 'collection':
        return dirNode(path, this.collectionMtime(ctx.c), false, {
          'user.wandb.id': ctx.c.record.id,
          'user.wandb.type': ctx.c.typeName,
          'user.wandb.url': this.urls.collection(ctx.p.entity, ctx.p.name, ctx.c.typeName, ctx.c.name),
        });
      case 'sweep':
        return dirNode(path, this.sweepMtime(ctx.s), false, {
          'user.wandb.id': ctx.s.name,
          'user.wandb.state': ctx.s.record.state,
          'user.wandb.url': this.urls.sweep(ctx.p.entity, ctx.p.name, ctx.s.name),
        });
      case 'sweep-meta': {
        const url = this.urls.sweep(ctx.p.entity, ctx.p.name, ctx.s.name);
        return generatedFile(
          path,
          sweepMetadataJson(ctx.s.record, ctx.p.entity, ctx.p.name, url),
          this.sweepMtime(ctx.s),
          false,
        );
      }
      case 'sweep-runs':
        return dirNode(path, this.sweepMtime(ctx.s), false);
      case 'link':
        return symlinkNode(path, ctx.target, ctx.mtimeMs, ctx.immutable);
    }
  }

  // ---- listings and freshness -----------------------------------------------------------------

  /** The listings a directory's children come from. */
  private listingsOf(ctx: Ctx): Listing[] {
    const L = this.ttls.listingMs;
    switch (ctx.k) {
      case 'root':
        return [{ key: keys.rootKey, ttlMs: L, fetch: this.fetchers.rootEntities() }];
      case 'entity':
        return [{ key: keys.projectsKey(ctx.entity), ttlMs: L, fetch: this.fetchers.projects(ctx.entity) }];
      case 'runs':
        return [{ key: keys.runsKey(ctx.p.entity, ctx.p.name), ttlMs: L, fetch: this.fetchers.runs(ctx.p) }];
      case 'run-files':
      case 'run-meta':
        return [
          {
            key: keys.runKey(ctx.p.entity, ctx.p.name, ctx.run.name),
            ttlMs: runTtlMs(ctx.run.state, this.ttls),
            fetch: this.fetchers.runDetail(ctx.p, ctx.run),
          },
        ];
      case 'run-arts-dir':
        return [
          {
            key: keys.runArtifactsKey(ctx.p.entity, ctx.p.name, ctx.run.name, ctx.direction),
            ttlMs: runTtlMs(ctx.run.state, this.ttls),
            fetch: this.fetchers.runArtifacts(ctx.p, ctx.run, ctx.direction),
          },
        ];
      case 'artifacts':
        return [
          {
            key: keys.collectionsKey(ctx.p.entity, ctx.p.name),
            ttlMs: L,
            fetch: this.fetchers.collections(ctx.p),
          },
        ];
      case 'collection':
        return [
          {
            key: keys.versionsKey(ctx.p.entity, ctx.p.name, ctx.c.typeName, ctx.c.name),
            ttlMs: L,
            fetch: this.fetchers.versions(ctx.p, ctx.c),
          },
        ];
      case 'version-files': {
        const r = ctx.v.record;
        const label = `${r.entityName}/${r.projectName}/${r.collectionName}:v${r.versionIndex}`;
        return [
          {
            key: keys.manifestKey(r.id),
            ttlMs: ctx.v.committed ? IMMUTABLE : L,
            fetch: this.fetchers.manifest(r.id, label),
          },
        ];
      }
      case 'sweeps':
        return [
          { key: keys.sweepsKey(ctx.p.entity, ctx.p.name), ttlMs: L, fetch: this.fetchers.sweeps(ctx.p) },
        ];
      case 'sweep-runs':
        // the runs listing too: link names are the runs' directory names, which depend on it
        return [
          ...this.listingsOf({ k: 'runs', p: ctx.p }),
          {
            key: keys.sweepRunsKey(ctx.p.entity, ctx.p.name, ctx.s.name),
            ttlMs: L,
            fetch: this.fetchers.sweepRuns(ctx.p, ctx.s),
          },
        ];
      default:
        return [];
    }
  }

  /** Key prefixes `refresh(path)` marks stale: every listing at or below the directory. */
  private stalePrefixes(ctx: Ctx): string[] {
    switch (ctx.k) {
      case 'root':
        return [keys.rootKey, 'e', 'manifest'];
      case 'entity':
        return [keys.projectsKey(ctx.entity)];
      case 'project':
        return [keys.projectKey(ctx.p.entity, ctx.p.name)];
      case 'runs':
        return [keys.runsKey(ctx.p.entity, ctx.p.name), `${keys.projectKey(ctx.p.entity, ctx.p.name)}/run`];
      case 'artifacts':
        return [
          keys.collectionsKey(ctx.p.entity, ctx.p.name),
          `${keys.projectKey(ctx.p.entity, ctx.p.name)}/versions`,
        ];
      case 'sweeps':
        return [
          keys.sweepsKey(ctx.p.entity, ctx.p.name),
          `${keys.projectKey(ctx.p.entity, ctx.p.name)}/sweep`,
        ];
      case 'run':
      case 'run-files':
      case 'run-meta':
      case 'run-file':
      case 'run-arts':
      case 'run-arts-dir':
      case 'run-arts-coll':
        return [keys.runKey(ctx.p.entity, ctx.p.name, ctx.run.name)];
      case 'collection':
        return [keys.versionsKey(ctx.p.entity, ctx.p.name, ctx.c.typeName, ctx.c.name)];
      case 'version':
      case 'version-meta':
      case 'version-files':
      case 'version-file':
        return [keys.manifestKey(ctx.v.record.id)];
      case 'sweep':
      case 'sweep-meta':
      case 'sweep-runs':
        return [keys.sweepRunsKey(ctx.p.entity, ctx.p.name, ctx.s.name)];
      case 'link':
        return [];
    }
  }

  private async ensureAll(ctx: Ctx): Promise<void> {
    for (const l of this.listingsOf(ctx)) await this.sync.ensure(l.key, l.ttlMs, l.fetch);
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

  private async remoteEntity(name: string): Promise<Ctx | null> {
    const e = await this.remote(`entity\0${name}`, name, () => this.api.entity(name));
    if (!e || sanitizeSegment(e.name) !== name) return null;
    this.store.putEntity(e);
    return { k: 'entity', entity: e.name, mtimeMs: isoToMs(e.createdAt) ?? this.startedAtMs };
  }

  private async remoteProject(entity: string, name: string): Promise<ProjectRow | null> {
    const p = await this.remote(`project\0${entity}\0${name}`, name, () => this.api.project(entity, name));
    return p ? this.store.putProject(p) : null;
  }

  // ---- helpers --------------------------------------------------------------------------------

  private runXattrs(p: ProjectRow, run: RunRow): Record<string, string> {
    const x: Record<string, string> = {
      'user.wandb.id': run.name,
      'user.wandb.url': this.urls.run(p.entity, p.name, run.name),
    };
    if (run.state !== null) x['user.wandb.state'] = run.state;
    return x;
  }

  private versionCtx(record: VersionRecord, usedAs?: string[]): VersionCtx {
    const ctx: VersionCtx = {
      record,
      committed: isCommittedVersion(record.state),
      mtimeMs: isoToMs(record.createdAt) ?? 0,
      url: this.urls.version(
        record.entityName,
        record.projectName,
        record.typeName,
        record.collectionName,
        record.versionIndex,
      ),
    };
    if (usedAs !== undefined) ctx.usedAs = usedAs;
    return ctx;
  }

  private collectionMtime(c: CollectionRow): number {
    return isoToMs(c.record.updatedAt) ?? isoToMs(c.record.createdAt) ?? 0;
  }

  private sweepMtime(s: SweepRow): number {
    return isoToMs(s.record.updatedAt) ?? isoToMs(s.record.createdAt) ?? 0;
  }

  /** A run's linked versions grouped into one directory per collection, named like artifacts/. */
  private linkGroups(run: RunRow, direction: Direction): LinkGroup[] {
    const byKey = new Map<string, RunArtifactRow[]>();
    for (const row of this.store.runArtifacts(run.pk, direction)) {
      const key = [row.entity, row.project, row.typeName, row.collection].join('\0');
      const list = byKey.get(key);
      if (list) list.push(row);
      else byKey.set(key, [row]);
    }
    const names = assignNames(
      [...byKey.entries()].map(([key, rows]) => ({
        key,
        base: sanitizeSegment(rows[0]?.collection ?? ''),
        disambiguator: rows[0]?.typeName ?? '',
      })),
    );
    const groups: LinkGroup[] = [];
    for (const [key, links] of byKey) groups.push({ fsName: names.get(key) ?? key, links });
    return groups.sort((a, b) => (a.fsName < b.fsName ? -1 : a.fsName > b.fsName ? 1 : 0));
  }

  /** Alias name → version index, for aliases whose version is in the group (highest index wins). */
  private groupAliases(group: LinkGroup): Map<string, number> {
    const out = new Map<string, number>();
    for (const l of group.links) {
      for (const alias of l.link.version.aliases) {
        if (VERSION_DIR.test(alias)) continue;
        const name = sanitizeSegment(alias);
        if ((out.get(name) ?? -1) < l.versionIndex) out.set(name, l.versionIndex);
      }
    }
    return out;
  }
}
