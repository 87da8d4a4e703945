-- Version 1: settings, storage accounts, containers, blobs and their bytes.
-- Blob bytes live in extent files under the data dir; a blob is an ordered list of
-- segments, each a whole extent. Extents are shared (snapshots, committed blocks) and
-- counted: a file is removed when its last reference goes.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE accounts (
    name     TEXT PRIMARY KEY,
    key      BLOB NOT NULL,
    internal INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE containers (
    id          INTEGER PRIMARY KEY,
    account     TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    etag        TEXT NOT NULL,
    metadata    TEXT NOT NULL DEFAULT '{}',
    UNIQUE (account, name)
);

CREATE TABLE extents (
    id   INTEGER PRIMARY KEY,
    file TEXT NOT NULL,          -- path relative to the data dir
    size INTEGER NOT NULL,
    refs INTEGER NOT NULL
);
CREATE UNIQUE INDEX extents_by_file ON extents (file);

CREATE TABLE blobs (
    id                  INTEGER PRIMARY KEY,
    container_id        INTEGER NOT NULL REFERENCES containers (id),
    name                TEXT NOT NULL,
    snapshot            TEXT NOT NULL DEFAULT '',   -- '' for the base blob
    size                INTEGER NOT NULL,
    created_ms          INTEGER NOT NULL,
    modified_ms         INTEGER NOT NULL,
    etag                TEXT NOT NULL,
    content_type        TEXT,
    content_encoding    TEXT,
    content_language    TEXT,
    content_disposition TEXT,
    cache_control       TEXT,
    content_md5         BLOB,
    metadata            TEXT NOT NULL DEFAULT '{}',
    UNIQUE (container_id, name, snapshot)
);

CREATE TABLE segments (
    blob_id   INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    extent_id INTEGER NOT NULL,
    size      INTEGER NOT NULL,
    block_id  BLOB,                -- NULL for bytes from Put Blob
    PRIMARY KEY (blob_id, seq)
) WITHOUT ROWID;

-- Uncommitted blocks, per blob name (the blob need not exist yet).
CREATE TABLE blocks (
    container_id INTEGER NOT NULL,
    blob_name    TEXT NOT NULL,
    block_id     BLOB NOT NULL,
    extent_id    INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    created_ms   INTEGER NOT NULL,
    PRIMARY KEY (container_id, blob_name, block_id)
) WITHOUT ROWID;
