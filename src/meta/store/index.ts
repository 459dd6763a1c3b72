import type {
  ArtifactTypeRecord,
  CollectionRecord,
  EntityRecord,
  Manifest,
  ProjectRecord,
  RunArtifactLink,
  RunFileRecord,
  RunRecord,
  SweepRecord,
  VersionRecord,
} from '../../api/types.js';
import type { Db } from '../../core/db.js';
import { Collections } from './collections.js';
import { Entities, Projects } from './entities.js';
import { Listings } from './listings.js';
import { Manifests } from './manifests.js';
import type {
  AliasRow,
  ChildEntry,
  ChildRow,
  CollectionRow,
  EntryRow,
  FileRow,
  ListingRow,
  ProjectRow,
  RunArtifactRow,
  RunRow,
  Skipped,
  SweepRow,
  VersionRow,
} from './rows.js';
import { RunArtifacts } from './run-artifacts.js';
import { RunFiles } from './run-files.js';
import { Runs } from './runs.js';
import { Sweeps } from './sweeps.js';
import { transaction } from './tx.js';
import { Versions } from './versions.js';

export type {
  AliasRow,
  ChildEntry,
  ChildRow,
  CollectionRow,
  EntryRow,
  FileRow,
  ListingRow,
  ProjectRow,
  RunArtifactRow,
  RunRow,
  Skipped,
  SweepRow,
  VersionRow,
} from './rows.js';

/**
 * The SQLite side of the metadata layer (migrations/001_meta.sql), one module per table group,
 * each owning its prepared statements; this façade only delegates. Every `*Page` method writes one
 * fetched page in one transaction and re-derives the directory's names in it, so a reader never
 * sees a page half-written or a name assigned twice.
 */
export class MetaStore {
  private readonly listingTable: Listings;
  private readonly entityTable: Entities;
  private readonly projectTable: Projects;
  private readonly runTable: Runs;
  private readonly runFileTable: RunFiles;
  private readonly runArtifactTable: RunArtifacts;
  private readonly collectionTable: Collections;
  private readonly versionTable: Versions;
  private readonly manifestTable: Manifests;
  private readonly sweepTable: Sweeps;

  constructor(private readonly db: Db) {
    this.listingTable = new Listings(db);
    this.entityTable = new Entities(db);
    this.projectTable = new Projects(db, this.listingTable);
    this.runTable = new Runs(db, this.listingTable);
    this.runFileTable = new RunFiles(db);
    this.runArtifactTable = new RunArtifacts(db);
    this.collectionTable = new Collections(db, this.listingTable);
    this.versionTable = new Versions(db);
    this.manifestTable = new Manifests(db);
    this.sweepTable = new Sweeps(db, this.listingTable);
  }

  transaction<T>(fn: () => T): T {
    return transaction(this.db, fn);
  }

  // ---- listings -------------------------------------------------------------------------------

  listing(key: string): ListingRow | null {
    return this.listingTable.get(key);
  }

  /** Starts a fetch pass; rows written during it carry the returned generation. */
  beginPass(key: string, nowMs: number): number {
    return this.listingTable.beginPass(key, nowMs);
  }

  completePass(key: string, nowMs: number): void {
    this.listingTable.completePass(key, nowMs);
  }

  failPass(key: string, nowMs: number, error: string): void {
    this.listingTable.failPass(key, nowMs, error);
  }

  /** Marks `key` and every listing below it (`key/...`) stale. */
  markStale(key: string): number {
    return this.listingTable.markStale(key);
  }

  staleCount(): number {
    return this.listingTable.staleCount();
  }

  lastError(): string | null {
    return this.listingTable.lastError();
  }

  // ---- entities and projects ------------------------------------------------------------------

  putRootEntities(names: { name: string; isTeam: boolean }[], gen: number): void {
    this.entityTable.putRoot(names, gen);
  }

  putEntity(e: EntityRecord): void {
    this.entityTable.put(e);
  }

  rootEntities(): string[] {
    return this.entityTable.root();
  }

  entityByFsName(fsName: string): { name: string; id: string | null; createdAt: string | null } | null {
    return this.entityTable.byFsName(fsName);
  }

