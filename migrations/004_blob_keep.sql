-- Pins a user asked for (`wandbfs warm --pin`, `wandbfs cache pin <path>`): blobs that `cache prune`,
-- `cache clear` and the size-limit eviction leave alone until `wandbfs cache unpin`. Unlike blob_pin
-- (open readers of a live process) these outlive every process. A pin may name a blob that is not
-- downloaded yet: it then protects the blob from the moment it lands.
CREATE TABLE blob_keep (
  key TEXT PRIMARY KEY,
  size_bytes INTEGER NOT NULL,
  -- the mount path it was pinned through, shown to the user; the key is what counts
  label TEXT NOT NULL,
  pinned_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
