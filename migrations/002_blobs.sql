-- Blob cache index (src/blobs/blob-index.ts). Files under blobs/ are the truth for presence; these
-- rows add what the file system cannot tell us reliably: our own access times, pins, chunk maps.

-- A complete, verified blob at blobs/<algo>/<hex[0:2]>/<hex>. key = '<algo>:<hex>'.
CREATE TABLE blob (
  key TEXT PRIMARY KEY,
  size_bytes INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  accessed_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX blob_by_access ON blob (accessed_at_ms);

-- A download in progress (or interrupted) at partial/<algo>-<hex>. owner_pid is the process filling
-- it (NULL: nobody; a dead pid: free to take over and resume).
CREATE TABLE blob_partial (
  key TEXT PRIMARY KEY,
  size_bytes INTEGER NOT NULL,
  chunk_bytes INTEGER NOT NULL,
  owner_pid INTEGER,
  owner_token TEXT,
  started_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- Chunks of a partial whose bytes were fdatasync'ed before the row was written.
CREATE TABLE blob_partial_chunk (
  key TEXT NOT NULL REFERENCES blob_partial (key) ON DELETE CASCADE,
  chunk_index INTEGER NOT NULL,
  PRIMARY KEY (key, chunk_index)
) WITHOUT ROWID;

-- Open readers per process; rows of dead processes are purged before any eviction decision.
CREATE TABLE blob_pin (
  key TEXT NOT NULL,
  pid INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key, pid)
) WITHOUT ROWID;

-- Lifetime counters (hits, misses, bytes downloaded, ...) summed over every process.
CREATE TABLE blob_counter (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
