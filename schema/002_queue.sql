-- Version 2: queues and their messages.
-- A message is found by Get/Peek through messages_by_visibility (ordered by visible_ms, id;
-- expires_ms rides along so expired rows are skipped and counted without touching the
-- table), and by Delete/Update through its rowid, which the pop receipt carries. The GUID
-- clients see is checked against the row, so it needs no index of its own.

CREATE TABLE queues (
    id         INTEGER PRIMARY KEY,
    account    TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    metadata   TEXT NOT NULL DEFAULT '{}',
    UNIQUE (account, name)
);

CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    queue_id      INTEGER NOT NULL,
    msg_id        TEXT NOT NULL,      -- the GUID clients see
    text          TEXT NOT NULL,
    inserted_ms   INTEGER NOT NULL,
    expires_ms    INTEGER NOT NULL,   -- 9999-12-31T23:59:59Z for messagettl=-1
    visible_ms    INTEGER NOT NULL,
    dequeue_count INTEGER NOT NULL DEFAULT 0,
    pop_receipt   TEXT NOT NULL
);
CREATE INDEX messages_by_visibility ON messages (queue_id, visible_ms, id, expires_ms);
