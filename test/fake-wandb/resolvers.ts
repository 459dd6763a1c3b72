/**
 * GraphQL resolvers: plain objects whose function-valued properties graphql-js's default field
 * resolver calls with (args). Interfaces/unions resolve through `__typename` on the object.
 * Missing objects resolve to null, never to errors, as W&B does.
 */
import { GraphQLError } from 'graphql';
import type { FixtureBase } from './fixture-base.js';
import type {
  ArtifactFx,
  CollectionFx,
  EntityFx,
  ManifestEntryFx,
  MembershipFx,
  OrganizationFx,
  ProjectFx,
  RunFileFx,
  RunFx,
  StrayAliasFx,
  SweepFx,
} from './fixture-types.js';
import { connection, type PageArgs } from './pagination.js';
import { matchArtifact, parseArtifactFilters } from './artifact-filters.js';
import { stringifyExtended } from './extended-json.js';
import type { ListingControls } from './listing-controls.js';
import { matchRun, parseFilters } from './run-query.js';
import { orderedRuns } from './run-order.js';
import type { UrlSigner } from './signing.js';
import { gid } from './fixture-base.js';
import { artifactV2Url, fileUrl } from './fallback-route.js';
import { entriesUrlPage, fileUrlPage } from './file-url-pages.js';

export interface ResolverContext {
  fixture: FixtureBase;
  baseUrl: string;
  signer: UrlSigner;
  maxPageSize: number;
  listing: ListingControls;
}

type Obj = Record<string, unknown>;
type Args = Record<string, unknown> & PageArgs;

const EMPTY_PAGE = {
  edges: [],
  pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  totalCount: 0,
};

/** A JSONString field in W&B's extended JSON (bare NaN / Infinity / -Infinity, see extended-json.ts). */
function pickKeys(json: Record<string, unknown>, keys: unknown): string {
  if (!Array.isArray(keys)) return stringifyExtended(json);
  const out: Record<string, unknown> = {};
  for (const k of keys) if (typeof k === 'string' && k in json) out[k] = json[k];
  return stringifyExtended(out);
}

/** SQL LIKE / glob style pattern, as used by Run.files(pattern:). */
function patternRegex(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/[%*]/g, '.*')
    .replace(/[_?]/g, '.');
  return new RegExp(`^${body}$`, 's');
}

export class Resolvers {
  constructor(private readonly c: ResolverContext) {}

  private get fx(): FixtureBase {
    return this.c.fixture;
  }

  private page<T, E>(list: readonly T[], args: PageArgs, edge: (item: T, cursor: string) => E) {
    return connection(
      list.length,
      (i) => list[i],
      args,
      this.c.maxPageSize,
      (e) => edge(e.item, e.cursor),
    );
  }

  private signedUrl(blobId: string): string {
    return this.c.baseUrl + this.c.signer.signPath(blobId);
  }

  private filesUrl(blobId: string, name: string): string {
    return fileUrl(this.c.baseUrl, blobId, name);
  }