  putProjectsPage(entity: string, page: ProjectRecord[], gen: number): void {
    this.projectTable.putPage(entity, page, gen);
  }

  /** A project resolved by name (not necessarily in the entity's listing). */
  putProject(p: ProjectRecord): ProjectRow {
    return this.projectTable.put(p);
  }

  finishProjects(entity: string, gen: number, listingKey: (name: string) => string): void {
    this.projectTable.finish(entity, gen, listingKey);
  }

  projects(entity: string): string[] {
    return this.projectTable.list(entity);
  }

  projectByFsName(entity: string, fsName: string): ProjectRow | null {
    return this.projectTable.byFsName(entity, fsName);
  }

  projectByName(entity: string, name: string): ProjectRow | null {
    return this.projectTable.byName(entity, name);
  }

  // ---- runs -----------------------------------------------------------------------------------

  /** One page of a runs listing; true when names must be re-derived (by finishRuns or settleRuns). */
  putRunsPage(projectPk: number, page: RunRecord[], gen: number): boolean {
    return this.runTable.putPage(projectPk, page, gen);
  }

  /** A single run fetched by id (lookup by run id, or its detail refresh). */
  putRun(projectPk: number, run: RunRecord): RunRow {
    return this.runTable.put(projectPk, run);
  }

  deleteRun(projectPk: number, name: string, listingKey: string): void {
    this.runTable.delete(projectPk, name, listingKey);
  }

  /** After the last page of a complete listing: drop vanished runs, then derive names. */
  finishRuns(projectPk: number, gen: number, listingKey: (name: string) => string, dirty: boolean): void {
    this.runTable.finish(projectPk, gen, listingKey, dirty);
  }

  /** After a listing failed part-way: name what was stored, delete nothing. */
  settleRuns(projectPk: number): void {
    this.runTable.settle(projectPk);
  }

  runs(projectPk: number): string[] {
    return this.runTable.list(projectPk);
  }

  /** The runs of runs/ as rows, in its order (what `runs` names). */
  runRows(projectPk: number): RunRow[] {
    return this.runTable.rows(projectPk);
  }

  runByFsName(projectPk: number, fsName: string): RunRow | null {
    return this.runTable.byFsName(projectPk, fsName);
  }

  runByName(projectPk: number, name: string): RunRow | null {
    return this.runTable.byName(projectPk, name);
  }

  // ---- run files ------------------------------------------------------------------------------

  /** One page of a run's file list; true when a new file arrived (placed by finish/settle). */
  putRunFilesPage(runPk: number, page: RunFileRecord[], gen: number): boolean {
    return this.runFileTable.putPage(runPk, page, gen);
  }

  /** After the last page: drop vanished files and place the rest; returns paths not shown. */
  finishRunFiles(runPk: number, gen: number, dirty: boolean): Skipped {
    return this.runFileTable.finish(runPk, gen, dirty);
  }

  /** After a listing failed part-way: place what was stored, delete nothing. */
  settleRunFiles(runPk: number): Skipped {
    return this.runFileTable.settle(runPk);
  }

  runFileChildren(runPk: number, dir: string): ChildRow[] {
    return this.runFileTable.children(runPk, dir);
  }

  /** runFileChildren with each file's row (null for a directory), in one query. */
  runFileChildEntries(runPk: number, dir: string): ChildEntry<FileRow>[] {
    return this.runFileTable.childFiles(runPk, dir);
  }

  runFile(runPk: number, dir: string, fsName: string): FileRow | null {
    return this.runFileTable.file(runPk, dir, fsName);
  }

  runFileDirExists(runPk: number, parent: string, name: string): boolean {
    return this.runFileTable.dirExists(runPk, parent, name);
  }

  // ---- run input/output artifacts -------------------------------------------------------------

  putRunArtifactsPage(runPk: number, page: RunArtifactLink[], gen: number): void {
    this.runArtifactTable.putPage(runPk, page, gen);
  }

  finishRunArtifacts(runPk: number, direction: 'input' | 'output', gen: number): void {
    this.runArtifactTable.finish(runPk, direction, gen);
  }

  runArtifacts(runPk: number, direction: 'input' | 'output'): RunArtifactRow[] {
    return this.runArtifactTable.list(runPk, direction);
  }

