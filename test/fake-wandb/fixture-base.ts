/**
 * Shared machinery for fixtures: id allocation, registries, and builders that derive everything
 * W&B derives (manifest JSON, artifact digest, storage sizes) so fixtures only state the facts.
 */
import { createHash } from 'node:crypto';
import { BlobStore, generatedBlobId, type BlobContent } from './content.js';
import { ExternalObjects } from './external.js';
import { FxList } from './fx-list.js';
import type {
  AddRunFileSpec,
  ArtifactFx,
  ArtifactTypeFx,
  CollectionFx,
  CollectionRef,
  EntityFx,
  Fixture,
  FixtureName,
  ManifestEntryFx,
  MembershipFx,
  OrganizationFx,
  ProjectFx,
  RunFileFx,
  RunFx,
  SweepFx,
  ViewerFx,
} from './fixture-types.js';

const EPOCH_MS = Date.UTC(2026, 0, 5, 10, 0, 0);

/** Deterministic timestamp: fixture epoch + seconds, ISO-8601 without milliseconds. */
export function isoAt(offsetSec: number): string {
  return new Date(EPOCH_MS + offsetSec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function gid(type: string, n: number | string): string {
  return Buffer.from(`${type}:${n}`, 'utf8').toString('base64');
}

/** Python sorts str by code point; JS sort compares UTF-16 units. W&B's digest depends on the order. */
export function compareCodePoints(a: string, b: string): number {
  const ca = Array.from(a);
  const cb = Array.from(b);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = (ca[i] as string).codePointAt(0) as number;
    const y = (cb[i] as string).codePointAt(0) as number;
    if (x !== y) return x - y;
  }
  return ca.length - cb.length;
}

/** W&B ArtifactManifestV1.digest: hex md5 of a header plus "path:digest\n" per entry sorted by path. */
export function manifestDigestHex(entries: readonly { path: string; digest: string }[]): string {
  const h = createHash('md5').update('wandb-artifact-manifest-v1\n');
  for (const e of [...entries].sort((a, b) => compareCodePoints(a.path, b.path))) {
    h.update(`${e.path}:${e.digest}\n`);
  }
  return h.digest('hex');
}

/** Manifest JSON v1 as the Python SDK writes it (entries sorted by path, path is the key). */
export function manifestJson(entries: readonly ManifestEntryFx[]): string {
  const contents: Record<string, unknown> = {};
  for (const e of [...entries].sort((a, b) => compareCodePoints(a.path, b.path))) {
    contents[e.path] =
      e.ref !== null
        ? { digest: e.digest, ref: e.ref, size: e.size, ...(e.extra ? { extra: e.extra } : {}) }
        : {
            digest: e.digest,
            size: e.size,
            ...(e.birthArtifactId ? { birthArtifactID: e.birthArtifactId } : {}),
          };
  }
  return JSON.stringify({
    version: 1,
    storagePolicy: 'wandb-storage-policy-v1',
    storagePolicyConfig: { storageLayout: 'V2' },
    contents,
  });
}

export function mimetypeOf(name: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  const map: Record<string, string> = {
    png: 'image/png',
    jpg: 'image/jpeg',
    json: 'application/json',
    yaml: 'application/x-yaml',
    txt: 'text/plain',
    log: 'text/plain',
    py: 'text/x-python',
    md: 'text/markdown',
    csv: 'text/csv',
  };
  return (ext !== undefined ? map[ext] : undefined) ?? 'application/octet-stream';
}

/** Config in W&B's wrapped form: every value under {"value": ...}. */
export function wrapConfig(plain: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(plain)) out[k] = { desc: null, value: v };
  return out;
}

export type FileSource = { seed: number; sizeBytes: number } | { text: string } | { bytes: Buffer };

export interface EntrySpec {
  path: string;
  /** stored entry content */
  source?: FileSource;
  /** reference entry */
  ref?: { uri: string; digest: string; size: number; extra?: Record<string, unknown> };
}

/** generated blobs from this size up are hashed before the server listens */
const BIG_BLOB_BYTES = 256 * 1024 * 1024;