  root(): Obj {
    const fx = this.fx;
    return {
      viewer: () => this.viewer(),
      entity: (a: Args) => {
        const e = typeof a.name === 'string' ? fx.entity(a.name) : undefined;
        return e ? this.entity(e) : null;
      },
      project: (a: Args) => this.projectByArgs(a),
      organization: (a: Args) => {
        const o = fx.organizations.find((x) => x.name === a.name || x.id === a.id);
        return o ? this.organization(o) : null;
      },
      model: (a: Args) => this.projectByArgs(a),
      models: (a: Args) => this.projectsOf(a.entityName, a),
      projects: (a: Args) => this.projectsOf(a.entityName, a),
      artifact: (a: Args) => {
        const art = typeof a.id === 'string' ? fx.artifact(a.id) : undefined;
        return art ? this.artifact(art) : null;
      },
      artifactCollection: (a: Args) => {
        const coll = typeof a.id === 'string' ? fx.collection(a.id) : undefined;
        return coll ? this.collection(coll) : null;
      },
      artifactSequence: (a: Args) => {
        const coll = typeof a.id === 'string' ? fx.collection(a.id) : undefined;
        return coll?.kind === 'sequence' ? this.collection(coll) : null;
      },
      user: (a: Args) => {
        if (a.userName === fx.viewer.username || a.id === fx.viewer.id) return this.viewer();
        return typeof a.userName === 'string' ? this.userNamed(a.userName) : null;
      },
      serverInfo: () => ({
        cliVersionInfo: { max_cli_version: '0.99.0', min_cli_version: '0.10.0' },
        latestLocalVersionInfo: null,
        features: [
          { name: 'PROJECT_ARTIFACT_COLLECTION_MEMBERSHIP', isEnabled: true },
          { name: 'ARTIFACT_V2_DOWNLOAD_HANDLER_SUPPORTS_ARTIFACT_ID', isEnabled: true },
        ],
      }),
    };
  }

  private projectByArgs(a: Args): Obj | null {
    const entity = typeof a.entityName === 'string' ? a.entityName : this.fx.viewer.entity;
    const p = typeof a.name === 'string' ? this.fx.project(entity, a.name) : undefined;
    return p ? this.project(p) : null;
  }

  private projectsOf(entityName: unknown, a: Args): object | null {
    const e = this.fx.entity(typeof entityName === 'string' ? entityName : this.fx.viewer.entity);
    if (e === undefined) return null;
    return this.projectConnection(e, a);
  }