  // ---- artifact types, collections, versions, aliases -----------------------------------------

  putTypesPage(projectPk: number, page: ArtifactTypeRecord[], gen: number): void {
    this.collectionTable.putTypesPage(projectPk, page, gen);
  }

  finishTypes(projectPk: number, gen: number): void {
    this.collectionTable.finishTypes(projectPk, gen);
  }

  putCollectionsPage(projectPk: number, page: CollectionRecord[], gen: number): void {
    this.collectionTable.putPage(projectPk, page, gen);
  }

  finishCollections(
    projectPk: number,
    gen: number,
    listingKey: (typeName: string, name: string) => string,
  ): void {
    this.collectionTable.finish(projectPk, gen, listingKey);
  }

  collections(projectPk: number): string[] {
    return this.collectionTable.list(projectPk);
  }

  collectionByFsName(projectPk: number, fsName: string): CollectionRow | null {
    return this.collectionTable.byFsName(projectPk, fsName);
  }

  putVersionsPage(collectionPk: number, page: VersionRecord[], gen: number): void {
    this.versionTable.putPage(collectionPk, page, gen);
  }

  finishVersions(collectionPk: number, gen: number): void {
    this.versionTable.finish(collectionPk, gen);
  }

  versions(collectionPk: number): number[] {
    return this.versionTable.list(collectionPk);
  }

  version(collectionPk: number, versionIndex: number): VersionRow | null {
    return this.versionTable.get(collectionPk, versionIndex);
  }

  aliases(collectionPk: number): AliasRow[] {
    return this.versionTable.aliases(collectionPk);
  }

  aliasByFsName(collectionPk: number, fsName: string): AliasRow | null {
    return this.versionTable.aliasByFsName(collectionPk, fsName);
  }

  // ---- manifests ------------------------------------------------------------------------------

  /** Replaces the stored manifest of an artifact in one transaction. */
  putManifest(artifactId: string, manifest: Manifest): Skipped {
    return this.manifestTable.put(artifactId, manifest);
  }

  manifestChildren(artifactId: string, dir: string): ChildRow[] {
    return this.manifestTable.children(artifactId, dir);
  }

  /** manifestChildren with each file's entry (null for a directory), in one query. */
  manifestChildEntries(artifactId: string, dir: string): ChildEntry<EntryRow>[] {
    return this.manifestTable.childEntries(artifactId, dir);
  }

  manifestEntry(artifactId: string, dir: string, fsName: string): EntryRow | null {
    return this.manifestTable.entry(artifactId, dir, fsName);
  }

  manifestDirExists(artifactId: string, parent: string, name: string): boolean {
    return this.manifestTable.dirExists(artifactId, parent, name);
  }

  // ---- sweeps ---------------------------------------------------------------------------------

  putSweepsPage(projectPk: number, page: SweepRecord[], gen: number): void {
    this.sweepTable.putPage(projectPk, page, gen);
  }

  finishSweeps(projectPk: number, gen: number, listingKey: (name: string) => string): void {
    this.sweepTable.finish(projectPk, gen, listingKey);
  }

  sweeps(projectPk: number): string[] {
    return this.sweepTable.list(projectPk);
  }

  sweepByFsName(projectPk: number, fsName: string): SweepRow | null {
    return this.sweepTable.byFsName(projectPk, fsName);
  }

  sweepByName(projectPk: number, name: string): SweepRow | null {
    return this.sweepTable.byName(projectPk, name);
  }

  putSweepRunsPage(sweepPk: number, runNames: string[], gen: number): void {
    this.sweepTable.putRunsPage(sweepPk, runNames, gen);
  }

  finishSweepRuns(sweepPk: number, gen: number): void {
    this.sweepTable.finishRuns(sweepPk, gen);
  }

  hasSweepRun(sweepPk: number, projectPk: number, fsName: string): boolean {
    return this.sweepTable.hasRun(sweepPk, projectPk, fsName);
  }

  /** The sweep's runs under their directory names in runs/; runs the project does not have are skipped. */
  sweepRuns(sweepPk: number, projectPk: number): string[] {
    return this.sweepTable.runs(sweepPk, projectPk);
  }
}
