import type {
  ArtifactTypeRecord,
  CollectionRecord,
  EntityRecord,
  FileLocator,
  ListedRun,
  Manifest,
  Page,
  ProjectRecord,
  RangeSource,
  RunArtifactLink,
  RunFileRecord,
  RunRecord,
  SweepRecord,
  VersionRecord,
  ViewerRecord,
} from './types.js';

/**
 * Everything the rest of wandbfs may ask of W&B. Listings are async iterators over pages (the
 * fetchers follow first/after until hasNextPage is false; no silent cap). Single-object getters
 * return null when W&B answers null (not found). Failures are the typed errors of api/errors.ts.
 * All calls go through the shared GraphQL / download concurrency limits and the retry policy.
 */
export interface WandbApi {
  viewer(signal?: AbortSignal): Promise<ViewerRecord>;
  entity(name: string, signal?: AbortSignal): Promise<EntityRecord | null>;
  project(entity: string, project: string, signal?: AbortSignal): Promise<ProjectRecord | null>;
  listProjects(entity: string, signal?: AbortSignal): AsyncIterable<Page<ProjectRecord>>;

  run(entity: string, project: string, runName: string, signal?: AbortSignal): Promise<RunRecord | null>;
  /**
   * Runs of a project, each with the first page of its files and input/output artifacts; an inline
   * page marked complete is the whole listing, so listRunFiles / listRunArtifacts are not needed.
   */
  listRuns(entity: string, project: string, signal?: AbortSignal): AsyncIterable<Page<ListedRun>>;
  listRunFiles(
    entity: string,
    project: string,
    runName: string,
    signal?: AbortSignal,
  ): AsyncIterable<Page<RunFileRecord>>;
  listRunArtifacts(
    entity: string,
    project: string,
    runName: string,
    direction: 'input' | 'output',
    signal?: AbortSignal,
  ): AsyncIterable<Page<RunArtifactLink>>;

  listArtifactTypes(
    entity: string,
    project: string,
    signal?: AbortSignal,
  ): AsyncIterable<Page<ArtifactTypeRecord>>;
  listCollections(
    entity: string,
    project: string,
    typeName: string,
    signal?: AbortSignal,
  ): AsyncIterable<Page<CollectionRecord>>;
  listVersions(
    entity: string,
    project: string,
    typeName: string,
    collection: string,
    signal?: AbortSignal,
  ): AsyncIterable<Page<VersionRecord>>;
  /** Downloads and validates the manifest of an artifact version (by Artifact.id). */
  manifest(artifactId: string, signal?: AbortSignal): Promise<Manifest>;

  listSweeps(entity: string, project: string, signal?: AbortSignal): AsyncIterable<Page<SweepRecord>>;
  /** Run names (Run.name) of a sweep's runs. */
  listSweepRunNames(
    entity: string,
    project: string,
    sweepName: string,
    signal?: AbortSignal,
  ): AsyncIterable<Page<string>>;

  /**
   * A ranged byte source for one file; resolves and refreshes signed URLs itself. With
   * `expectedSize`, storage reporting another size fails with ContentChangedError (core/errors.ts).
   */
  rangeSource(locator: FileLocator, label: string, expectedSize?: number): RangeSource;
  /**
   * Rejects with RegistryDownloadDeniedError when W&B refuses this file's URLs through the W&B
   * Registry collection it is browsed in; resolves for every other file, and when W&B cannot tell
   * (offline, a transient failure: the read reports those, and the cache may still serve it).
   * The URLs it fetches are the ones the download then uses.
   */
  admitDownload(locator: FileLocator, label: string, signal?: AbortSignal): Promise<void>;

  /** Counters for status.json: requests, retries, throttling seen. */
  stats(): ApiStats;
}

export interface ApiStats {
  graphqlRequests: number;
  storageRequests: number;
  retries: number;
  rateLimited: number;
  lastThrottleAtMs: number | null;
}
