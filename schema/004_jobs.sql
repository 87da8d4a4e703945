-- Version 4: migration jobs, their event logs, and every name ever provisioned.

CREATE TABLE jobs (
    uuid         TEXT PRIMARY KEY,
    site_id      INTEGER NOT NULL,
    web_uuid     TEXT NOT NULL,
    source_uri   TEXT NOT NULL,
    manifest_uri TEXT NOT NULL,
    queue_uri    TEXT,
    encrypted    INTEGER NOT NULL,
    state        INTEGER NOT NULL,   -- 2 queued, 4 processing, 0 ended
    attempt      INTEGER NOT NULL DEFAULT 0,
    owner_id     INTEGER NOT NULL,
    created_ms   INTEGER NOT NULL,
    started_ms   INTEGER,
    ended_ms     INTEGER
) WITHOUT ROWID;
CREATE INDEX jobs_by_state ON jobs (state, created_ms);
CREATE INDEX jobs_by_site ON jobs (site_id, state);

CREATE TABLE job_events (
    job_uuid TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    time_ms  INTEGER NOT NULL,
    json     TEXT NOT NULL,
    PRIMARY KEY (job_uuid, seq)
) WITHOUT ROWID;

-- Containers and queues handed out by Provision*: a name is never handed out twice.
CREATE TABLE provisioned (
    name       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,        -- 'container' or 'queue'
    site_id    INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    expiry_ms  INTEGER NOT NULL      -- when its SAS expires
) WITHOUT ROWID;
