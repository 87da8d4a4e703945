-- Version 2: queues and their messages.

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
    expires_ms    INTEGER NOT NULL,   -- INT64 max for messagettl=-1
    visible_ms    INTEGER NOT NULL,
    dequeue_count INTEGER NOT NULL DEFAULT 0,
    pop_receipt   TEXT NOT NULL
);
CREATE INDEX messages_by_visibility ON messages (queue_id, visible_ms, id);
CREATE UNIQUE INDEX messages_by_msg_id ON messages (queue_id, msg_id);
