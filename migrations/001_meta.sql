-- Metadata layer (src/meta): W&B records as fetched, the names they are shown under, and the fetch
-- state of every listing. Names (fs_name, dir) are computed by src/meta/naming.ts when a page is
-- written, so lookups and readdirs are indexed queries.

-- Fetch state per listing (a directory's source): when it was last fetched completely, whether a
-- re-list was requested or failed. seen_gen on rows is compared with gen to drop vanished rows.
CREATE TABLE listings (
  key TEXT PRIMARY KEY,
  fetched_at_ms INTEGER,            -- last COMPLETE successful fetch; NULL = never
  complete INTEGER NOT NULL DEFAULT 0,
  stale INTEGER NOT NULL DEFAULT 0, -- forced stale (refresh) or last attempt failed
  gen INTEGER NOT NULL DEFAULT 0,   -- generation of the latest fetch pass
  attempt_at_ms INTEGER,
  error TEXT,
  error_at_ms INTEGER
);

CREATE TABLE entities (
  name TEXT PRIMARY KEY,
  fs_name TEXT NOT NULL,
  id TEXT,
  is_team INTEGER NOT NULL DEFAULT 0,
  created_at TEXT,
  in_root INTEGER NOT NULL DEFAULT 0,  -- listed in '/' (viewer + teams) vs resolved by name only
  seen_gen INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX entities_fs_name ON entities (fs_name);

CREATE TABLE projects (
  pk INTEGER PRIMARY KEY,
  entity TEXT NOT NULL,
  name TEXT NOT NULL,
  id TEXT NOT NULL,
  fs_name TEXT,
  listed INTEGER NOT NULL DEFAULT 0,   -- seen in the entity's project listing
  record TEXT NOT NULL,
  seen_gen INTEGER NOT NULL DEFAULT 0,
  UNIQUE (entity, name)
);
CREATE INDEX projects_fs_name ON projects (entity, fs_name);

CREATE TABLE runs (
  pk INTEGER PRIMARY KEY,
  project_pk INTEGER NOT NULL REFERENCES projects (pk) ON DELETE CASCADE,
  name TEXT NOT NULL,                  -- Run.name, the short run id
  base_name TEXT NOT NULL,             -- sanitized display name
  fs_name TEXT,
  state TEXT,
  mtime_ms INTEGER NOT NULL,
  record TEXT NOT NULL,
  seen_gen INTEGER NOT NULL DEFAULT 0,
  UNIQUE (project_pk, name)
);
CREATE INDEX runs_fs_name ON runs (project_pk, fs_name);

CREATE TABLE run_files (
  run_pk INTEGER NOT NULL REFERENCES runs (pk) ON DELETE CASCADE,
  name TEXT NOT NULL,                  -- path within the run as W&B names it
  dir TEXT,                            -- sanitized parent path under files/ ('' = files/ itself)
  fs_name TEXT,                        -- NULL: could not be made safe, not shown
  size_bytes INTEGER NOT NULL,
  md5 TEXT,
  updated_at TEXT,
  seen_gen INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_pk, name)
);
CREATE INDEX run_files_dir ON run_files (run_pk, dir, fs_name);

CREATE TABLE run_file_dirs (
  run_pk INTEGER NOT NULL REFERENCES runs (pk) ON DELETE CASCADE,
  parent TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (run_pk, parent, name)
);

CREATE TABLE run_artifacts (
  run_pk INTEGER NOT NULL REFERENCES runs (pk) ON DELETE CASCADE,
  direction TEXT NOT NULL CHECK (direction IN ('input', 'output')),
  artifact_id TEXT NOT NULL,
  collection TEXT NOT NULL,
  type_name TEXT NOT NULL,
  entity TEXT NOT NULL,
  project TEXT NOT NULL,
  version_index INTEGER NOT NULL,
  record TEXT NOT NULL,                -- VersionRecord + usedAs
  seen_gen INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_pk, direction, artifact_id, collection)
);

CREATE TABLE artifact_types (
  project_pk INTEGER NOT NULL REFERENCES projects (pk) ON DELETE CASCADE,
  name TEXT NOT NULL,
  id TEXT NOT NULL,
  seen_gen INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (project_pk, name)
);

CREATE TABLE collections (
  pk INTEGER PRIMARY KEY,
  project_pk INTEGER NOT NULL REFERENCES projects (pk) ON DELETE CASCADE,
  type_name TEXT NOT NULL,
  name TEXT NOT NULL,
  id TEXT NOT NULL,
  fs_name TEXT,
  record TEXT NOT NULL,
  seen_gen INTEGER NOT NULL DEFAULT 0,
  UNIQUE (project_pk, type_name, name)
);
CREATE INDEX collections_fs_name ON collections (project_pk, fs_name);

CREATE TABLE versions (
  collection_pk INTEGER NOT NULL REFERENCES collections (pk) ON DELETE CASCADE,
  version_index INTEGER NOT NULL,
  artifact_id TEXT NOT NULL,
  state TEXT NOT NULL,
  record TEXT NOT NULL,
  seen_gen INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (collection_pk, version_index)
);

CREATE TABLE aliases (
  collection_pk INTEGER NOT NULL REFERENCES collections (pk) ON DELETE CASCADE,
  alias TEXT NOT NULL,
  fs_name TEXT NOT NULL,
  version_index INTEGER NOT NULL,
  seen_gen INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (collection_pk, alias)
);
CREATE INDEX aliases_fs_name ON aliases (collection_pk, fs_name);

-- Manifests belong to the artifact (Artifact.id), shared by every collection that links it.
CREATE TABLE manifests (
  artifact_id TEXT PRIMARY KEY,
  entry_count INTEGER NOT NULL,
  rejected TEXT NOT NULL
);

CREATE TABLE manifest_entries (
  artifact_id TEXT NOT NULL REFERENCES manifests (artifact_id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  dir TEXT,
  fs_name TEXT,
  digest TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  ref TEXT,
  birth_artifact_id TEXT,
  PRIMARY KEY (artifact_id, path)
);
CREATE INDEX manifest_entries_dir ON manifest_entries (artifact_id, dir, fs_name);

CREATE TABLE manifest_dirs (
  artifact_id TEXT NOT NULL REFERENCES manifests (artifact_id) ON DELETE CASCADE,
  parent TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (artifact_id, parent, name)
);

CREATE TABLE sweeps (
  pk INTEGER PRIMARY KEY,
  project_pk INTEGER NOT NULL REFERENCES projects (pk) ON DELETE CASCADE,
  name TEXT NOT NULL,                  -- 8-char sweep id
  base_name TEXT NOT NULL,
  fs_name TEXT,
  record TEXT NOT NULL,
  seen_gen INTEGER NOT NULL DEFAULT 0,
  UNIQUE (project_pk, name)
);
CREATE INDEX sweeps_fs_name ON sweeps (project_pk, fs_name);

CREATE TABLE sweep_runs (
  sweep_pk INTEGER NOT NULL REFERENCES sweeps (pk) ON DELETE CASCADE,
  run_name TEXT NOT NULL,
  seen_gen INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (sweep_pk, run_name)
);