  private projectConnection(e: EntityFx, a: Args): object {
    const ps = [...e.projects];
    const order = typeof a.order === 'string' ? a.order.replace(/^\+/, '') : '';
    if (/^-?(created_at|createdAt)$/.test(order)) {
      const desc = order.startsWith('-');
      ps.sort(
        (x, y) => (x.createdAt < y.createdAt ? -1 : x.createdAt > y.createdAt ? 1 : 0) * (desc ? -1 : 1),
      );
    } else if (/^-?name$/.test(order)) {
      const desc = order.startsWith('-');
      ps.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0) * (desc ? -1 : 1));
    }
    return this.page(ps, a, (p, cursor) => ({ cursor, node: this.project(p) }));
  }

  // ---- users & entities ------------------------------------------------------------------

  viewer(): Obj {
    const v = this.fx.viewer;
    return {
      ...this.userNamed(v.username),
      id: v.id,
      name: v.name,
      email: v.email,
      entity: v.entity,
      admin: false,
      flags: '{}',
      createdAt: v.createdAt,
      defaultEntity: () => {
        const e = this.fx.entity(v.entity);
        return e ? this.entity(e) : null;
      },
      userEntity: () => {
        const e = this.fx.entity(v.entity);
        return e ? this.entity(e) : null;
      },
      teams: (a: Args) => {
        const teams = v.teams.map((t) => this.fx.entity(t)).filter((e): e is EntityFx => e !== undefined);
        const conn = this.page(teams, a, (e, cursor) => ({ cursor, node: this.entity(e) }));
        return { edges: conn.edges };
      },
      projects: (a: Args) => {
        const e = this.fx.entity(v.entity);
        return e ? this.projectConnection(e, a) : null;
      },
      organizations: () => this.fx.organizations.map((o) => this.organization(o)),
    };
  }

  /** An organization; its orgEntity holds the registries and is not among the viewer's teams. */
  organization(o: OrganizationFx): Obj {
    return {
      id: o.id,
      name: o.name,
      orgEntity: () => {
        const e = this.fx.entity(o.orgEntity);
        return e ? this.entity(e) : null;
      },
    };
  }

  userNamed(username: string): Obj {
    return {
      __typename: 'User',
      id: gid('User', username),
      name: username,
      username,
      email: null,
      entity: username,
      admin: false,
      flags: null,
      photoUrl: null,
      createdAt: this.fx.viewer.createdAt,
      deletedAt: null,
      defaultEntity: null,
      userEntity: null,
      teams: () => ({ edges: [] }),
      projects: () => EMPTY_PAGE,
      apiKeys: () => EMPTY_PAGE,
    };
  }

  entity(e: EntityFx): Obj {
    return {
      id: e.id,
      name: e.name,
      isTeam: e.isTeam,
      photoUrl: null,
      createdAt: e.createdAt,
      updatedAt: e.createdAt,
      readOnly: false,
      defaultAccess: e.isTeam ? 'ENTITY_READ' : 'USER_READ',
      organization: () => {
        const o = this.fx.organizations.find((x) => x.orgEntity === e.name);
        return o ? this.organization(o) : null;
      },
      user: () => (e.isTeam ? null : this.viewer()),
      members: () =>
        e.isTeam
          ? [
              {
                id: this.fx.viewer.id,
                name: this.fx.viewer.name,
                username: this.fx.viewer.username,
                role: 'member',
              },
            ]
          : [],
      project: (a: Args) => {
        const p = typeof a.name === 'string' ? this.fx.project(e.name, a.name) : undefined;
        return p ? this.project(p) : null;
      },
      projects: (a: Args) => this.projectConnection(e, a),
      runCount: (a: Args) => e.projects.reduce((n, p) => n + this.filteredRuns(p, a.filters).length, 0),
      artifactCollections: (a: Args) =>
        this.collectionConnection(
          e.projects.flatMap((p) => p.collections),
          a,
        ),
    };
  }

  // ---- projects & runs ---------------------------------------------------------------------

  project(p: ProjectFx): Obj {
    const entity = this.fx.entity(p.entityName);
    return {
      id: p.id,
      internalId: p.internalId,
      name: p.name,
      entityName: p.entityName,
      entity: () => (entity ? this.entity(entity) : null),
      description: p.description,
      createdAt: p.createdAt,
      updatedAt: p.updatedAt,
      lastActive: p.updatedAt,
      access: 'PRIVATE',
      readOnly: false,
      isBenchmark: false,
      user: () => this.viewer(),
      views: '{}',
      storageBytes: () => this.projectStorageBytes(p),
      runCount: (a: Args) => this.runCount(p, a.filters),
      totalRuns: () => p.runs.length,
      totalSweeps: p.sweeps.length,
      run: (a: Args) => this.runByName(p, a.name),
      bucket: (a: Args) => this.runByName(p, a.name),
      runs: (a: Args) => this.runConnection(p, a, null),
      sweep: (a: Args) => {
        const s = p.sweeps.find((x) => x.name === a.sweepName);
        return s ? this.sweep(p, s) : null;
      },
      sweeps: (a: Args) => {
        const f = parseFilters(typeof a.filters === 'string' ? a.filters : null) as Record<
          string,
          unknown
        > | null;
        const list = p.sweeps.filter(
          (s) => f === null || Object.entries(f).every(([k, v]) => k !== 'name' || s.name === v),
        );
        return this.page(list, a, (s, cursor) => ({ cursor, node: this.sweep(p, s) }));
      },
      artifactTypes: (a: Args) =>
        this.page(p.artifactTypes, a, (t, cursor) => ({ cursor, node: this.artifactType(p, t.name) })),
      artifactType: (a: Args) =>
        p.artifactTypes.some((t) => t.name === a.name) ? this.artifactType(p, String(a.name)) : null,
      artifactCollections: (a: Args) => this.collectionConnection(p.collections, a),
      artifactCollection: (a: Args) => {
        const coll = p.collections.find((x) => x.name === a.name);
        return coll ? this.collection(coll) : null;
      },
      artifactCollectionMembership: (a: Args) => {
        const r = this.resolveQualified(p, a.name);
        return r ? this.membership(r.coll, r.m) : null;
      },
      artifact: (a: Args) => {
        const r = this.resolveQualified(p, a.name);
        const art = r ? this.fx.artifact(r.m.artifactId) : undefined;
        return art ? this.artifact(art) : null;
      },
    };
  }

  private projectStorageBytes(p: ProjectFx): number {
    let total = 0;
    for (const c of p.collections) {
      if (c.kind !== 'sequence') continue;
      for (const m of c.memberships) total += this.fx.artifact(m.artifactId)?.storageBytes ?? 0;
    }
    for (const r of p.runs) for (const f of r.files) total += f.sizeBytes;
    return total;
  }

  /** 'collection:alias' | 'collection:vN' | 'collection:<digest or commit hash>'; bare names => null. */
  private resolveQualified(p: ProjectFx, name: unknown): { coll: CollectionFx; m: MembershipFx } | null {
    if (typeof name !== 'string') return null;
    const colon = name.indexOf(':');
    if (colon < 0) return null;
    const coll = p.collections.find((c) => c.name === name.slice(0, colon));
    const m = coll ? this.findMembership(coll, name.slice(colon + 1)) : undefined;
    return coll && m ? { coll, m } : null;
  }

  private findMembership(coll: CollectionFx, alias: string): MembershipFx | undefined {
    const v = /^v(\d+)$/.exec(alias);
    if (v?.[1] !== undefined) return coll.memberships.find((m) => m.versionIndex === Number(v[1]));
    return (
      coll.memberships.find((m) => m.aliases.includes(alias)) ??
      coll.memberships.find((m) => {
        const art = this.fx.artifact(m.artifactId);
        return art !== undefined && (art.commitHash === alias || art.digest === alias);
      })
    );
  }

  private runByName(p: ProjectFx, name: unknown): Obj | null {
    const r = typeof name === 'string' ? p.runs.get(name) : undefined;
    return r ? this.run(p, r) : null;
  }

  private filteredRuns(p: ProjectFx, filters: unknown): RunFx[] {
    const f = parseFilters(typeof filters === 'string' ? filters : null);
    const out: RunFx[] = [];
    for (const r of p.runs) if (f === null || matchRun(r, f)) out.push(r);
    return out;
  }

  private runCount(p: ProjectFx, filters: unknown): number {
    return parseFilters(typeof filters === 'string' ? filters : null) === null
      ? p.runs.length
      : this.filteredRuns(p, filters).length;
  }

  /** Project.runs / Sweep.runs: offset cursors over run-order.ts's order; the insert hook runs after. */
  private runConnection(p: ProjectFx, a: Args, only: string[] | null): object {
    const edge = (e: { item: RunFx; cursor: string }) => ({ cursor: e.cursor, node: this.run(p, e.item) });
    const runs = orderedRuns(p.runs, a.filters, a.order, only);
    const conn = connection(runs.length, (i) => runs.at(i), a, this.c.maxPageSize, edge);
    this.c.listing.runsPageServed(this.fx, p);
    return conn;
  }

  run(p: ProjectFx, r: RunFx): Obj {
    const exitcode = r.state === 'finished' ? 0 : r.state === 'failed' ? 1 : null;
    const summary = r.summary;
    return {
      __typename: 'Run',
      id: r.id,
      name: r.name,
      displayName: r.displayName,
      description: null,
      notes: null,
      state: r.state,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      heartbeatAt: r.heartbeatAt,
      config: (a: Args) => pickKeys(r.config, a.keys),
      summaryMetrics: (a: Args) => pickKeys(summary, a.keys),
      systemMetrics: '{}',
      wandbConfig: () => '{}',
      tags: r.tags,
      group: r.group,
      jobType: r.jobType,
      commit: null,
      host: 'gpu-box-1',
      readOnly: false,
      exitcode,
      historyLineCount: typeof summary._step === 'number' ? summary._step + 1 : 0,
      historyKeys: null,
      fileCount: r.files.length,
      files: (a: Args) => this.runFiles(p, r, a),
      inputArtifacts: (a: Args) => {
        const items = r.inputArtifacts
          .map((x) => ({ art: this.fx.artifact(x.artifactId), usedAs: x.usedAs }))
          .filter((x): x is { art: ArtifactFx; usedAs: string[] } => x.art !== undefined);
        return this.page(items, a, (x, cursor) => ({ cursor, node: this.artifact(x.art), usedAs: x.usedAs }));
      },
      outputArtifacts: (a: Args) => {
        const items = r.outputArtifactIds.map((id) => this.fx.artifact(id)).filter((x) => x !== undefined);
        return this.page(items, a, (art, cursor) => ({ cursor, node: this.artifact(art) }));
      },
      sweep: () => {
        const s = p.sweeps.find((x) => x.name === r.sweepName);
        return s ? this.sweep(p, s) : null;
      },
      sweepName: r.sweepName,
      project: () => this.project(p),
      projectId: p.id,
      user: () => (r.username === this.fx.viewer.username ? this.viewer() : this.userNamed(r.username)),
      deletedAt: null,
    };
  }

  private runFiles(p: ProjectFx, r: RunFx, a: Args): Obj {
    const edge = (e: { item: RunFileFx; cursor: string }) => ({
      cursor: e.cursor,
      node: this.runFile(p, r, e.item),
    });
    const names = Array.isArray(a.names) ? a.names.filter((n): n is string => typeof n === 'string') : null;
    let list: RunFileFx[] | null = null;
    if (names !== null && names.length > 0) {
      list = names.map((n) => r.files.get(n)).filter((f): f is RunFileFx => f !== undefined);
    } else if (typeof a.pattern === 'string' && a.pattern !== '') {
      const re = patternRegex(a.pattern);
      list = [...r.files].filter((f) => re.test(f.name));
    }
    const conn =
      list === null
        ? connection(r.files.length, (i) => r.files.at(i), a, this.c.maxPageSize, edge)
        : connection(list.length, (i) => (list as RunFileFx[])[i], a, this.c.maxPageSize, edge);
    return { ...conn, uploadHeaders: [] };
  }

  private runFile(p: ProjectFx, r: RunFx, f: RunFileFx): Obj {
    const content = this.fx.contentOf(f.blobId);
    const md5 = () => content?.md5B64Async() ?? null;
    return {
      id: f.id,
      name: f.name,
      displayName: f.name,
      url: (a: Args) => (a.upload === true ? null : this.filesUrl(f.blobId, f.name)),
      directUrl: () => this.signedUrl(f.blobId),
      sizeBytes: f.sizeBytes,
      md5,
      digest: md5,
      mimetype: f.mimetype,
      createdAt: f.updatedAt,
      updatedAt: f.updatedAt,
      storagePath: `${p.entityName}/${p.name}/${r.id}/${f.name}`,
      storageBucket: 'wandb-fake-bucket',
      isReference: false,
      exists: true,
      artifact: null,
      uploadUrl: null,
      uploadHeaders: [],
    };
  }

  // ---- sweeps ------------------------------------------------------------------------------

  sweep(p: ProjectFx, s: SweepFx): Obj {
    return {
      id: s.id,
      name: s.name,
      displayName: s.displayName,
      description: null,
      method: s.method,
      state: s.state,
      config: s.config,
      bestLoss: s.bestLoss,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
      heartbeatAt: s.updatedAt ?? s.createdAt,
      runCount: s.runNames.length,
      runCountExpected: s.runCountExpected,
      runTime: 0,
      project: () => this.project(p),
      user: () => this.viewer(),
      runs: (a: Args) => {
        this.c.listing.checkSweepRuns(s.name, s.runNames.length);
        return this.runConnection(p, a, s.runNames);
      },
    };
  }

  // ---- artifacts ---------------------------------------------------------------------------

  artifactType(p: ProjectFx, typeName: string): Obj {
    const t = p.artifactTypes.find((x) => x.name === typeName);
    const colls = () => p.collections.filter((c) => c.typeName === typeName);
    return {
      id: t?.id ?? gid('ArtifactType', typeName),
      name: typeName,
      description: t?.description ?? null,
      createdAt: t?.createdAt ?? p.createdAt,
      project: () => this.project(p),
      artifactCollections: (a: Args) => this.collectionConnection(colls(), a),
      artifactCollection: (a: Args) => {
        const c = colls().find((x) => x.name === a.name);
        return c ? this.collection(c) : null;
      },
      artifactSequences: (a: Args) =>
        this.page(
          colls().filter((c) => c.kind === 'sequence'),
          a,
          (c, cursor) => ({ cursor, node: this.collection(c) }),
        ),
      artifactSequence: (a: Args) => {
        const c = colls().find((x) => x.name === a.name && x.kind === 'sequence');
        return c ? this.collection(c) : null;
      },
      artifact: (a: Args) => {
        const r = this.resolveQualified(p, a.name);
        const art = r && r.coll.typeName === typeName ? this.fx.artifact(r.m.artifactId) : undefined;
        return art ? this.artifact(art) : null;
      },
    };
  }

  private collectionConnection(colls: readonly CollectionFx[], a: Args): object {
    const types = Array.isArray(a.collectionTypes) ? a.collectionTypes : null;
    const list = colls.filter(
      (c) => types === null || types.includes(c.kind === 'sequence' ? 'SEQUENCE' : 'PORTFOLIO'),
    );
    return this.page(list, a, (c, cursor) => ({ cursor, node: this.collection(c) }));
  }

  private projectOf(coll: { entityName: string; projectName: string }): ProjectFx {
    const p = this.fx.project(coll.entityName, coll.projectName);
    if (p === undefined) throw new GraphQLError('fixture inconsistency: collection without project');
    return p;
  }

  collection(coll: CollectionFx): Obj {
    const p = this.projectOf(coll);
    const members = coll.memberships;
    const latest = () => {
      const m = members.find((x) => x.aliases.includes('latest')) ?? members[members.length - 1];
      const art = m ? this.fx.artifact(m.artifactId) : undefined;
      return art ? this.artifact(art) : null;
    };
    const obj: Obj = {
      __typename: coll.kind === 'sequence' ? 'ArtifactSequence' : 'ArtifactPortfolio',
      id: coll.id,
      name: coll.name,
      description: coll.description,
      createdAt: coll.createdAt,
      updatedAt: coll.updatedAt,
      state: 'READY',
      project: () => this.project(p),
      defaultArtifactType: () => this.artifactType(p, coll.typeName),
      aliases: (a: Args) => {
        const list = members.flatMap((m) => m.aliases.map((alias) => ({ m, alias })));
        return this.page(list, a, (x, cursor) => ({ cursor, node: this.alias(coll, x.m, x.alias) }));
      },
      artifacts: (a: Args) => {
        // W&B lists versions newest first, in every state unless filtered.
        const list = this.membersInState(members, a.filters).reverse();
        return this.page(list, a, (m, cursor) => {
          const art = this.fx.artifact(m.artifactId);
          return { cursor, version: `v${m.versionIndex}`, node: art ? this.artifact(art) : null };
        });
      },
      artifactMembership: (a: Args) => {
        const m = typeof a.aliasName === 'string' ? this.findMembership(coll, a.aliasName) : undefined;
        return m ? this.membership(coll, m) : null;
      },
      artifactMemberships: (a: Args) =>
        this.page(members, a, (m, cursor) => ({ cursor, node: this.membership(coll, m) })),
      tags: () => EMPTY_PAGE,
    };
    if (coll.kind === 'sequence') obj.latestArtifact = latest;
    return obj;
  }

  /** Memberships whose artifact matches a {"state": ...} filter (see artifact-filters.ts). */
  private membersInState(members: readonly MembershipFx[], filters: unknown): MembershipFx[] {
    const f = parseArtifactFilters(filters);
    if (f === null) return [...members];
    return members.filter((m) => {
      const art = this.fx.artifact(m.artifactId);
      return art !== undefined && matchArtifact(art, f);
    });
  }

  /** An alias the server returns without its collection, or with a collection without project. */
  private strayAlias(coll: CollectionFx, m: MembershipFx, stray: StrayAliasFx): Obj {
    const full = this.alias(coll, m, stray.alias);
    if (stray.missing === 'collection') return { ...full, artifactCollection: null };
    return { ...full, artifactCollection: () => ({ ...this.collection(coll), project: null }) };
  }

  private alias(coll: CollectionFx, m: MembershipFx, alias: string): Obj {
    return {
      id: gid('ArtifactAlias', `${coll.id}:${alias}`),
      alias,
      artifactCollectionName: coll.name,
      artifact: () => {
        const art = this.fx.artifact(m.artifactId);
        return art ? this.artifact(art) : null;
      },
      artifactCollection: () => this.collection(coll),
    };
  }

  membership(coll: CollectionFx, m: MembershipFx): Obj {
    const art = this.fx.artifact(m.artifactId);
    return {
      id: m.id,
      versionIndex: m.versionIndex,
      createdAt: m.createdAt,
      commitHash: () => art?.commitHash ?? null,
      aliases: m.aliases.map((alias) => this.alias(coll, m, alias)),
      artifact: () => (art ? this.artifact(art) : null),
      artifactCollection: () => this.collection(coll),
      files: (a: Args) => {
        // A registry role that may read metadata but not contents: W&B answers a GraphQL error.
        if (this.projectOf(coll).downloadsRefused) throw new GraphQLError('permission denied');
        return art ? this.artifactFiles(art, a) : null;
      },
    };
  }

  artifact(art: ArtifactFx): Obj {
    const p = this.projectOf(art);
    const memberships = () => this.fx.membershipsOf(art.id);
    const seq = memberships().find((x) => x.coll.kind === 'sequence')?.coll;
    const warm = () => this.warmDigests(art);
    return {
      id: art.id,
      digest: async () => {
        await warm();
        return art.digest;
      },
      commitHash: async () => {
        await warm();
        return art.commitHash;
      },
      versionIndex: (a: Args) => {
        if (typeof a.artifactCollectionName !== 'string') return art.versionIndex;
        return memberships().find((x) => x.coll.name === a.artifactCollectionName)?.m.versionIndex ?? null;
      },
      state: art.state,
      size: art.size,
      storageBytes: art.storageBytes,
      fileCount: art.fileCount,
      createdAt: art.createdAt,
      updatedAt: art.updatedAt,
      description: art.description,
      metadata: JSON.stringify(art.metadata),
      labels: null,
      historyStep: null,
      ttlDurationSeconds: -2,
      ttlIsInherited: false,
      tags: [],
      aliases: (a: Args) =>
        memberships()
          .filter(
            (x) => typeof a.artifactCollectionName !== 'string' || x.coll.name === a.artifactCollectionName,
          )
          .flatMap((x) => [
            ...x.m.aliases.map((alias) => this.alias(x.coll, x.m, alias)),
            ...(x.m.strayAliases ?? []).map((stray) => this.strayAlias(x.coll, x.m, stray)),
          ]),
      artifactType: () => this.artifactType(p, art.typeName),
      artifactSequence: () => (seq ? this.collection(seq) : null),
      artifactCollections: (a: Args) =>
        this.page(
          memberships().map((x) => x.coll),
          a,
          (c, cursor) => ({ cursor, node: this.collection(c) }),
        ),
      artifactMemberships: (a: Args) =>
        this.page(memberships(), a, (x, cursor) => ({ cursor, node: this.membership(x.coll, x.m) })),
      currentManifest: () => this.manifest(art),
      files: (a: Args) => this.artifactFiles(art, a),
      filesByManifestEntries: (a: Args) =>
        entriesUrlPage(art.entries, a, (e, cursor) => ({ cursor, node: this.artifactFile(art, e) })),
      createdBy: () => {
        const r = art.createdByRun !== null ? p.runs.get(art.createdByRun) : undefined;
        return r ? this.run(p, r) : this.viewer();
      },
      usedBy: (a: Args) => {
        const runs = this.fx
          .usersOf(art.id)
          .map((u) => ({
            proj: this.fx.project(u.entity, u.project),
            run: this.fx.run(u.entity, u.project, u.runName),
          }))
          .filter((x): x is { proj: ProjectFx; run: RunFx } => x.proj !== undefined && x.run !== undefined);
        return this.page(runs, a, (x, cursor) => ({ cursor, node: this.run(x.proj, x.run) }));
      },
      usedCount: this.fx.usersOf(art.id).length,
    };
  }

  /** Stored entry digests are MD5s of generated content; compute them without blocking the loop. */
  private async warmDigests(art: ArtifactFx): Promise<void> {
    for (const e of art.entries) if (e.blobId !== null) await this.fx.contentOf(e.blobId)?.md5B64Async();
  }

  private manifest(art: ArtifactFx): Obj {
    const content = this.fx.contentOf(art.manifestBlobId);
    return {
      id: gid('ArtifactManifest', art.id),
      type: 'FULL',
      createdAt: art.createdAt,
      digest: async () => {
        await this.warmDigests(art);
        return art.digest;
      },
      artifact: () => this.artifact(art),
      file: async () => {
        await this.warmDigests(art);
        return {
          id: gid('File', `manifest:${art.id}`),
          name: 'wandb_manifest.json',
          displayName: 'wandb_manifest.json',
          url: () => this.filesUrl(art.manifestBlobId, 'wandb_manifest.json'),
          directUrl: () => this.signedUrl(art.manifestBlobId),
          sizeBytes: content?.sizeBytes ?? 0,
          md5: content?.md5B64 ?? null,
          digest: content?.md5B64 ?? null,
          mimetype: 'application/json',
          createdAt: art.createdAt,
          updatedAt: art.createdAt,
          storagePath: null,
          storageBucket: null,
          isReference: false,
          exists: true,
          artifact: null,
          uploadUrl: null,
          uploadHeaders: [],
        };
      },
    };
  }

  private artifactFiles(art: ArtifactFx, a: Args): Obj {
    return fileUrlPage(art.entries, a, (e, cursor) => ({ cursor, node: this.artifactFile(art, e) }));
  }

  private artifactFile(art: ArtifactFx, e: ManifestEntryFx): Obj {
    const content = e.blobId !== null ? this.fx.contentOf(e.blobId) : undefined;
    const md5 = () => content?.md5B64Async() ?? null;
    const stored = e.blobId;
    return {
      id: gid('ArtifactFile', `${art.id}:${e.path}`),
      name: e.path,
      displayName: e.path,
      url: async (a: Args) => {
        if (a.upload === true) return null;
        if (content === undefined) return e.ref;
        const hex = Buffer.from(await content.md5B64Async(), 'base64').toString('hex');
        return artifactV2Url(this.c.baseUrl, art, e, hex);
      },
      // Reference entries cannot be served by W&B: their URL is the reference itself.
      directUrl: () => (stored !== null ? this.signedUrl(stored) : (e.ref ?? '')),
      sizeBytes: e.size,
      md5,
      digest: async () => (content ? await content.md5B64Async() : e.digest),
      mimetype: null,
      createdAt: art.createdAt,
      updatedAt: art.updatedAt,
      storagePath: async () =>
        content
          ? `wandb_artifacts/${art.id}/${Buffer.from(await content.md5B64Async(), 'base64').toString('hex')}`
          : null,
      storageBucket: 'wandb-fake-bucket',
      isReference: e.ref !== null,
      exists: true,
      artifact: () => this.artifact(art),
      uploadUrl: null,
      uploadHeaders: [],
    };
  }
}
