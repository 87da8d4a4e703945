-- Version 3: SharePoint content (sp_model.c) and the principals of the SharePoint listener
-- (sp_auth.c).
--
-- Items (folders and files with their list items) carry pending_job: 0 for live rows, else
-- the sp_imports row that staged them. Every index on sp_items leads with pending_job, so the
-- same UNIQUE indexes keep live paths, ids and int ids unique and, separately, those of each
-- staged job; reads ask for pending_job = 0, and a commit reveals a job with one UPDATE.
-- Paths, names, titles, urls and logins compare case-insensitively (COLLATE NOCASE, ASCII).

CREATE TABLE sp_sites (
    id               INTEGER PRIMARY KEY,
    uuid             TEXT NOT NULL UNIQUE,           -- SPSite.Id
    web_uuid         TEXT NOT NULL UNIQUE,           -- SPWeb.Id
    root_folder_uuid TEXT NOT NULL,                  -- the web's root folder (not an item)
    url              TEXT NOT NULL COLLATE NOCASE UNIQUE,
    title            TEXT NOT NULL,
    created_ms       INTEGER NOT NULL
);

CREATE TABLE sp_lists (
    id               INTEGER PRIMARY KEY,
    site_id          INTEGER NOT NULL,
    uuid             TEXT NOT NULL UNIQUE,
    root_folder_uuid TEXT NOT NULL,                  -- also the uuid of its int_id 0 item
    title            TEXT NOT NULL COLLATE NOCASE,
    root_url         TEXT NOT NULL COLLATE NOCASE,
    base_template    INTEGER NOT NULL,
    created_ms       INTEGER NOT NULL,
    modified_ms      INTEGER NOT NULL,
    item_count       INTEGER NOT NULL DEFAULT 0,     -- live files and folders, root excluded
    next_int_id      INTEGER NOT NULL DEFAULT 1,     -- never reused, like SharePoint's
    UNIQUE (site_id, title)
);

CREATE TABLE sp_users (
    id    INTEGER PRIMARY KEY,
    login TEXT NOT NULL COLLATE NOCASE UNIQUE,
    title TEXT,
    email TEXT
);

-- One row per import between spm_import_begin and its commit or abort; rows left at start
-- belong to jobs a crash interrupted.
CREATE TABLE sp_imports (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,    -- never reused: it tags staged rows
    job_uuid   TEXT NOT NULL,
    list_id    INTEGER NOT NULL,
    started_ms INTEGER NOT NULL
);

CREATE TABLE sp_items (
    id          INTEGER PRIMARY KEY,
    pending_job INTEGER NOT NULL DEFAULT 0,
    list_id     INTEGER NOT NULL,
    int_id      INTEGER NOT NULL,                    -- 0 for the library's root folder
    uuid        TEXT NOT NULL,                       -- File/Folder UniqueId
    item_uuid   TEXT NOT NULL,                       -- the list item's GUID
    parent_uuid TEXT NOT NULL,
    is_folder   INTEGER NOT NULL,
    path        TEXT NOT NULL COLLATE NOCASE,        -- server-relative
    name        TEXT NOT NULL COLLATE NOCASE,
    size        INTEGER NOT NULL DEFAULT 0,          -- files: current version's length
    version     TEXT,                                -- files: current version's label
    created_ms  INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    author_id   INTEGER NOT NULL,
    editor_id   INTEGER NOT NULL
);
CREATE UNIQUE INDEX sp_items_by_path ON sp_items (pending_job, path);
CREATE UNIQUE INDEX sp_items_by_uuid ON sp_items (pending_job, uuid);
CREATE UNIQUE INDEX sp_items_by_int_id ON sp_items (pending_job, list_id, int_id);
CREATE INDEX sp_items_by_parent ON sp_items (pending_job, parent_uuid, is_folder, name);

-- Versions of a file, seq 0 the oldest; the highest seq is the current version.
CREATE TABLE sp_versions (
    item_id    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    label      TEXT NOT NULL,
    major      INTEGER NOT NULL,
    minor      INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    author_id  INTEGER NOT NULL,
    comment    TEXT,
    extent_id  INTEGER NOT NULL,
    PRIMARY KEY (item_id, seq)
) WITHOUT ROWID;

-- Principals of the SharePoint listener. Only the SHA-256 of a bearer token is kept.
CREATE TABLE sp_principals (
    id         INTEGER PRIMARY KEY,
    login      TEXT NOT NULL COLLATE NOCASE UNIQUE,
    role       INTEGER NOT NULL,                     -- enum spa_role
    token_hash BLOB NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX sp_principals_by_token ON sp_principals (token_hash);

CREATE TABLE sp_site_roles (
    principal_id INTEGER NOT NULL,
    site_id      INTEGER NOT NULL,
    role         INTEGER NOT NULL,                   -- SPA_SITE_OWNER or SPA_MEMBER
    PRIMARY KEY (principal_id, site_id)
) WITHOUT ROWID;
