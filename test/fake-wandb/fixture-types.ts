/**
 * The data behind the fake server. Tests read it to know what to expect (names, sizes, digests,
 * bytes). Large fixtures are lazy: lists are functions of an index, not materialized arrays.
 */
import type { ExternalObjects } from './external.js';
import type { BlobContent } from './content.js';

export type FixtureName = 'demo' | 'large' | 'huge-file' | 'hostile' | 'refs';
export const FIXTURE_NAMES: readonly FixtureName[] = ['demo', 'large', 'huge-file', 'hostile', 'refs'];

/** A possibly lazy list: `at(i)` may build the item on demand; `get(key)` finds it by name. */
export interface LazyList<T> {
  readonly length: number;
  at(index: number): T | undefined;
  get(key: string): T | undefined;
  /** position of `key`, or undefined */
  indexOf(key: string): number | undefined;
  [Symbol.iterator](): Iterator<T>;
}

export interface ViewerFx {
  id: string;
  username: string;
  name: string;
  email: string;
  /** default entity name */
  entity: string;
  /** team entity names */
  teams: string[];
  createdAt: string;
}

export interface EntityFx {
  id: string;
  name: string;
  isTeam: boolean;
  /** the organization whose own entity this is (W&B Registry lives there), else undefined */
  orgName?: string;
  createdAt: string;
  projects: ProjectFx[];
}

/** A W&B organization; its registries are `wandb-registry-*` projects of its own entity. */
export interface OrganizationFx {
  id: string;
  name: string;
  /** name of the org's own entity (not among the viewer's teams) */
  orgEntity: string;
}

export interface ProjectFx {
  id: string;
  internalId: string;
  entityName: string;
  name: string;
  description: string | null;
  createdAt: string;
  updatedAt: string | null;
  runs: LazyList<RunFx>;
  sweeps: SweepFx[];
  artifactTypes: ArtifactTypeFx[];
  /** collections (sequences and portfolios) living in this project, in creation order */
  collections: CollectionFx[];
  /**
   * A registry where the viewer's role may read metadata but not contents: file URL queries
   * through its memberships answer a GraphQL "permission denied" error.
   */
  downloadsRefused?: boolean;
}

export interface RunFx {
  /** opaque storage id */
  id: string;
  /** short run id used in URLs */
  name: string;
  displayName: string | null;
  /** lowercase */
  state: string;
  /** W&B wrapped form: {"lr": {"value": 0.01}} */
  config: Record<string, unknown>;
  summary: Record<string, unknown>;
  tags: string[];
  group: string | null;
  jobType: string | null;
  sweepName: string | null;
  username: string;
  createdAt: string;
  heartbeatAt: string | null;
  updatedAt: string | null;
  files: LazyList<RunFileFx>;
  inputArtifacts: { artifactId: string; usedAs: string[] }[];
  outputArtifactIds: string[];
}

export interface RunFileFx {
  id: string;
  /** path relative to the run root; may contain '/' */
  name: string;
  sizeBytes: number;
  /** base64 MD5 (may take a while for multi-GiB files: memoized) */
  readonly md5B64: string;
  blobId: string;
  mimetype: string;
  updatedAt: string;
}

export interface SweepFx {
  id: string;
  /** 8-char sweep id */
  name: string;
  displayName: string | null;
  /** UPPERCASE */
  state: string;
  method: string;
  /** YAML text */
  config: string;
  bestLoss: number | null;
  createdAt: string;
  updatedAt: string | null;
  runCountExpected: number | null;
  runNames: string[];
}

export interface ArtifactTypeFx {
  id: string;
  name: string;
  description: string | null;
  createdAt: string;
}

export type CollectionKind = 'sequence' | 'portfolio';

export interface MembershipFx {
  id: string;
  artifactId: string;
  /** index within this collection */
  versionIndex: number;
  /** aliases within this collection (no 'vN' aliases) */
  aliases: string[];
  /** aliases Artifact.aliases returns with a null collection, or a collection whose project is null */
  strayAliases?: StrayAliasFx[];
  createdAt: string;
}

/** The SDK drops such aliases (artifact.py _assign_attrs); a client must not show them. */
export interface StrayAliasFx {
  alias: string;
  missing: 'collection' | 'project';
}

export interface CollectionFx {
  id: string;
  name: string;
  kind: CollectionKind;
  typeName: string;
  entityName: string;
  projectName: string;
  description: string | null;
  createdAt: string;
  updatedAt: string | null;
  /** ordered by versionIndex */
  memberships: MembershipFx[];
}

export interface ManifestEntryFx {
  /** manifest key (path inside the artifact) */
  path: string;
  /** stored entries: base64 MD5; references: etag/uri as W&B records it */
  digest: string;
  size: number;
  /** reference URI (s3://...), or null for W&B-stored entries */
  ref: string | null;
  /** stored entries only */
  blobId: string | null;
  birthArtifactId: string | null;
  extra?: Record<string, unknown>;
}

export interface ArtifactFx {
  id: string;
  entityName: string;
  projectName: string;
  typeName: string;
  /** source sequence name */
  sequenceName: string;
  /** index in the source sequence */
  versionIndex: number;
  /** hex, W&B manifest digest algorithm */
  digest: string;
  commitHash: string;
  /** COMMITTED | PENDING | DELETED */
  state: string;
  /** bytes incl. references */
  size: number;
  /** bytes stored by W&B (no references) */
  storageBytes: number;
  fileCount: number;
  description: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string | null;
  entries: ManifestEntryFx[];
  /** blob of the manifest JSON (served via currentManifest.file.directUrl) */
  manifestBlobId: string;
  /** run name (same project) that logged it, or null for a user upload */
  createdByRun: string | null;
}

export interface AddRunFileSpec {
  name: string;
  sizeBytes: number;
  seed: number;
  updatedAt?: string;
}

export interface Fixture {
  readonly name: FixtureName;
  readonly viewer: ViewerFx;
  readonly entities: EntityFx[];
  /** organizations the viewer belongs to */
  readonly organizations: OrganizationFx[];
  entity(name: string): EntityFx | undefined;
  project(entity: string, project: string): ProjectFx | undefined;
  run(entity: string, project: string, runName: string): RunFx | undefined;
  artifact(id: string): ArtifactFx | undefined;
  /** collection by GraphQL id */
  collection(id: string): CollectionFx | undefined;
  /** every artifact version of the fixture, in creation order */
  allArtifacts(): Iterable<ArtifactFx>;
  /** every collection membership of an artifact (its sequence first, then portfolios) */
  membershipsOf(artifactId: string): { coll: CollectionFx; m: MembershipFx }[];
  contentOf(blobId: string): BlobContent | undefined;
  /** objects reference entries point at, served by the fake's stand-in stores (external.ts) */
  readonly external: ExternalObjects;
  /** A running run gains a file. Returns the new (or replaced, same name) file. */
  addRunFile(entity: string, project: string, runName: string, spec: AddRunFileSpec): RunFileFx;
  setRunState(entity: string, project: string, runName: string, state: string): void;
  /**
   * Links an existing version (by source `collection:vN`) into a portfolio now, as `wandb.link_artifact`
   * or the Registry UI does; aliases move onto the new membership. Returns its versionIndex there.
   */
  linkNow(target: CollectionRef, source: CollectionRef & { version: number }, aliases: string[]): number;
}

/** A collection by entity/project/name. */
export interface CollectionRef {
  entity: string;
  project: string;
  collection: string;
}
