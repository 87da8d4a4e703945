-- Version 6: small extents inline. An extent is either a file under the data dir (file set)
-- or, for bodies up to LIMIT_INLINE_BYTES (128 KiB since 2026-11-30; 64 KiB before), bytes kept in extent_bytes (file NULL):
-- a small Put Blob or Put Block then creates no file at all. Bytes sit in their own table so
-- that reference counting rewrites a small extents row, not the bytes. Ids are never reused
-- (AUTOINCREMENT): a reader holding an id across transactions cannot see another extent's
-- bytes. The table is rebuilt to let file be NULL; existing ids are kept.

CREATE TABLE extents_v6 (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    file TEXT,                   -- path relative to the data dir; NULL for an inline extent
    size INTEGER NOT NULL,
    refs INTEGER NOT NULL
);
INSERT INTO extents_v6 (id, file, size, refs) SELECT id, file, size, refs FROM extents;
DROP TABLE extents;
ALTER TABLE extents_v6 RENAME TO extents;
CREATE UNIQUE INDEX extents_by_file ON extents (file) WHERE file IS NOT NULL;

CREATE TABLE extent_bytes (
    extent_id INTEGER PRIMARY KEY,   -- extents.id of an inline extent
    data      BLOB NOT NULL
);