export class FixtureBase implements Fixture {
  readonly entities: EntityFx[] = [];
  readonly organizations: OrganizationFx[] = [];
  readonly blobs = new BlobStore();
  /** objects reference entries point at, served by the fake's stand-in stores (external.ts) */
  readonly external = new ExternalObjects();
  /** the server's URL once it listens (https reference URIs name it) */
  baseUrl: string | null = null;
  private readonly entityByName = new Map<string, EntityFx>();
  private readonly artifacts = new Map<string, ArtifactFx>();
  private readonly collections = new Map<string, CollectionFx>();
  private readonly counters = new Map<string, number>();
  /** blob id -> artifact that first stored it (W&B's birthArtifactID) */
  private readonly birth = new Map<string, string>();
  private readonly users = new Map<string, { entity: string; project: string; runName: string }[]>();
  private membershipIndex: Map<string, { coll: CollectionFx; m: MembershipFx }[]> | undefined;
  /** generated blobs big enough that hashing them takes seconds (see digestsReady) */
  private readonly bigBlobIds = new Set<string>();
  viewer: ViewerFx;

  constructor(
    readonly name: FixtureName,
    viewer: Omit<ViewerFx, 'id' | 'teams' | 'createdAt'>,
  ) {
    this.viewer = { ...viewer, id: gid('User', 1), teams: [], createdAt: isoAt(0) };
  }

  /** Next integer id for a GraphQL type, starting at 1 (ArtifactCollection:1 is in the sample queries). */
  nextId(type: string): string {
    const n = (this.counters.get(type) ?? 0) + 1;
    this.counters.set(type, n);
    return gid(type, n);
  }

  // ---- Fixture API -------------------------------------------------------------------------

  entity(name: string): EntityFx | undefined {
    return this.entityByName.get(name);
  }

  project(entity: string, project: string): ProjectFx | undefined {
    return this.entity(entity)?.projects.find((p) => p.name === project);
  }

  run(entity: string, project: string, runName: string): RunFx | undefined {
    return this.project(entity, project)?.runs.get(runName);
  }

  artifact(id: string): ArtifactFx | undefined {
    return this.artifacts.get(id);
  }

  collection(id: string): CollectionFx | undefined {
    return this.collections.get(id);
  }

  allArtifacts(): IterableIterator<ArtifactFx> {
    return this.artifacts.values();
  }

  /**
   * Hashes every big generated blob (memoized, also on disk). The server awaits this before it
   * listens: on a fresh machine the first listing of a 5 GiB file would otherwise hash it inside a
   * GraphQL request, and on a loaded machine outlast the client's request timeout.
   */
  async digestsReady(): Promise<void> {
    for (const id of this.bigBlobIds) await this.blobs.get(id)?.md5B64Async();
  }

  contentOf(blobId: string): BlobContent | undefined {
    return this.blobs.get(blobId);
  }

  addRunFile(entity: string, project: string, runName: string, spec: AddRunFileSpec): RunFileFx {
    const run = this.pinRun(entity, project, runName);
    const file = this.makeRunFile(
      spec.name,
      { seed: spec.seed, sizeBytes: spec.sizeBytes },
      spec.updatedAt ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    );
    (run.files as FxList<RunFileFx>).push(file);
    run.updatedAt = file.updatedAt;
    run.heartbeatAt = file.updatedAt;
    return file;
  }

  /** Swaps a run file's record for one holding `source` (same id and name); returns both records. */
  replaceRunFileContent(
    entity: string,
    project: string,
    runName: string,
    name: string,
    source: FileSource,
  ): { before: RunFileFx; after: RunFileFx } {
    const run = this.pinRun(entity, project, runName);
    const before = run.files.get(name);
    if (before === undefined) throw new Error(`no file ${name} in run ${entity}/${project}/${runName}`);
    const after = this.makeRunFile(
      name,
      source,
      new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      before.id,
    );
    (run.files as FxList<RunFileFx>).push(after);
    run.updatedAt = after.updatedAt;
    run.heartbeatAt = after.updatedAt;
    return { before, after };
  }

