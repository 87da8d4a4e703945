-- Version 5: lifecycle. Each provisioned name keeps its schedule and state for ever (a purged
-- name is never handed out again); deadlines holds what the sweeper still has to apply,
-- indexed by due time; audit records provisions, submissions, refusals, deletions, purges.

ALTER TABLE provisioned ADD COLUMN state TEXT NOT NULL DEFAULT 'active';
ALTER TABLE provisioned ADD COLUMN data_delete_ms INTEGER;
ALTER TABLE provisioned ADD COLUMN removal_ms INTEGER;  -- soft-deleted bytes leave the disk
ALTER TABLE provisioned ADD COLUMN purge_ms INTEGER;

CREATE TABLE deadlines (
    due_ms INTEGER NOT NULL,
    name   TEXT NOT NULL,      -- a provisioned name
    action INTEGER NOT NULL,   -- 1 key expiry, 2 de-link data, 3 remove bytes, 4 purge
    PRIMARY KEY (due_ms, name, action)
) WITHOUT ROWID;

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,    -- emulator time
    kind    TEXT NOT NULL,       -- provision, job, refused, key-expired, delinked, removed, purged
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT ''
);
