-- The client's incremental state: one SQLite file per source and destination, in the state
-- directory. It remembers every item it has seen with the ids the packages gave it, so a
-- rerun sends only what is new or changed and the import replaces what it sends again.

-- source, site, library, folder, task_id: what this file is about.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- One row per run of `spmig migrate` (a round: R0, R1, ...); a round without ended_ms was
-- interrupted, and the next run resumes it.
CREATE TABLE rounds (
    round INTEGER PRIMARY KEY,
    started_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    status TEXT NOT NULL
) STRICT;

-- Every file and folder ever seen under the source.
CREATE TABLE items (
    rel TEXT PRIMARY KEY,            -- path under the source, '/'-separated
    is_folder INTEGER NOT NULL,
    unique_id TEXT NOT NULL,         -- the UniqueId packages give it, kept across rounds
    item_id TEXT NOT NULL,           -- its list item's id
    size INTEGER,                    -- size and mtime of what was last migrated (NULL: never)
    mtime_ns INTEGER,
    migrated_round INTEGER,          -- round of the last successful import
    reported_round INTEGER,          -- round whose report has its row (no row twice)
    outcome TEXT,                    -- in reported_round: migrated, failed, skipped, filtered
    outcome_size INTEGER             -- the bytes that outcome counted
) STRICT;
CREATE INDEX items_reported ON items (reported_round, outcome);