  linkNow(target: CollectionRef, source: CollectionRef & { version: number }, aliases: string[]): number {
    const find = (r: CollectionRef) =>
      this.project(r.entity, r.project)?.collections.find((c) => c.name === r.collection);
    const portfolio = find(target);
    const seq = find(source);
    const m = seq?.memberships.find((x) => x.versionIndex === source.version);
    const art = m ? this.artifact(m.artifactId) : undefined;
    if (portfolio?.kind !== 'portfolio' || art === undefined) {
      throw new Error(`cannot link ${source.collection}:v${source.version} into ${target.collection}`);
    }
    const nowSec = Math.ceil((Date.now() - EPOCH_MS) / 1000);
    return this.link(portfolio, art, aliases, nowSec).versionIndex;
  }

  setRunState(entity: string, project: string, runName: string, state: string): void {
    const run = this.pinRun(entity, project, runName);
    run.state = state;
    run.updatedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /**
   * A run created now, while clients may be paging (ListingControls' insert hook): newer than every
   * run of the project by one second, so every creation-time order puts it last (or first).
   */
  addLiveRun(project: ProjectFx): RunFx {
    const n = (this.counters.get('LiveRun') ?? 0) + 1;
    this.counters.set('LiveRun', n);
    const last = project.runs.at(project.runs.length - 1);
    const createdMs = last ? Date.parse(last.createdAt) + 1000 : EPOCH_MS;
    const createdAt = new Date(createdMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return this.addRun(project, {
      name: `live${String(n).padStart(4, '0')}`,
      displayName: `live-run-${n}`,
      state: 'running',
      config: { live: n },
      summary: { _step: 0 },
      tags: [],
      group: null,
      jobType: 'train',
      sweepName: null,
      createdAt,
      heartbeatAt: createdAt,
      updatedAt: createdAt,
      files: [{ name: 'output.log', source: { text: `live run ${n}\n` } }],
    });
  }

  private pinRun(entity: string, project: string, runName: string): RunFx {
    const p = this.project(entity, project);
    const list = p?.runs as FxList<RunFx> | undefined;
    const i = list?.indexOf(runName);
    if (list === undefined || i === undefined) throw new Error(`no run ${entity}/${project}/${runName}`);
    return list.materialize(i);
  }

  // ---- builders ----------------------------------------------------------------------------

  addEntity(name: string, isTeam: boolean, createdAtSec = 0, orgName?: string): EntityFx {
    const e: EntityFx = {
      id: this.nextId('Entity'),
      name,
      isTeam,
      createdAt: isoAt(createdAtSec),
      projects: [],
      ...(orgName === undefined ? {} : { orgName }),
    };
    this.entities.push(e);
    this.entityByName.set(name, e);
    // an organization's own entity is a team-like entity the viewer is not a member of
    if (isTeam && orgName === undefined) this.viewer.teams.push(name);
    return e;
  }

  /** An organization the viewer belongs to, with its own entity (which holds its registries). */
  addOrganization(name: string, orgEntity: string, createdAtSec = 0): EntityFx {
    this.organizations.push({ id: this.nextId('Organization'), name, orgEntity });
    return this.addEntity(orgEntity, true, createdAtSec, name);
  }

  organization(name: string): OrganizationFx | undefined {
    return this.organizations.find((o) => o.name === name);
  }

  addProject(
    entity: EntityFx,
    name: string,
    opts: { description?: string | null; createdAtSec?: number; runs?: FxList<RunFx> } = {},
  ): ProjectFx {
    const n = (this.counters.get('Project') ?? 0) + 1;
    const p: ProjectFx = {
      id: this.nextId('Project'),
      internalId: gid('ProjectInternalId', n),
      entityName: entity.name,
      name,
      description: opts.description ?? null,
      createdAt: isoAt(opts.createdAtSec ?? 60),
      updatedAt: isoAt((opts.createdAtSec ?? 60) + 86_400),
      runs: opts.runs ?? FxList.fromArray<RunFx>([], (r) => r.name),
      sweeps: [],
      artifactTypes: [],
      collections: [],
    };
    entity.projects.push(p);
    return p;
  }

  blobFor(source: FileSource): string {
    if ('seed' in source) {
      const id = generatedBlobId(source.seed, source.sizeBytes);
      if (source.sizeBytes >= BIG_BLOB_BYTES) this.bigBlobIds.add(id);
      return id;
    }
    if ('text' in source) return this.blobs.addLiteral(source.text);
    return this.blobs.addLiteral(source.bytes, 'application/octet-stream');
  }

  makeRunFile(name: string, source: FileSource, updatedAt: string, id?: string): RunFileFx {
    const blobId = this.blobFor(source);
    const blobs = this.blobs;
    const content = blobs.get(blobId);
    if (content === undefined) throw new Error(`bad blob ${blobId}`);
    return {
      id: id ?? this.nextId('File'),
      name,
      sizeBytes: content.sizeBytes,
      get md5B64() {
        return content.md5B64;
      },
      blobId,
      mimetype: mimetypeOf(name),
      updatedAt,
    };
  }

  addRun(
    project: ProjectFx,
    r: Omit<RunFx, 'id' | 'files' | 'inputArtifacts' | 'outputArtifactIds' | 'config' | 'username'> & {
      config: Record<string, unknown>;
      username?: string;
      files?: { name: string; source: FileSource }[];
    },
  ): RunFx {
    const run: RunFx = {
      ...r,
      id: this.nextId('Run'),
      username: r.username ?? this.viewer.username,
      config: wrapConfig(r.config),
      files: FxList.fromArray(
        (r.files ?? []).map((f) => this.makeRunFile(f.name, f.source, r.updatedAt ?? r.createdAt)),
        (f) => f.name,
      ),
      inputArtifacts: [],
      outputArtifactIds: [],
    };
    (project.runs as FxList<RunFx>).push(run);
    return run;
  }

  addSweep(project: ProjectFx, s: Omit<SweepFx, 'id'>): SweepFx {
    const sweep: SweepFx = { ...s, id: this.nextId('Sweep') };
    project.sweeps.push(sweep);
    // Run.sweepName is what Project.runs(filters: {"sweep": ...}) matches: keep both views equal.
    for (const name of s.runNames) {
      const run = project.runs.get(name);
      if (run !== undefined && run.sweepName !== s.name)
        this.pinRun(project.entityName, project.name, name).sweepName = s.name;
    }
    return sweep;
  }

  artifactType(project: ProjectFx, name: string, description: string | null = null): ArtifactTypeFx {
    const found = project.artifactTypes.find((t) => t.name === name);
    if (found !== undefined) return found;
    const t: ArtifactTypeFx = {
      id: this.nextId('ArtifactType'),
      name,
      description,
      createdAt: project.createdAt,
    };
    project.artifactTypes.push(t);
    return t;
  }

  addCollection(
    project: ProjectFx,
    kind: 'sequence' | 'portfolio',
    typeName: string,
    name: string,
    opts: { description?: string | null; createdAtSec?: number } = {},
  ): CollectionFx {
    this.artifactType(project, typeName);
    const c: CollectionFx = {
      id: this.nextId('ArtifactCollection'),
      name,
      kind,
      typeName,
      entityName: project.entityName,
      projectName: project.name,
      description: opts.description ?? null,
      createdAt: isoAt(opts.createdAtSec ?? 3600),
      updatedAt: isoAt(opts.createdAtSec ?? 3600),
      memberships: [],
    };
    project.collections.push(c);
    this.collections.set(c.id, c);
    return c;
  }

  /** Logs a new version into a sequence; moves each alias (unique per collection) onto it. */
  addVersion(
    seq: CollectionFx,
    spec: {
      entries: EntrySpec[];
      aliases?: string[];
      createdAtSec: number;
      description?: string | null;
      metadata?: Record<string, unknown>;
      createdByRun?: RunFx | null;
      state?: string;
    },
  ): ArtifactFx {
    const id = this.nextId('Artifact');
    const entries: ManifestEntryFx[] = spec.entries.map((e) => this.makeEntry(e, id));
    const versionIndex = seq.memberships.length;
    const digestOf = () => manifestDigestHex(entries);
    let digestMemo: string | undefined;
    const art: ArtifactFx = {
      id,
      entityName: seq.entityName,
      projectName: seq.projectName,
      typeName: seq.typeName,
      sequenceName: seq.name,
      versionIndex,
      get digest() {
        digestMemo ??= digestOf();
        return digestMemo;
      },
      get commitHash() {
        return this.digest.slice(0, 20);
      },
      state: spec.state ?? 'COMMITTED',
      size: entries.reduce((s, e) => s + e.size, 0),
      storageBytes: entries.reduce((s, e) => s + (e.ref === null ? e.size : 0), 0),
      fileCount: entries.length,
      description: spec.description ?? null,
      metadata: spec.metadata ?? {},
      createdAt: isoAt(spec.createdAtSec),
      updatedAt: isoAt(spec.createdAtSec + 5),
      entries,
      manifestBlobId: this.blobs.addLazy(
        `manifest-${id}`,
        () => Buffer.from(manifestJson(entries), 'utf8'),
        'application/json',
      ),
      createdByRun: spec.createdByRun?.name ?? null,
    };
    this.artifacts.set(id, art);
    spec.createdByRun?.outputArtifactIds.push(id);
    this.link(seq, art, spec.aliases ?? [], spec.createdAtSec);
    return art;
  }

  /** Adds an existing version to a collection (portfolio link, or the sequence it was logged to). */
  link(coll: CollectionFx, art: ArtifactFx, aliases: string[], createdAtSec: number): MembershipFx {
    for (const a of aliases) for (const m of coll.memberships) m.aliases = m.aliases.filter((x) => x !== a);
    const m: MembershipFx = {
      id: this.nextId('ArtifactCollectionMembership'),
      artifactId: art.id,
      versionIndex: coll.memberships.length,
      aliases: [...aliases],
      createdAt: isoAt(createdAtSec),
    };
    coll.memberships.push(m);
    this.membershipIndex = undefined;
    coll.updatedAt = isoAt(createdAtSec);
    return m;
  }

  useArtifact(project: ProjectFx, run: RunFx, art: ArtifactFx, usedAs: string[]): void {
    run.inputArtifacts.push({ artifactId: art.id, usedAs });
    const list = this.users.get(art.id) ?? [];
    list.push({ entity: project.entityName, project: project.name, runName: run.name });
    this.users.set(art.id, list);
  }

  /** Runs that used an artifact (Artifact.usedBy). */
  usersOf(artifactId: string): { entity: string; project: string; runName: string }[] {
    return this.users.get(artifactId) ?? [];
  }

  /** Every collection membership of an artifact: its sequence first, then portfolios. */
  membershipsOf(artifactId: string): { coll: CollectionFx; m: MembershipFx }[] {
    if (this.membershipIndex === undefined) {
      this.membershipIndex = new Map();
      for (const coll of this.collections.values()) {
        for (const m of coll.memberships) {
          const list = this.membershipIndex.get(m.artifactId) ?? [];
          list.push({ coll, m });
          this.membershipIndex.set(m.artifactId, list);
        }
      }
      for (const list of this.membershipIndex.values()) {
        list.sort((a, b) => Number(a.coll.kind === 'portfolio') - Number(b.coll.kind === 'portfolio'));
      }
    }
    return this.membershipIndex.get(artifactId) ?? [];
  }

  private makeEntry(e: EntrySpec, artifactId: string): ManifestEntryFx {
    if (e.ref !== undefined) {
      return {
        path: e.path,
        digest: e.ref.digest,
        size: e.ref.size,
        ref: e.ref.uri,
        blobId: null,
        birthArtifactId: null,
        ...(e.ref.extra ? { extra: e.ref.extra } : {}),
      };
    }
    if (e.source === undefined) throw new Error(`entry ${e.path} needs source or ref`);
    const blobId = this.blobFor(e.source);
    const content = this.blobs.get(blobId);
    if (content === undefined) throw new Error(`bad blob ${blobId}`);
    return {
      path: e.path,
      get digest() {
        return content.md5B64;
      },
      size: content.sizeBytes,
      ref: null,
      blobId,
      birthArtifactId: this.birth.get(blobId) ?? (this.birth.set(blobId, artifactId), artifactId),
    };
  }
}
