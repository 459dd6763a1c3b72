import type { Db } from '../core/db.js';
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
} from '../api/types.js';
import type { ListingState } from './freshness.js';
import {
  assignNames,
  placeFiles,
  runBase,
  sanitizeSegment,
  shortHash,
  sweepBase,
  type NameItem,
} from './naming.js';
import { runMtimeMs } from './times.js';

/**
 * The SQLite side of the metadata layer: prepared statements over migrations/001_meta.sql. Every
 * `*Page` method writes one fetched page in one transaction and re-derives the directory's names
 * in it, so a reader never sees a page half-written or a name assigned twice.
 */

export interface ListingRow extends ListingState {
  key: string;
  gen: number;
  error: string | null;
}

export interface ProjectRow {
  pk: number;
  entity: string;
  name: string;
  fsName: string;
  record: ProjectRecord;
}

export interface RunRow {
  pk: number;
  projectPk: number;
  name: string;
  fsName: string;
  state: string | null;
  mtimeMs: number;
  record: RunRecord;
}

export interface FileRow {
  name: string;
  fsName: string;
  sizeBytes: number;
  md5: string | null;
  updatedAt: string | null;
}

export interface CollectionRow {
  pk: number;
  projectPk: number;
  typeName: string;
  name: string;
  fsName: string;
  record: CollectionRecord;
}

export interface VersionRow {
  collectionPk: number;
  versionIndex: number;
  artifactId: string;
  state: string;
  record: VersionRecord;
}

export interface AliasRow {
  alias: string;
  fsName: string;
  versionIndex: number;
}

export interface EntryRow {
  path: string;
  fsName: string;
  digest: string;
  sizeBytes: number;
  ref: string | null;
}

export interface SweepRow {
  pk: number;
  projectPk: number;
  name: string;
  fsName: string;
  record: SweepRecord;
}

export interface RunArtifactRow {
  direction: 'input' | 'output';
  artifactId: string;
  collection: string;
  typeName: string;
  entity: string;
  project: string;
  versionIndex: number;
  link: RunArtifactLink;
}

export interface ChildRow {
  name: string;
  kind: 'file' | 'dir';
}

/** Paths a placement could not make safe; the caller logs them. */
export type Skipped = { path: string; reason: string }[];

type Row = Record<string, unknown>;
const str = (r: Row, k: string): string => String(r[k]);
const num = (r: Row, k: string): number => Number(r[k]);
const strOrNull = (r: Row, k: string): string | null =>
  r[k] === null || r[k] === undefined ? null : String(r[k]);
function parse<T>(r: Row, k: string): T {
  return JSON.parse(str(r, k)) as T;
}

/** Parses a JSON column on first use: most lookups walk through a row without reading its record. */
function lazyRecord<T extends object, R>(row: T, r: Row, k: string): T & { record: R } {
  const raw = str(r, k);
  let parsed: R | undefined;
  return Object.defineProperty(row, 'record', {
    enumerable: true,
    get: () => (parsed ??= JSON.parse(raw) as R),
  }) as T & { record: R };
}

export class MetaStore {
  private readonly s;
  /**
   * Listing state read on every path step; kept in memory and written through. Another process
   * sharing the cache dir may refresh a listing without this one noticing: that only costs a
   * refresh of our own, never a wrong answer.
   */
  private readonly listingCache = new Map<string, ListingRow | null>();

