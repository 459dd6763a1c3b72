import type { EntityRecord, VersionRecord } from '../../api/types.js';
import type { Fetchers } from '../fetchers.js';
import type { Ttls } from '../freshness.js';
import type {
  CollectionRow,
  EntryRow,
  FileRow,
  MetaStore,
  ProjectRow,
  RunArtifactRow,
  RunRow,
  SweepRow,
} from '../store/index.js';
import type { Fetch } from '../sync.js';
import type { DirEntry, Node } from '../types.js';
import type { AppUrls } from '../urls.js';

/** Which of a run's artifact links: the versions it used, or the ones it logged. */
export type Direction = 'input' | 'output';

/** An artifact version as the tree shows it, whether reached from artifacts/ or from a run. */
export interface VersionInfo {
  record: VersionRecord;
  committed: boolean;
  mtimeMs: number;
  url: string;
  /** how the run used it; only under runs/<run>/artifacts/input/ */
  usedAs?: string[];
}

/** A run's links to the versions of one collection: one directory under artifacts/input|output/. */
export interface LinkGroup {
  fsName: string;
  links: RunArtifactRow[];
}

/** What a path resolved to: its kind and the rows needed to answer for it. */
export type Ctx =
  | { kind: 'root' }
  | { kind: 'entity'; entity: string; mtimeMs: number }
  | { kind: 'project'; project: ProjectRow }
  | { kind: 'runs'; project: ProjectRow }
  | { kind: 'artifacts'; project: ProjectRow }
  | { kind: 'sweeps'; project: ProjectRow }
  | { kind: 'run'; project: ProjectRow; run: RunRow }
  | { kind: 'run-meta'; project: ProjectRow; run: RunRow }
  /** `dir` is the path below files/ ('' for files/ itself) */
  | { kind: 'run-files'; project: ProjectRow; run: RunRow; dir: string }
  | { kind: 'run-file'; project: ProjectRow; run: RunRow; file: FileRow }
  | { kind: 'run-artifacts'; project: ProjectRow; run: RunRow }
  | { kind: 'run-artifacts-direction'; project: ProjectRow; run: RunRow; direction: Direction }
  | {
      kind: 'run-artifacts-collection';
      project: ProjectRow;
      run: RunRow;
      direction: Direction;
      group: LinkGroup;
    }
  | { kind: 'collection'; project: ProjectRow; collection: CollectionRow }
  | { kind: 'version'; version: VersionInfo }
  | { kind: 'version-meta'; version: VersionInfo }
  /** `dir` is the path below files/ ('' for files/ itself) */
  | { kind: 'version-files'; version: VersionInfo; dir: string }
  | { kind: 'version-file'; version: VersionInfo; entry: EntryRow }
  | { kind: 'sweep'; project: ProjectRow; sweep: SweepRow }
  | { kind: 'sweep-meta'; project: ProjectRow; sweep: SweepRow }
  | { kind: 'sweep-runs'; project: ProjectRow; sweep: SweepRow }
  | { kind: 'link'; target: string; mtimeMs: number; immutable: boolean };

export type KindName = Ctx['kind'];
export type CtxOf<K extends KindName> = Extract<Ctx, { kind: K }>;

/** One listing a directory's children come from: its store key, how long it stays fresh, its fetch. */
export interface Listing {
  key: string;
  ttlMs: number;
  fetch: Fetch;
}

/** What the kinds share, handed to every call by the tree (no module keeps state of its own). */
export interface TreeEnv {
  readonly store: MetaStore;
  readonly fetchers: Fetchers;
  readonly ttls: Ttls;
  readonly urls: AppUrls;
  /** the mtime of what has no time of its own (the root; an entity W&B gives no creation time) */
  readonly startedAtMs: number;
  /** the listings behind any path (dispatched by kind): what a directory may build on */
  listings(ctx: Ctx): Listing[];
  /** waits for `ctx`'s listings when never fetched; revalidates stale ones in the background */
  ensure(ctx: Ctx): Promise<void>;
  /** asks W&B about an entity no listing shows (briefly remembered when missing); stores it */
  remoteEntity(name: string): Promise<EntityRecord | null>;
  /** asks W&B about a project no listing shows (briefly remembered when missing); stores it */
  remoteProject(entity: string, name: string): Promise<ProjectRow | null>;
}

/** A directory entry and the context its path resolves to. */
export interface ResolvedEntry extends DirEntry {
  ctx: Ctx;
}

/** What the tree does with one kind of path. */
export interface PathKind<C extends Ctx> {
  /** what `name` inside this directory is; absent for files and links */
  child?(env: TreeEnv, ctx: C, name: string): Promise<Ctx | null>;
  /** the directory's entries, read once its listings are ensured; absent when not a directory */
  children?(env: TreeEnv, ctx: C): DirEntry[];
  /**
   * The entries with what each resolves to, from one store read, used instead of `children` where
   * present: readdir hands them to the path cache, so the getattr of every entry that follows a
   * listing (`ls -l`, `find`) is a map read instead of a query per entry. Each must be what `child`
   * would resolve that name to.
   */
  resolvedChildren?(env: TreeEnv, ctx: C): ResolvedEntry[];
  node(env: TreeEnv, ctx: C, path: string): Node;
  /** the listings its children come from (default: none) */
  listings?(env: TreeEnv, ctx: C): Listing[];
  /** what `refresh` re-lists at once, when not `listings` (fixed directories re-list their contents) */
  refreshListings?(env: TreeEnv, ctx: C): Listing[];
  /** key prefixes `refresh` marks stale: every listing at or below this path */
  stalePrefixes(env: TreeEnv, ctx: C): string[];
}

/** The kinds named K, each implemented for exactly its own context: a missing one does not compile. */
export type KindTable<K extends KindName = KindName> = { [P in K]: PathKind<CtxOf<P>> };

export function dirEntries(names: readonly string[]): DirEntry[] {
  return names.map((name) => ({ name, kind: 'dir' }));
}

export function joinDir(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
