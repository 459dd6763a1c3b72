import type {
  CollectionRecord,
  ProjectRecord,
  RunArtifactLink,
  RunRecord,
  SweepRecord,
  VersionRecord,
} from '../../api/types.js';
import type { ListingState } from '../freshness.js';

/**
 * The rows the store hands out, and the one place that decodes SQLite rows (migrations/001_meta.sql
 * columns) into them.
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

/** A child of a files/ directory with its file's row, or null for a directory. */
export interface ChildEntry<R> {
  name: string;
  row: R | null;
}

export interface EntityInfo {
  name: string;
  id: string | null;
  createdAt: string | null;
}

/** Paths a placement could not make safe; the caller logs them. */
export type Skipped = { path: string; reason: string }[];

/** A row as better-sqlite3 returns it. */
export type Row = Record<string, unknown>;

export const str = (r: Row, k: string): string => String(r[k]);
export const num = (r: Row, k: string): number => Number(r[k]);
export const strOrNull = (r: Row, k: string): string | null =>
  r[k] === null || r[k] === undefined ? null : String(r[k]);
function parse<T>(r: Row, k: string): T {
  return JSON.parse(str(r, k)) as T;
}

/** The `fs_name` column of each row: what a directory listing shows. */
export function fsNames(rows: Row[]): string[] {
  return rows.map((r) => str(r, 'fs_name'));
}

/** Parses a JSON column on first use: most lookups walk through a row without reading its record. */
function lazyRecord<T extends object, R>(row: T, r: Row, k: string): T & { record: R } {
  const raw = str(r, k);
  return lazyLoaded<T, R>(row, () => raw);
}

/** `record` parsed from what `load` returns, called on first use only. */
function lazyLoaded<T extends object, R>(row: T, load: () => string): T & { record: R } {
  let parsed: R | undefined;
  return Object.defineProperty(row, 'record', {
    enumerable: true,
    get: () => (parsed ??= JSON.parse(load()) as R),
  }) as T & { record: R };
}

export function toListing(key: string, r: Row): ListingRow {
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

export function toEntity(r: Row): EntityInfo {
  return { name: str(r, 'name'), id: strOrNull(r, 'id'), createdAt: strOrNull(r, 'created_at') };
}

export function toProject(r: Row): ProjectRow {
  const row = {
    pk: num(r, 'pk'),
    entity: str(r, 'entity'),
    name: str(r, 'name'),
    fsName: str(r, 'fs_name'),
  };
  return lazyRecord<typeof row, ProjectRecord>(row, r, 'record');
}

export function toRun(r: Row): RunRow {
  return lazyRecord<RunColumns, RunRecord>(runColumns(r), r, 'record');
}

/**
 * A run row read without its record (config and summary, often kilobytes), which `loadRecord`
 * reads on first use: for listings that resolve every run at once and rarely read one record.
 */
export function toRunDeferred(r: Row, loadRecord: () => string): RunRow {
  return lazyLoaded<RunColumns, RunRecord>(runColumns(r), loadRecord);
}

type RunColumns = Omit<RunRow, 'record'>;

function runColumns(r: Row): RunColumns {
  return {
    pk: num(r, 'pk'),
    projectPk: num(r, 'project_pk'),
    name: str(r, 'name'),
    fsName: strOrNull(r, 'fs_name') ?? str(r, 'name'),
    state: strOrNull(r, 'state'),
    mtimeMs: num(r, 'mtime_ms'),
  };
}

/** `fsName` is the name it was looked up by (the row's `fs_name`). */
export function toFile(r: Row, fsName: string): FileRow {
  return {
    name: str(r, 'name'),
    fsName,
    sizeBytes: num(r, 'size_bytes'),
    md5: strOrNull(r, 'md5'),
    updatedAt: strOrNull(r, 'updated_at'),
  };
}

export function toRunArtifact(r: Row, direction: 'input' | 'output'): RunArtifactRow {
  return {
    direction,
    artifactId: str(r, 'artifact_id'),
    collection: str(r, 'collection'),
    typeName: str(r, 'type_name'),
    entity: str(r, 'entity'),
    project: str(r, 'project'),
    versionIndex: num(r, 'version_index'),
    link: parse<RunArtifactLink>(r, 'record'),
  };
}

export function toCollection(r: Row, projectPk: number, fsName: string): CollectionRow {
  return {
    pk: num(r, 'pk'),
    projectPk,
    typeName: str(r, 'type_name'),
    name: str(r, 'name'),
    fsName,
    record: parse<CollectionRecord>(r, 'record'),
  };
}

export function toVersion(r: Row, collectionPk: number, versionIndex: number): VersionRow {
  return {
    collectionPk,
    versionIndex,
    artifactId: str(r, 'artifact_id'),
    state: str(r, 'state'),
    record: parse<VersionRecord>(r, 'record'),
  };
}

export function toAlias(r: Row): AliasRow {
  return { alias: str(r, 'alias'), fsName: str(r, 'fs_name'), versionIndex: num(r, 'version_index') };
}

/** `fsName` is the name it was looked up by (the row's `fs_name`). */
export function toEntry(r: Row, fsName: string): EntryRow {
  return {
    path: str(r, 'path'),
    fsName,
    digest: str(r, 'digest'),
    sizeBytes: num(r, 'size_bytes'),
    ref: strOrNull(r, 'ref'),
  };
}

export function toSweep(r: Row): SweepRow {
  return {
    pk: num(r, 'pk'),
    projectPk: num(r, 'project_pk'),
    name: str(r, 'name'),
    fsName: strOrNull(r, 'fs_name') ?? str(r, 'name'),
    record: parse<SweepRecord>(r, 'record'),
  };
}