  constructor(private readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      listingGet: p('SELECT * FROM listings WHERE key = ?'),
      listingBegin: p(
        `INSERT INTO listings (key, gen, attempt_at_ms) VALUES (?, 1, ?)
         ON CONFLICT (key) DO UPDATE SET gen = gen + 1, attempt_at_ms = excluded.attempt_at_ms
         RETURNING gen`,
      ),
      listingComplete: p(
        'UPDATE listings SET fetched_at_ms = ?, complete = 1, stale = 0, error = NULL, error_at_ms = NULL WHERE key = ?',
      ),
      listingFail: p('UPDATE listings SET stale = 1, error = ?, error_at_ms = ? WHERE key = ?'),
      listingMarkStale: p(
        "UPDATE listings SET stale = 1 WHERE key = ? OR (key >= ? || '/' AND key < ? || '0')",
      ),
      listingDeleteUnder: p("DELETE FROM listings WHERE key = ? OR (key >= ? || '/' AND key < ? || '0')"),
      listingStaleCount: p('SELECT COUNT(*) AS n FROM listings WHERE stale = 1'),
      listingLastError: p(
        'SELECT key, error FROM listings WHERE error IS NOT NULL ORDER BY error_at_ms DESC LIMIT 1',
      ),

      entityUpsert: p(
        `INSERT INTO entities (name, fs_name, id, is_team, created_at, in_root, seen_gen)
         VALUES (@name, @fsName, @id, @isTeam, @createdAt, @inRoot, @gen)
         ON CONFLICT (name) DO UPDATE SET
           id = COALESCE(excluded.id, id), is_team = MAX(is_team, excluded.is_team),
           created_at = COALESCE(excluded.created_at, created_at),
           in_root = MAX(in_root, excluded.in_root), seen_gen = MAX(seen_gen, excluded.seen_gen)`,
      ),
      entityDropFromRoot: p('UPDATE entities SET in_root = 0 WHERE in_root = 1 AND seen_gen < ?'),
      entityRoot: p('SELECT fs_name FROM entities WHERE in_root = 1 ORDER BY fs_name'),
      entityByFs: p('SELECT * FROM entities WHERE fs_name = ? ORDER BY in_root DESC LIMIT 1'),

      projectUpsert: p(
        `INSERT INTO projects (entity, name, id, listed, record, seen_gen)
         VALUES (@entity, @name, @id, @listed, @record, @gen)
         ON CONFLICT (entity, name) DO UPDATE SET id = excluded.id, record = excluded.record,
           listed = MAX(listed, excluded.listed), seen_gen = MAX(seen_gen, excluded.seen_gen)
         RETURNING pk, fs_name`,
      ),
      projectNames: p('SELECT pk, name, id, fs_name FROM projects WHERE entity = ?'),
      projectSetName: p('UPDATE projects SET fs_name = ? WHERE pk = ?'),
      projectDeleteAbsent: p(
        'DELETE FROM projects WHERE entity = ? AND listed = 1 AND seen_gen < ? RETURNING name',
      ),
      projectList: p('SELECT fs_name FROM projects WHERE entity = ? AND listed = 1 ORDER BY fs_name'),
      projectByFs: p('SELECT * FROM projects WHERE entity = ? AND fs_name = ?'),
      projectByName: p('SELECT * FROM projects WHERE entity = ? AND name = ?'),

      runUpsert: p(
        `INSERT INTO runs (project_pk, name, base_name, state, mtime_ms, record, seen_gen)
         VALUES (@projectPk, @name, @base, @state, @mtimeMs, @record, @gen)
         ON CONFLICT (project_pk, name) DO UPDATE SET base_name = excluded.base_name, state = excluded.state,
           mtime_ms = excluded.mtime_ms, record = excluded.record, seen_gen = MAX(seen_gen, excluded.seen_gen)`,
      ),
      runBase: p('SELECT base_name, fs_name FROM runs WHERE project_pk = ? AND name = ?'),
      runNames: p('SELECT pk, name, base_name, fs_name FROM runs WHERE project_pk = ?'),
      runSetName: p('UPDATE runs SET fs_name = ? WHERE pk = ?'),
      runDeleteAbsent: p('DELETE FROM runs WHERE project_pk = ? AND seen_gen < ? RETURNING name'),
      runDelete: p('DELETE FROM runs WHERE project_pk = ? AND name = ?'),
      runList: p('SELECT fs_name FROM runs WHERE project_pk = ? AND fs_name IS NOT NULL ORDER BY fs_name'),
      runByFs: p('SELECT * FROM runs WHERE project_pk = ? AND fs_name = ?'),
      runByName: p('SELECT * FROM runs WHERE project_pk = ? AND name = ?'),

      fileUpsert: p(
        `INSERT INTO run_files (run_pk, name, size_bytes, md5, updated_at, seen_gen)
         VALUES (@runPk, @name, @sizeBytes, @md5, @updatedAt, @gen)
         ON CONFLICT (run_pk, name) DO UPDATE SET size_bytes = excluded.size_bytes, md5 = excluded.md5,
           updated_at = excluded.updated_at, seen_gen = excluded.seen_gen`,
      ),
      fileExists: p('SELECT 1 FROM run_files WHERE run_pk = ? AND name = ?'),
      fileAllNames: p('SELECT name, dir, fs_name FROM run_files WHERE run_pk = ?'),
      fileSetPlace: p('UPDATE run_files SET dir = ?, fs_name = ? WHERE run_pk = ? AND name = ?'),
      fileDeleteAbsent: p('DELETE FROM run_files WHERE run_pk = ? AND seen_gen < ?'),
      fileDirsClear: p('DELETE FROM run_file_dirs WHERE run_pk = ?'),
      fileDirInsert: p('INSERT OR IGNORE INTO run_file_dirs (run_pk, parent, name) VALUES (?, ?, ?)'),
      fileChildren: p(
        `SELECT name, 'dir' AS kind FROM run_file_dirs WHERE run_pk = ? AND parent = ?
         UNION ALL SELECT fs_name AS name, 'file' AS kind FROM run_files WHERE run_pk = ? AND dir = ? AND fs_name IS NOT NULL
         ORDER BY name`,
      ),
      fileByFs: p('SELECT * FROM run_files WHERE run_pk = ? AND dir = ? AND fs_name = ?'),
      fileDirExists: p('SELECT 1 FROM run_file_dirs WHERE run_pk = ? AND parent = ? AND name = ?'),

      runArtUpsert: p(
        `INSERT INTO run_artifacts (run_pk, direction, artifact_id, collection, type_name, entity, project,
           version_index, record, seen_gen)
         VALUES (@runPk, @direction, @artifactId, @collection, @typeName, @entity, @project, @versionIndex, @record, @gen)
         ON CONFLICT (run_pk, direction, artifact_id, collection) DO UPDATE SET type_name = excluded.type_name,
           entity = excluded.entity, project = excluded.project, version_index = excluded.version_index,
           record = excluded.record, seen_gen = excluded.seen_gen`,
      ),
      runArtDeleteAbsent: p('DELETE FROM run_artifacts WHERE run_pk = ? AND direction = ? AND seen_gen < ?'),
      runArtList: p('SELECT * FROM run_artifacts WHERE run_pk = ? AND direction = ?'),

      typeUpsert: p(
        `INSERT INTO artifact_types (project_pk, name, id, seen_gen) VALUES (?, ?, ?, ?)
         ON CONFLICT (project_pk, name) DO UPDATE SET id = excluded.id, seen_gen = excluded.seen_gen`,
      ),
      typeDeleteAbsent: p('DELETE FROM artifact_types WHERE project_pk = ? AND seen_gen < ?'),
      collUpsert: p(
        `INSERT INTO collections (project_pk, type_name, name, id, record, seen_gen)
         VALUES (@projectPk, @typeName, @name, @id, @record, @gen)
         ON CONFLICT (project_pk, type_name, name) DO UPDATE SET id = excluded.id, record = excluded.record,
           seen_gen = excluded.seen_gen
         RETURNING pk, fs_name`,
      ),
      collNames: p('SELECT pk, type_name, name, fs_name FROM collections WHERE project_pk = ?'),
      collSetName: p('UPDATE collections SET fs_name = ? WHERE pk = ?'),
      collDeleteAbsent: p(
        'DELETE FROM collections WHERE project_pk = ? AND seen_gen < ? RETURNING type_name, name',
      ),
      collList: p(
        'SELECT fs_name FROM collections WHERE project_pk = ? AND fs_name IS NOT NULL ORDER BY fs_name',
      ),
      collByFs: p('SELECT * FROM collections WHERE project_pk = ? AND fs_name = ?'),

      versionUpsert: p(
        `INSERT INTO versions (collection_pk, version_index, artifact_id, state, record, seen_gen)
         VALUES (@collectionPk, @versionIndex, @artifactId, @state, @record, @gen)
         ON CONFLICT (collection_pk, version_index) DO UPDATE SET artifact_id = excluded.artifact_id,
           state = excluded.state, record = excluded.record, seen_gen = excluded.seen_gen`,
      ),
      versionDeleteAbsent: p('DELETE FROM versions WHERE collection_pk = ? AND seen_gen < ?'),
      versionList: p('SELECT version_index FROM versions WHERE collection_pk = ? ORDER BY version_index'),
      versionGet: p('SELECT * FROM versions WHERE collection_pk = ? AND version_index = ?'),
      aliasUpsert: p(
        `INSERT INTO aliases (collection_pk, alias, fs_name, version_index, seen_gen) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (collection_pk, alias) DO UPDATE SET version_index = excluded.version_index,
           seen_gen = excluded.seen_gen`,
      ),
      aliasDeleteAbsent: p('DELETE FROM aliases WHERE collection_pk = ? AND seen_gen < ?'),
      aliasAll: p('SELECT alias, fs_name, version_index FROM aliases WHERE collection_pk = ?'),
      aliasSetName: p('UPDATE aliases SET fs_name = ? WHERE collection_pk = ? AND alias = ?'),
      aliasByFs: p(
        `SELECT a.alias, a.fs_name, a.version_index FROM aliases a
         JOIN versions v ON v.collection_pk = a.collection_pk AND v.version_index = a.version_index
         WHERE a.collection_pk = ? AND a.fs_name = ?`,
      ),
      aliasList: p(
        `SELECT a.alias, a.fs_name, a.version_index FROM aliases a
         JOIN versions v ON v.collection_pk = a.collection_pk AND v.version_index = a.version_index
         WHERE a.collection_pk = ? ORDER BY a.fs_name`,
      ),

      manifestDelete: p('DELETE FROM manifests WHERE artifact_id = ?'),
      manifestInsert: p('INSERT INTO manifests (artifact_id, entry_count, rejected) VALUES (?, ?, ?)'),
      entryInsert: p(
        `INSERT INTO manifest_entries (artifact_id, path, dir, fs_name, digest, size_bytes, ref, birth_artifact_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      entryDirInsert: p('INSERT OR IGNORE INTO manifest_dirs (artifact_id, parent, name) VALUES (?, ?, ?)'),
      entryChildren: p(
        `SELECT name, 'dir' AS kind FROM manifest_dirs WHERE artifact_id = ? AND parent = ?
         UNION ALL SELECT fs_name AS name, 'file' AS kind FROM manifest_entries
           WHERE artifact_id = ? AND dir = ? AND fs_name IS NOT NULL
         ORDER BY name`,
      ),
      entryByFs: p('SELECT * FROM manifest_entries WHERE artifact_id = ? AND dir = ? AND fs_name = ?'),
      entryDirExists: p('SELECT 1 FROM manifest_dirs WHERE artifact_id = ? AND parent = ? AND name = ?'),

      sweepUpsert: p(
        `INSERT INTO sweeps (project_pk, name, base_name, record, seen_gen)
         VALUES (@projectPk, @name, @base, @record, @gen)
         ON CONFLICT (project_pk, name) DO UPDATE SET base_name = excluded.base_name, record = excluded.record,
           seen_gen = excluded.seen_gen`,
      ),
      sweepNames: p('SELECT pk, name, base_name, fs_name FROM sweeps WHERE project_pk = ?'),
      sweepSetName: p('UPDATE sweeps SET fs_name = ? WHERE pk = ?'),
      sweepDeleteAbsent: p('DELETE FROM sweeps WHERE project_pk = ? AND seen_gen < ? RETURNING name'),
      sweepList: p(
        'SELECT fs_name FROM sweeps WHERE project_pk = ? AND fs_name IS NOT NULL ORDER BY fs_name',
      ),
      sweepByFs: p('SELECT * FROM sweeps WHERE project_pk = ? AND fs_name = ?'),
      sweepByName: p('SELECT * FROM sweeps WHERE project_pk = ? AND name = ?'),
      sweepRunUpsert: p(
        `INSERT INTO sweep_runs (sweep_pk, run_name, seen_gen) VALUES (?, ?, ?)
         ON CONFLICT (sweep_pk, run_name) DO UPDATE SET seen_gen = excluded.seen_gen`,
      ),
      sweepRunDeleteAbsent: p('DELETE FROM sweep_runs WHERE sweep_pk = ? AND seen_gen < ?'),
      sweepRunList: p(
        `SELECT r.fs_name FROM sweep_runs sr
         JOIN runs r ON r.project_pk = ? AND r.name = sr.run_name
         WHERE sr.sweep_pk = ? AND r.fs_name IS NOT NULL ORDER BY r.fs_name`,
      ),
      sweepRunHas: p(
        `SELECT 1 FROM runs r JOIN sweep_runs sr ON sr.sweep_pk = ? AND sr.run_name = r.name
         WHERE r.project_pk = ? AND r.fs_name = ?`,
      ),
    };
  }

  transaction<T>(fn: () => T): T {
    // IMMEDIATE: take the write lock up front, waiting busy_timeout for another mount sharing the
    // cache dir. A deferred transaction that reads first and then writes fails at once with "database
    // is locked" (SQLITE_BUSY_SNAPSHOT, no busy wait) when another process committed in between.
    return this.db.transaction(fn).immediate();
  }

  // ---- listings -------------------------------------------------------------------------------

  listing(key: string): ListingRow | null {
    const cached = this.listingCache.get(key);
    if (cached !== undefined) return cached;
    const row = this.readListing(key);
    this.listingCache.set(key, row);
    return row;
  }

  private readListing(key: string): ListingRow | null {
    const r = this.s.listingGet.get(key) as Row | undefined;
    if (!r) return null;
    const fetchedAt = r['fetched_at_ms'];
    const errorAt = r['error_at_ms'];
    return {
      key,
      gen: num(r, 'gen'),
      fetchedAtMs: fetchedAt === null ? null : Number(fetchedAt),
      stale: num(r, 'stale') === 1,
      errorAtMs: errorAt === null ? null : Number(errorAt),
      error: strOrNull(r, 'error'),
    };
  }

  /** Starts a fetch pass; rows written during it carry the returned generation. */
  beginPass(key: string, nowMs: number): number {
    this.listingCache.delete(key);
    return num(this.s.listingBegin.get(key, nowMs) as Row, 'gen');
  }

  completePass(key: string, nowMs: number): void {
    this.listingCache.delete(key);
    this.s.listingComplete.run(nowMs, key);
  }

  failPass(key: string, nowMs: number, error: string): void {
    this.listingCache.delete(key);
    this.s.listingFail.run(error, nowMs, key);
  }

  /** Marks `key` and every listing below it (`key/...`) stale. */
  markStale(key: string): number {
    this.listingCache.clear();
    return this.s.listingMarkStale.run(key, key, key).changes;
  }

  private dropListings(key: string): void {
    this.listingCache.clear();
    this.s.listingDeleteUnder.run(key, key, key);
  }

  staleCount(): number {
    return num(this.s.listingStaleCount.get() as Row, 'n');
  }

  lastError(): string | null {
    const r = this.s.listingLastError.get() as Row | undefined;
    return r ? `${str(r, 'key')}: ${str(r, 'error')}` : null;
  }

  // ---- entities -------------------------------------------------------------------------------

  putRootEntities(names: { name: string; isTeam: boolean }[], gen: number): void {
    this.transaction(() => {
      for (const e of names) {
        this.s.entityUpsert.run({
          name: e.name,
          fsName: sanitizeSegment(e.name),
          id: null,
          isTeam: e.isTeam ? 1 : 0,
          createdAt: null,
          inRoot: 1,
          gen,
        });
      }
      this.s.entityDropFromRoot.run(gen);
    });
  }

  putEntity(e: EntityRecord): void {
    this.s.entityUpsert.run({
      name: e.name,
      fsName: sanitizeSegment(e.name),
      id: e.id,
      isTeam: e.isTeam ? 1 : 0,
      createdAt: e.createdAt,
      inRoot: 0,
      gen: 0,
    });
  }

  rootEntities(): string[] {
    return (this.s.entityRoot.all() as Row[]).map((r) => str(r, 'fs_name'));
  }

  entityByFsName(fsName: string): { name: string; id: string | null; createdAt: string | null } | null {
    const r = this.s.entityByFs.get(fsName) as Row | undefined;
    return r ? { name: str(r, 'name'), id: strOrNull(r, 'id'), createdAt: strOrNull(r, 'created_at') } : null;
  }

  // ---- projects -------------------------------------------------------------------------------

  putProjectsPage(entity: string, page: ProjectRecord[], gen: number): void {
    this.transaction(() => {
      for (const p of page) this.upsertProject(p, true, gen);
      this.renameProjects(entity);
    });
  }

  /** A project resolved by name (not necessarily in the entity's listing). */
  putProject(p: ProjectRecord): ProjectRow {
    return this.transaction(() => {
      this.upsertProject(p, false, 0);
      this.renameProjects(p.entityName);
      const row = this.projectByName(p.entityName, p.name);
      if (!row) throw new Error('project vanished inside its own transaction');
      return row;
    });
  }

  finishProjects(entity: string, gen: number, listingKey: (name: string) => string): void {
    this.transaction(() => {
      const gone = this.s.projectDeleteAbsent.all(entity, gen) as Row[];
      for (const g of gone) this.dropListings(listingKey(str(g, 'name')));
      this.renameProjects(entity);
    });
  }

  private upsertProject(p: ProjectRecord, listed: boolean, gen: number): void {
    this.s.projectUpsert.get({
      entity: p.entityName,
      name: p.name,
      id: p.id,
      listed: listed ? 1 : 0,
      record: JSON.stringify(p),
      gen,
    });
  }

  private renameProjects(entity: string): void {
    const rows = this.s.projectNames.all(entity) as Row[];
    const items: NameItem[] = rows.map((r) => ({
      key: str(r, 'name'),
      base: sanitizeSegment(str(r, 'name')),
      disambiguator: str(r, 'id'),
    }));
    this.applyNames(rows, assignNames(items), 'name', (name, pk) => this.s.projectSetName.run(name, pk));
  }

  /** Writes names that changed; rows are keyed by `keyCol`, updated by `pk`. */
  private applyNames(
    rows: Row[],
    names: Map<string, string>,
    keyCol: string,
    set: (name: string, pk: number) => void,
  ) {
    for (const r of rows) {
      const name = names.get(str(r, keyCol));
      if (name !== undefined && name !== strOrNull(r, 'fs_name')) set(name, num(r, 'pk'));
    }
  }

  projects(entity: string): string[] {
    return (this.s.projectList.all(entity) as Row[]).map((r) => str(r, 'fs_name'));
  }

  projectByFsName(entity: string, fsName: string): ProjectRow | null {
    return this.toProject(this.s.projectByFs.get(entity, fsName) as Row | undefined);
  }

  projectByName(entity: string, name: string): ProjectRow | null {
    return this.toProject(this.s.projectByName.get(entity, name) as Row | undefined);
  }

  private toProject(r: Row | undefined): ProjectRow | null {
    if (!r) return null;
    const row = {
      pk: num(r, 'pk'),
      entity: str(r, 'entity'),
      name: str(r, 'name'),
      fsName: str(r, 'fs_name'),
    };
    return lazyRecord<typeof row, ProjectRecord>(row, r, 'record');
  }

  // ---- runs -----------------------------------------------------------------------------------

  /**
   * Writes one page of a runs listing. Names are derived once per listing pass (finishRuns or
   * settleRuns), not per page, which would cost O(runs) per page; new runs are invisible until then.
   * Returns true when names must be re-derived.
   */
  putRunsPage(projectPk: number, page: RunRecord[], gen: number): boolean {
    return this.transaction(() => {
      let dirty = false;
      for (const run of page) dirty = this.upsertRun(projectPk, run, gen) || dirty;
      return dirty;
    });
  }

  /** A single run fetched by id (lookup by run id, or its detail refresh). */
  putRun(projectPk: number, run: RunRecord): RunRow {
    return this.transaction(() => {
      if (this.upsertRun(projectPk, run, 0)) this.renameRuns(projectPk);
      const row = this.runByName(projectPk, run.name);
      if (!row) throw new Error('run vanished inside its own transaction');
      return row;
    });
  }

  /** Returns true when the run is new or its base name changed (names must be re-derived). */
  private upsertRun(projectPk: number, run: RunRecord, gen: number): boolean {
    const base = runBase(run);
    const before = this.s.runBase.get(projectPk, run.name) as Row | undefined;
    this.s.runUpsert.run({
      projectPk,
      name: run.name,
      base,
      state: run.state,
      mtimeMs: runMtimeMs(run),
      record: JSON.stringify(run),
      gen,
    });
    return !before || str(before, 'base_name') !== base || before['fs_name'] === null;
  }

  deleteRun(projectPk: number, name: string, listingKey: string): void {
    this.transaction(() => {
      this.s.runDelete.run(projectPk, name);
      this.dropListings(listingKey);
      this.renameRuns(projectPk);
    });
  }

  /** After the last page of a complete listing: drop vanished runs, then derive names. */
  finishRuns(projectPk: number, gen: number, listingKey: (name: string) => string, dirty: boolean): void {
    this.transaction(() => {
      const gone = this.s.runDeleteAbsent.all(projectPk, gen) as Row[];
      for (const g of gone) this.dropListings(listingKey(str(g, 'name')));
      if (dirty || gone.length > 0) this.renameRuns(projectPk);
    });
  }

  /** After a listing failed part-way: name what was stored, delete nothing. */
  settleRuns(projectPk: number): void {
    this.transaction(() => this.renameRuns(projectPk));
  }

  private renameRuns(projectPk: number): void {
    const rows = this.s.runNames.all(projectPk) as Row[];
    const items: NameItem[] = rows.map((r) => ({
      key: str(r, 'name'),
      base: str(r, 'base_name'),
      disambiguator: str(r, 'name'),
    }));
    this.applyNames(rows, assignNames(items), 'name', (name, pk) => this.s.runSetName.run(name, pk));
  }

  runs(projectPk: number): string[] {
    return (this.s.runList.all(projectPk) as Row[]).map((r) => str(r, 'fs_name'));
  }

  runByFsName(projectPk: number, fsName: string): RunRow | null {
    return this.toRun(this.s.runByFs.get(projectPk, fsName) as Row | undefined);
  }

  runByName(projectPk: number, name: string): RunRow | null {
    return this.toRun(this.s.runByName.get(projectPk, name) as Row | undefined);
  }

  private toRun(r: Row | undefined): RunRow | null {
    if (!r) return null;
    const row = {
      pk: num(r, 'pk'),
      projectPk: num(r, 'project_pk'),
      name: str(r, 'name'),
      fsName: strOrNull(r, 'fs_name') ?? str(r, 'name'),
      state: strOrNull(r, 'state'),
      mtimeMs: num(r, 'mtime_ms'),
    };
    return lazyRecord<typeof row, RunRecord>(row, r, 'record');
  }

  // ---- run files ------------------------------------------------------------------------------

  /**
   * Writes one page of a run's file list; like runs, files are placed in the tree once per pass
   * (finishRunFiles / settleRunFiles). Returns true when a new file arrived.
   */
  putRunFilesPage(runPk: number, page: RunFileRecord[], gen: number): boolean {
    return this.transaction(() => {
      let added = false;
      for (const f of page) {
        if (!added && !this.s.fileExists.get(runPk, f.name)) added = true;
        this.s.fileUpsert.run({
          runPk,
          name: f.name,
          sizeBytes: f.sizeBytes,
          md5: f.md5,
          updatedAt: f.updatedAt,
          gen,
        });
      }
      return added;
    });
  }

  /** After the last page: drop vanished files and place the rest; returns paths not shown. */
  finishRunFiles(runPk: number, gen: number, dirty: boolean): Skipped {
    return this.transaction(() => {
      const gone = this.s.fileDeleteAbsent.run(runPk, gen).changes;
      return dirty || gone > 0 ? this.placeRunFiles(runPk) : [];
    });
  }

  /** After a listing failed part-way: place what was stored, delete nothing. */
  settleRunFiles(runPk: number): Skipped {
    return this.transaction(() => this.placeRunFiles(runPk));
  }

  private placeRunFiles(runPk: number): Skipped {
    const rows = this.s.fileAllNames.all(runPk) as Row[];
    const placement = placeFiles(rows.map((r) => str(r, 'name')));
    const placed = new Map(placement.files.map((f) => [f.path, f]));
    for (const r of rows) {
      const f = placed.get(str(r, 'name'));
      const dir = f ? f.dir : null;
      const fsName = f ? f.name : null;
      if (dir !== strOrNull(r, 'dir') || fsName !== strOrNull(r, 'fs_name')) {
        this.s.fileSetPlace.run(dir, fsName, runPk, str(r, 'name'));
      }
    }
    this.s.fileDirsClear.run(runPk);
    for (const d of placement.dirs) this.s.fileDirInsert.run(runPk, d.parent, d.name);
    return placement.skipped;
  }

  runFileChildren(runPk: number, dir: string): ChildRow[] {
    return this.s.fileChildren.all(runPk, dir, runPk, dir) as ChildRow[];
  }

  runFile(runPk: number, dir: string, fsName: string): FileRow | null {
    const r = this.s.fileByFs.get(runPk, dir, fsName) as Row | undefined;
    if (!r) return null;
    return {
      name: str(r, 'name'),
      fsName,
      sizeBytes: num(r, 'size_bytes'),
      md5: strOrNull(r, 'md5'),
      updatedAt: strOrNull(r, 'updated_at'),
    };
  }

  runFileDirExists(runPk: number, parent: string, name: string): boolean {
    return this.s.fileDirExists.get(runPk, parent, name) !== undefined;
  }

  // ---- run input/output artifacts -------------------------------------------------------------

  putRunArtifactsPage(runPk: number, page: RunArtifactLink[], gen: number): void {
    this.transaction(() => {
      for (const link of page) {
        const v = link.version;
        this.s.runArtUpsert.run({
          runPk,
          direction: link.direction,
          artifactId: v.id,
          collection: v.collectionName,
          typeName: v.typeName,
          entity: v.entityName,
          project: v.projectName,
          versionIndex: v.versionIndex,
          record: JSON.stringify(link),
          gen,
        });
      }
    });
  }

  finishRunArtifacts(runPk: number, direction: 'input' | 'output', gen: number): void {
    this.s.runArtDeleteAbsent.run(runPk, direction, gen);
  }

  runArtifacts(runPk: number, direction: 'input' | 'output'): RunArtifactRow[] {
    return (this.s.runArtList.all(runPk, direction) as Row[]).map((r) => ({
      direction,
      artifactId: str(r, 'artifact_id'),
      collection: str(r, 'collection'),
      typeName: str(r, 'type_name'),
      entity: str(r, 'entity'),
      project: str(r, 'project'),
      versionIndex: num(r, 'version_index'),
      link: parse<RunArtifactLink>(r, 'record'),
    }));
  }

  // ---- artifact types, collections, versions, aliases -----------------------------------------

  putTypesPage(projectPk: number, page: ArtifactTypeRecord[], gen: number): void {
    this.transaction(() => {
      for (const t of page) this.s.typeUpsert.run(projectPk, t.name, t.id, gen);
    });
  }

  finishTypes(projectPk: number, gen: number): void {
    this.s.typeDeleteAbsent.run(projectPk, gen);
  }

  putCollectionsPage(projectPk: number, page: CollectionRecord[], gen: number): void {
    this.transaction(() => {
      let renamed = false;
      for (const c of page) {
        const r = this.s.collUpsert.get({
          projectPk,
          typeName: c.typeName,
          name: c.name,
          id: c.id,
          record: JSON.stringify(c),
          gen,
        }) as Row;
        if (r['fs_name'] === null) renamed = true;
      }
      if (renamed) this.renameCollections(projectPk);
    });
  }

  finishCollections(
    projectPk: number,
    gen: number,
    listingKey: (typeName: string, name: string) => string,
  ): void {
    this.transaction(() => {
      const gone = this.s.collDeleteAbsent.all(projectPk, gen) as Row[];
      for (const g of gone) this.dropListings(listingKey(str(g, 'type_name'), str(g, 'name')));
      if (gone.length > 0) this.renameCollections(projectPk);
    });
  }

  private renameCollections(projectPk: number): void {
    const rows = this.s.collNames.all(projectPk) as Row[];
    const keyOf = (r: Row) => `${str(r, 'type_name')}\0${str(r, 'name')}`;
    const items: NameItem[] = rows.map((r) => ({
      key: keyOf(r),
      base: sanitizeSegment(str(r, 'name')),
      disambiguator: str(r, 'type_name'),
    }));
    const names = assignNames(items);
    for (const r of rows) {
      const name = names.get(keyOf(r));
      if (name !== undefined && name !== strOrNull(r, 'fs_name')) this.s.collSetName.run(name, num(r, 'pk'));
    }
  }

  collections(projectPk: number): string[] {
    return (this.s.collList.all(projectPk) as Row[]).map((r) => str(r, 'fs_name'));
  }

  collectionByFsName(projectPk: number, fsName: string): CollectionRow | null {
    const r = this.s.collByFs.get(projectPk, fsName) as Row | undefined;
    if (!r) return null;
    return {
      pk: num(r, 'pk'),
      projectPk,
      typeName: str(r, 'type_name'),
      name: str(r, 'name'),
      fsName,
      record: parse<CollectionRecord>(r, 'record'),
    };
  }

  putVersionsPage(collectionPk: number, page: VersionRecord[], gen: number): void {
    this.transaction(() => {
      for (const v of page) {
        this.s.versionUpsert.run({
          collectionPk,
          versionIndex: v.versionIndex,
          artifactId: v.id,
          state: v.state,
          record: JSON.stringify(v),
          gen,
        });
        for (const alias of v.aliases) {
          // 'vN' is the version's own directory name, never a second entry for it.
          if (/^v\d+$/.test(alias)) continue;
          this.s.aliasUpsert.run(collectionPk, alias, sanitizeSegment(alias), v.versionIndex, gen);
        }
      }
      this.renameAliases(collectionPk);
    });
  }

  finishVersions(collectionPk: number, gen: number): void {
    this.transaction(() => {
      this.s.versionDeleteAbsent.run(collectionPk, gen);
      this.s.aliasDeleteAbsent.run(collectionPk, gen);
      this.renameAliases(collectionPk);
    });
  }

  private renameAliases(collectionPk: number): void {
    const rows = this.s.aliasAll.all(collectionPk) as Row[];
    const items: NameItem[] = rows.map((r) => ({
      key: str(r, 'alias'),
      base: sanitizeSegment(str(r, 'alias')),
      disambiguator: shortHash(str(r, 'alias')),
    }));
    const names = assignNames(items);
    for (const r of rows) {
      const name = names.get(str(r, 'alias'));
      if (name !== undefined && name !== str(r, 'fs_name'))
        this.s.aliasSetName.run(name, collectionPk, str(r, 'alias'));
    }
  }

  versions(collectionPk: number): number[] {
    return (this.s.versionList.all(collectionPk) as Row[]).map((r) => num(r, 'version_index'));
  }

  version(collectionPk: number, versionIndex: number): VersionRow | null {
    const r = this.s.versionGet.get(collectionPk, versionIndex) as Row | undefined;
    if (!r) return null;
    return {
      collectionPk,
      versionIndex,
      artifactId: str(r, 'artifact_id'),
      state: str(r, 'state'),
      record: parse<VersionRecord>(r, 'record'),
    };
  }

  aliases(collectionPk: number): AliasRow[] {
    return (this.s.aliasList.all(collectionPk) as Row[]).map(toAlias);
  }

  aliasByFsName(collectionPk: number, fsName: string): AliasRow | null {
    const r = this.s.aliasByFs.get(collectionPk, fsName) as Row | undefined;
    return r ? toAlias(r) : null;
  }

  // ---- manifests ------------------------------------------------------------------------------

  /** Replaces the stored manifest of an artifact in one transaction. */
  putManifest(artifactId: string, manifest: Manifest): Skipped {
    return this.transaction(() => {
      this.s.manifestDelete.run(artifactId);
      this.s.manifestInsert.run(artifactId, manifest.entries.length, JSON.stringify(manifest.rejected));
      const placement = placeFiles(manifest.entries.map((e) => e.path));
      const placed = new Map(placement.files.map((f) => [f.path, f]));
      for (const e of manifest.entries) {
        const f = placed.get(e.path);
        this.s.entryInsert.run(
          artifactId,
          e.path,
          f ? f.dir : null,
          f ? f.name : null,
          e.digest,
          e.sizeBytes,
          e.ref,
          e.birthArtifactId,
        );
      }
      for (const d of placement.dirs) this.s.entryDirInsert.run(artifactId, d.parent, d.name);
      return placement.skipped;
    });
  }

  manifestChildren(artifactId: string, dir: string): ChildRow[] {
    return this.s.entryChildren.all(artifactId, dir, artifactId, dir) as ChildRow[];
  }

  manifestEntry(artifactId: string, dir: string, fsName: string): EntryRow | null {
    const r = this.s.entryByFs.get(artifactId, dir, fsName) as Row | undefined;
    if (!r) return null;
    return {
      path: str(r, 'path'),
      fsName,
      digest: str(r, 'digest'),
      sizeBytes: num(r, 'size_bytes'),
      ref: strOrNull(r, 'ref'),
    };
  }

  manifestDirExists(artifactId: string, parent: string, name: string): boolean {
    return this.s.entryDirExists.get(artifactId, parent, name) !== undefined;
  }

  // ---- sweeps ---------------------------------------------------------------------------------

  putSweepsPage(projectPk: number, page: SweepRecord[], gen: number): void {
    this.transaction(() => {
      for (const sw of page) {
        this.s.sweepUpsert.run({
          projectPk,
          name: sw.name,
          base: sweepBase(sw),
          record: JSON.stringify(sw),
          gen,
        });
      }
      this.renameSweeps(projectPk);
    });
  }

  finishSweeps(projectPk: number, gen: number, listingKey: (name: string) => string): void {
    this.transaction(() => {
      const gone = this.s.sweepDeleteAbsent.all(projectPk, gen) as Row[];
      for (const g of gone) this.dropListings(listingKey(str(g, 'name')));
      this.renameSweeps(projectPk);
    });
  }

  private renameSweeps(projectPk: number): void {
    const rows = this.s.sweepNames.all(projectPk) as Row[];
    const items: NameItem[] = rows.map((r) => ({
      key: str(r, 'name'),
      base: str(r, 'base_name'),
      disambiguator: str(r, 'name'),
    }));
    this.applyNames(rows, assignNames(items), 'name', (name, pk) => this.s.sweepSetName.run(name, pk));
  }

  sweeps(projectPk: number): string[] {
    return (this.s.sweepList.all(projectPk) as Row[]).map((r) => str(r, 'fs_name'));
  }

  sweepByFsName(projectPk: number, fsName: string): SweepRow | null {
    return this.toSweep(this.s.sweepByFs.get(projectPk, fsName) as Row | undefined);
  }

  sweepByName(projectPk: number, name: string): SweepRow | null {
    return this.toSweep(this.s.sweepByName.get(projectPk, name) as Row | undefined);
  }

  private toSweep(r: Row | undefined): SweepRow | null {
    if (!r) return null;
    return {
      pk: num(r, 'pk'),
      projectPk: num(r, 'project_pk'),
      name: str(r, 'name'),
      fsName: strOrNull(r, 'fs_name') ?? str(r, 'name'),
      record: parse<SweepRecord>(r, 'record'),
    };
  }

  putSweepRunsPage(sweepPk: number, runNames: string[], gen: number): void {
    this.transaction(() => {
      for (const n of runNames) this.s.sweepRunUpsert.run(sweepPk, n, gen);
    });
  }

  finishSweepRuns(sweepPk: number, gen: number): void {
    this.s.sweepRunDeleteAbsent.run(sweepPk, gen);
  }

  hasSweepRun(sweepPk: number, projectPk: number, fsName: string): boolean {
    return this.s.sweepRunHas.get(sweepPk, projectPk, fsName) !== undefined;
  }

  /** The sweep's runs under their directory names in runs/; runs the project does not have are skipped. */
  sweepRuns(sweepPk: number, projectPk: number): string[] {
    return (this.s.sweepRunList.all(projectPk, sweepPk) as Row[]).map((r) => str(r, 'fs_name'));
  }
}

function toAlias(r: Row): AliasRow {
  return { alias: str(r, 'alias'), fsName: str(r, 'fs_name'), versionIndex: num(r, 'version_index') };
}
