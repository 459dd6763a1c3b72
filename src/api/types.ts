/**
 * Typed records at the boundary of the API layer. Everything above src/api sees only these; no raw
 * GraphQL shapes escape. JSONString fields are already parsed, Run.config is already unwrapped from
 * W&B's {"key": {"value": ...}} form, MD5s stay W&B's base64 form (see core/digest.ts to convert).
 * Times are ISO-8601 strings as W&B sends them.
 */

export interface ViewerRecord {
  id: string;
  username: string;
  /** the user's default entity name */
  entity: string;
  /** team entity names the user belongs to */
  teams: string[];
  /** the own entities of the user's organizations (their W&B Registry lives there), not in `teams` */
  orgEntities: string[];
}

export interface EntityRecord {
  id: string;
  name: string;
  isTeam: boolean;
  createdAt: string;
}

export interface ProjectRecord {
  id: string;
  name: string;
  entityName: string;
  description: string | null;
  createdAt: string;
  updatedAt: string | null;
}

export interface RunRecord {
  /** opaque storage id */
  id: string;
  /** short run id used in URLs, e.g. '6tmybr0b' */
  name: string;
  displayName: string | null;
  /** lowercase: running | finished | crashed | failed | killed | preempting | preempted | pending */
  state: string | null;
  config: Record<string, unknown>;
  summary: Record<string, unknown>;
  tags: string[];
  group: string | null;
  jobType: string | null;
  sweepName: string | null;
  username: string | null;
  createdAt: string;
  heartbeatAt: string | null;
  updatedAt: string | null;
}

export interface RunFileRecord {
  /** path within the run, may contain '/' */
  name: string;
  sizeBytes: number;
  /** W&B base64 MD5, null when the server has none */
  md5: string | null;
  updatedAt: string | null;
}

export interface ArtifactTypeRecord {
  id: string;
  name: string;
}

export type CollectionKind = 'sequence' | 'portfolio';

export interface CollectionRecord {
  id: string;
  name: string;
  typeName: string;
  kind: CollectionKind;
  description: string | null;
  createdAt: string;
  updatedAt: string | null;
}

/** The artifact a linked version (a portfolio's, e.g. a W&B Registry collection's) points at. */
export interface VersionSource {
  entityName: string;
  projectName: string;
  /** the sequence the artifact was logged to */
  collectionName: string;
  /** its index in that sequence */
  versionIndex: number;
}

/** One version of an artifact as seen from the collection it was listed through. */
export interface VersionRecord {
  /** Artifact.id (opaque); the same artifact may appear in several collections */
  id: string;
  entityName: string;
  projectName: string;
  collectionName: string;
  typeName: string;
  /** index within collectionName (for portfolios: the membership's index) */
  versionIndex: number;
  digest: string;
  /** COMMITTED | PENDING | DELETED */
  state: string;
  sizeBytes: number;
  fileCount: number;
  /** aliases within collectionName, without version-style aliases ('v3') */
  aliases: string[];
  description: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string | null;
  /** set when the version was listed through a portfolio: where it was logged */
  source?: VersionSource;
}

export interface ManifestEntry {
  /** POSIX path inside the artifact, already validated (no '..', '.', empty segments, NUL, leading '/') */
  path: string;
  /** base64 MD5 for stored entries; for references whatever W&B recorded (etag, uri, ...) */
  digest: string;
  sizeBytes: number;
  /** s3://, gs://, http(s)://, file://, wandb-artifact:// ... ; null for W&B-stored entries */
  ref: string | null;
  birthArtifactId: string | null;
}

export interface ManifestRejection {
  path: string;
  reason: string;
}

export interface Manifest {
  entries: ManifestEntry[];
  /** entries skipped because their path or fields were unsafe or malformed */
  rejected: ManifestRejection[];
}

export interface SweepRecord {
  id: string;
  /** 8-char sweep id */
  name: string;
  displayName: string | null;
  /** UPPERCASE: PENDING | RUNNING | PAUSED | CANCELED | FINISHED ... */
  state: string;
  method: string;
  /** YAML text as W&B stores it */
  config: string;
  runCount: number;
  bestLoss: number | null;
  createdAt: string;
  updatedAt: string | null;
}

export type LinkDirection = 'input' | 'output';

/** An artifact version a run used (input) or logged (output); the version may live in another project. */
export interface RunArtifactLink {
  direction: LinkDirection;
  version: VersionRecord;
  /** for inputs: the names the run used it as */
  usedAs: string[];
}

/**
 * The first page of a run's nested listing as it came inline with the runs page. `complete` is true
 * when W&B said there is no next page: then `items` is the whole listing.
 */
export interface InlinePage<T> {
  items: T[];
  complete: boolean;
}

/**
 * One run of a runs listing: its record plus the first page of its files and of its input/output
 * artifacts. An inline part is null when it was not asked for or could not be read; the per-run
 * listing is then fetched as usual.
 */
export interface ListedRun {
  record: RunRecord;
  files: InlinePage<RunFileRecord> | null;
  inputArtifacts: InlinePage<RunArtifactLink> | null;
  outputArtifacts: InlinePage<RunArtifactLink> | null;
}

/** The collection an artifact version is browsed through, and its version name there ('v3'). */
export interface MembershipScope {
  entity: string;
  project: string;
  collection: string;
  version: string;
}

/** Where the bytes of one file come from; the download layer turns it into a (fresh) signed URL. */
export type FileLocator =
  | { kind: 'run-file'; entity: string; project: string; run: string; name: string }
  | {
      kind: 'artifact-file';
      artifactId: string;
      path: string;
      /** file URLs are asked through this membership when known (registry access needs it) */
      via?: MembershipScope;
    };

/** A page of a listing, as yielded by the fetchers. */
export type Page<T> = T[];

/**
 * A downloadable byte range of one stored file, as the API layer hands it out. It is declared here, not
 * imported from src/blobs: the blob cache declares the same shape as its own RangeSource, and
 * src/app.ts passes one where the other is expected (they must stay structurally compatible).
 */
export interface RangeSource {
  /**
   * Streams bytes [start, endExclusive) in order into `sink`, awaiting each call (back-pressure).
   * Resolves when the range is complete; rejects with a typed error otherwise (bytes already handed
   * to `sink` are valid). Expired signed URLs are refreshed here, not by the caller.
   */
  fetchRange(
    start: number,
    endExclusive: number,
    sink: (chunk: Buffer) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void>;
  /**
   * Optional: one attempt at a small range straight into `buf` (length endExclusive - start), for
   * a random reader's urgent miss: no retries, no queue behind background chunks, bounded by the
   * source's own timeouts; a failure only means the reader waits for the range's chunk, whose fetch
   * has the retries. Returns null when the source cannot do it now (the caller then uses fetchRange).
   */
  fetchSmall?(start: number, endExclusive: number, buf: Buffer): Promise<void> | null;
  /** Human label for logs and status.json (e.g. 'entity/project/run/output.log'); never a signed URL. */
  describe(): string;
}
