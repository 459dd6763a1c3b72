-- A run, collection, version or sweep leaves the tree only when two complete listings in a row
-- lack it (or its own query says it is gone): the real server's offset-paged listings can skip a
-- row once when rows are inserted while a client pages through them. `missed` counts the complete
-- listings in a row that lacked the row; any sighting resets it.
ALTER TABLE runs ADD COLUMN missed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE collections ADD COLUMN missed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE versions ADD COLUMN missed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sweeps ADD COLUMN missed INTEGER NOT NULL DEFAULT 0;
