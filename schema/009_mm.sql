-- Version 9: Migration Manager (server/mm). Agents with the hash of their credential, agent
-- groups, tasks (their place in the queue, round, progress and own settings), the orders
-- waiting for an agent, the global settings, and the report files agents upload. Every list
-- is paged through an index; nothing is kept in memory.
CREATE TABLE mm_groups (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    created_ms INTEGER NOT NULL
);
INSERT INTO mm_groups (name, created_ms) VALUES ('Default', 0);

CREATE TABLE mm_agents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,                 -- a UUID, the agent's id in the API
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    friendly_name TEXT NOT NULL DEFAULT '',
    grp TEXT NOT NULL DEFAULT 'Default' COLLATE NOCASE,
    enabled INTEGER NOT NULL DEFAULT 1,
    deleted INTEGER NOT NULL DEFAULT 0,      -- trust revoked; the name can be taken over
    secret_hash BLOB,                        -- SHA-256 of the credential's secret part
    trustee INTEGER NOT NULL DEFAULT 0,      -- sp_principals.id of the admin who registered it
    used_ms INTEGER NOT NULL,                -- last use of the credential (7-day expiry)
    seen_ms INTEGER NOT NULL,                -- liveness: last call, or the server's start
    activity_ms INTEGER NOT NULL,            -- last call, as shown (lastActivity)
    version TEXT NOT NULL DEFAULT '',
    host TEXT NOT NULL DEFAULT '',
    shares TEXT NOT NULL DEFAULT '[]',       -- JSON [{"path","readable","error"}]
    max_tasks INTEGER NOT NULL DEFAULT 1,
    free INTEGER NOT NULL DEFAULT -1,        -- free slots the agent last told (-1 unknown)
    created_ms INTEGER NOT NULL
);

CREATE TABLE mm_tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,                 -- a UUID
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    site TEXT NOT NULL DEFAULT '',           -- server-relative; '' for a scan
    library TEXT NOT NULL DEFAULT '',
    folder TEXT NOT NULL DEFAULT '',
    grp TEXT NOT NULL COLLATE NOCASE,
    scan INTEGER NOT NULL DEFAULT 0,         -- created as a scan (POST /scans)
    settings TEXT NOT NULL DEFAULT '{}',     -- the task's own settings (JSON)
    schedule_ms INTEGER,
    status TEXT NOT NULL,
    queued_ms INTEGER NOT NULL,              -- place in the queue: oldest first
    agent TEXT,                              -- the agent id running or holding it
    ran_by TEXT,                             -- the name of the agent that took it last
    resume INTEGER NOT NULL DEFAULT 0,
    round INTEGER NOT NULL DEFAULT 0,
    reruns INTEGER NOT NULL DEFAULT 0,
    files_scanned INTEGER NOT NULL DEFAULT 0,
    bytes_scanned INTEGER NOT NULL DEFAULT 0,
    files_total INTEGER NOT NULL DEFAULT 0,
    bytes_total INTEGER NOT NULL DEFAULT 0,
    files_migrated INTEGER NOT NULL DEFAULT 0,
    bytes_migrated INTEGER NOT NULL DEFAULT 0,
    files_failed INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    started_ms INTEGER,
    completed_ms INTEGER,
    failure_reason TEXT
);
CREATE UNIQUE INDEX mm_tasks_same ON mm_tasks (source, site, library, folder, scan);
CREATE INDEX mm_tasks_queue ON mm_tasks (grp, queued_ms) WHERE status = 'Queued';
CREATE INDEX mm_tasks_due ON mm_tasks (schedule_ms) WHERE status = 'Scheduled';
CREATE INDEX mm_tasks_agent ON mm_tasks (agent) WHERE agent IS NOT NULL;
CREATE INDEX mm_tasks_status ON mm_tasks (status, seq);
CREATE INDEX mm_tasks_scan ON mm_tasks (scan, seq);

-- Orders (pause, resume, cancel) an agent gets with its next heartbeat or progress call.
CREATE TABLE mm_orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    agent TEXT NOT NULL,
    task TEXT NOT NULL,
    kind TEXT NOT NULL
);
CREATE INDEX mm_orders_agent ON mm_orders (agent, task);

CREATE TABLE mm_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    json TEXT NOT NULL
);
INSERT INTO mm_settings (id, json) VALUES (1, '{}');

CREATE TABLE mm_reports (
    task TEXT NOT NULL,
    name TEXT NOT NULL,
    round INTEGER NOT NULL,
    crc32 INTEGER NOT NULL,                  -- of the report's bytes, as zip wants it
    created_ms INTEGER NOT NULL,
    size INTEGER NOT NULL,                   -- the report's bytes
    data BLOB NOT NULL,                      -- those bytes, deflated (raw, as in a zip entry)
    PRIMARY KEY (task, name)
);
